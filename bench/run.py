"""ccgen's performance figures, each a ratio against a baseline run in the same session.

    ./dev bench            (or: python bench/run.py [--runs N])

1. The generator as systemd runs it (/usr/bin/python3 -IS, the package on a path
   baked into the script) replaying its precompiled plan, on the bundled OEM + user
   example, against /usr/bin/python3 -IS -c pass.  Target: at most 1.15x (issue 26).
2. The same generator without a plan (a first boot, or changed inputs): a full
   compile.  Target: at most 2.0x.
3. `ccgen --print` on 1000 generated units, whole process, against a whole process
   that loads the same file with PyYAML's C loader.  Target: at most 1.0x.  And
   5000 units: at most 300 ms, growing linearly.
4. The pure-Python path on the 1000-unit config, in process, against PyYAML's pure
   SafeLoader loading the same text.  Target: at most 1.3x.
5. Peak memory (max RSS): replaying, at most 8 MiB; a full compile, at most 16 MiB.

Runs are interleaved (baseline, subject, baseline, ...) and medians are reported, each
interleaved figure with its spread: the middle half of the per-pair ratios.
Every generator run gets a fresh, empty output directory, as systemd gives it.
"""

from __future__ import annotations

import argparse
import os
import platform
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = "/usr/bin/python3"
GNU_TIME = "/usr/bin/time"


def unit_config(n: int) -> str:
    out = ["#cloud-config", "coreos:", "  units:"]
    for i in range(n):
        out += [
            f"    - name: bench-{i}.service",
            "      command: start",
            "      enable: true",
            "      content: |",
            "        [Unit]",
            f"        Description=Benchmark unit number {i} of the generated config",
            "        After=network-online.target",
            "",
            "        [Service]",
            f"        ExecStart=/usr/bin/sleep {i}",
            "        Restart=on-failure",
            "        [Install]",
            "        WantedBy=multi-user.target",
            "      drop-ins:",
            "        - name: 10-env.conf",
            f'          content: "[Service]\\nEnvironment=UNIT_NUMBER={i}\\n"',
        ]
    return "\n".join(out) + "\n"


def site_dir() -> str:
    import ccgen

    return str(Path(ccgen.__file__).resolve().parent.parent)


def script(path: Path, module: str) -> Path:
    """An entry script as a distribution installs it: system python, -IS, a baked path."""
    path.write_text(
        f"#!{SYSTEM_PYTHON} -IS\nimport sys\nsys.path.insert(0, {site_dir()!r})\n"
        f"from ccgen.{module} import main\nsys.exit(main())\n"
    )
    path.chmod(0o755)
    return path


def timed(cmd: list[str], env: dict[str, str]) -> float:
    start = time.perf_counter()
    subprocess.run(cmd, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, check=False)
    return time.perf_counter() - start


class Fresh:
    """A new empty output directory for every run, as systemd empties its own."""

    def __init__(self, base: Path) -> None:
        self.base = base
        self.n = 0

    def __call__(self) -> str:
        self.n += 1
        d = self.base / f"out-{self.n}"
        d.mkdir(parents=True)
        return str(d)


def interleaved(
    a: list[str], b: list[str] | Callable[[], list[str]], env: dict[str, str], runs: int
) -> tuple[float, float]:
    def cmd_b() -> list[str]:
        return b() if callable(b) else b

    xs, ys = [], []
    for _ in range(3):  # warm the page cache
        timed(a, env), timed(cmd_b(), env)
    for _ in range(runs):
        xs.append(timed(a, env))
        ys.append(timed(cmd_b(), env))
    SPREADS.append(spread(xs, ys))
    return statistics.median(xs) * 1000, statistics.median(ys) * 1000


# The spread of each interleaved figure: the quartiles of the ratio within each pair of
# runs (subject over the baseline run just before it), printed after the figure.
SPREADS: list[str] = []


def spread(xs: list[float], ys: list[float]) -> str:
    ratios = sorted(y / x for x, y in zip(xs, ys))
    if len(ratios) < 4:
        return f"pairs {ratios[0]:.2f}x-{ratios[-1]:.2f}x"
    q1, _, q3 = statistics.quantiles(ratios, n=4)
    return f"pairs' middle half {q1:.2f}x-{q3:.2f}x of {len(ratios)}"


def peak_rss(cmd: list[str], env: dict[str, str], runs: int = 5) -> float:
    """Median max RSS of a command, in MiB, as GNU time reports it.  Not from Python's own
    wait4: a child that Python starts with vfork is charged the parent's pages until it execs,
    and a forked one its copied page tables; time(1) is a small C program."""
    found = []
    with tempfile.NamedTemporaryFile() as report:
        for _ in range(runs):
            subprocess.run(
                [GNU_TIME, "-o", report.name, "-f", "%M", *cmd],
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
                check=False,
            )
            found.append(int(Path(report.name).read_text().split()[-1]))
    return statistics.median(found) / 1024


def scratch() -> Path:
    """Where generator output goes: a tmpfs, as /run/systemd/generator is at boot.  On a disk,
    every file created costs a journal write and the figures measure the disk."""
    for base in ("/dev/shm", f"/run/user/{os.getuid()}"):
        if os.path.isdir(base) and os.access(base, os.W_OK) and _fs_type(base) == "tmpfs":
            return Path(tempfile.mkdtemp(prefix="ccgen-bench-", dir=base))
    return Path(tempfile.mkdtemp(prefix="ccgen-bench-"))


def _fs_type(path: str) -> str:
    best, kind = "", ""
    for line in Path("/proc/self/mounts").read_text().splitlines():
        fields = line.split()
        where = fields[1]
        if (path == where or path.startswith(where.rstrip("/") + "/")) and len(where) > len(best):
            best, kind = where, fields[2]
    return kind


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=30)
    a = p.parse_args()
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        print(f"{SYSTEM_PYTHON} is missing: the generator's figures need the distribution's interpreter")
        return 2
    if not os.access(GNU_TIME, os.X_OK):
        print(f"{GNU_TIME} is missing: peak memory is measured with GNU time (Debian package time)")
        return 2
    import ccgen.ext

    print(f"machine: {platform.machine()}, {os.cpu_count()} cores, {platform.platform()}")
    system = subprocess.run(
        [SYSTEM_PYTHON, "-c", "import platform; print(platform.python_version())"],
        capture_output=True,
        text=True,
    ).stdout.strip()
    print(f"interpreter: {SYSTEM_PYTHON} {system}; backend: {ccgen.ext.BACKEND}")
    tmp = Path(tempfile.mkdtemp(prefix="ccgen-bench-"))
    outs = scratch()
    try:
        root = tmp / "root"
        (root / "usr/share/oem").mkdir(parents=True)
        (root / "var/lib/ccgen").mkdir(parents=True)
        shutil.copy(REPO / "examples/oem-cloud-config.yml", root / "usr/share/oem/cloud-config.yml")
        shutil.copy(REPO / "examples/user-data.yml", root / "var/lib/ccgen/user-data")
        fresh = Fresh(outs)
        print(f"generator output in {outs} ({_fs_type(str(outs)) or 'unknown'})")
        gen = script(tmp / "ccgen-generator", "boot")
        cli = script(tmp / "ccgen", "cli")
        env = {"PATH": "/usr/bin:/bin", "CCGEN_ROOT": str(root)}
        bare = [SYSTEM_PYTHON, "-IS", "-c", "pass"]
        ok = True

        def generator() -> list[str]:
            return [str(gen), fresh()]

        # 2 first: its plan is what 1 replays.
        plan = root / "var/lib/ccgen/plan"
        base, full_ms = interleaved(bare, generator, env, a.runs)
        full_ratio = full_ms / base
        first = Path(fresh())
        subprocess.run([str(gen), str(first)], env=env, check=True, capture_output=True)
        shutil.copy(first / ".ccgen-plan", plan)
        check = Path(fresh())
        subprocess.run([str(gen), str(check)], env=env, check=True, capture_output=True)
        assert (check / ".ccgen-status").read_text().startswith("mode=replayed"), "the plan was not replayed"
        base1, replay_ms = interleaved(bare, generator, env, a.runs)
        replay_ratio = replay_ms / base1
        ok &= replay_ratio <= 1.15 and full_ratio <= 2.0
        full_spread, replay_spread = SPREADS[-2:]
        print(
            f"1. generator replaying its plan: {replay_ms:.1f} ms vs bare interpreter {base1:.1f} ms", end=""
        )
        print(f" = {replay_ratio:.2f}x (target <= 1.15x; {replay_spread})")
        print(f"2. generator, full compile: {full_ms:.1f} ms vs bare interpreter {base:.1f} ms", end="")
        print(f" = {full_ratio:.2f}x (target <= 2.0x; {full_spread})")

        sizes = {}
        for n in (1000, 5000):
            cfg = tmp / f"units-{n}.yml"
            cfg.write_text(unit_config(n))
            show = [str(cli), "--print", "--root", str(tmp / "empty"), str(cfg)]
            if n == 1000:
                load = [
                    SYSTEM_PYTHON,
                    "-c",
                    f"import yaml; yaml.load(open({str(cfg)!r}), Loader=yaml.CSafeLoader)",
                ]
                c_ms, ms = interleaved(load, show, env, max(5, a.runs // 2))
                ok &= ms <= c_ms
                print(
                    f"3. --print, 1000 units ({cfg.stat().st_size // 1024} KB): {ms:.1f} ms whole process",
                    end="",
                )
                print(f" vs PyYAML's C loader loading it {c_ms:.1f} ms = {ms / c_ms:.2f}x", end="")
                print(f" (target <= 1.0x; {SPREADS[-1]})")
            else:
                base, ms = interleaved(bare, show, env, max(5, a.runs // 3))
                ok &= ms <= 300
                kb = cfg.stat().st_size // 1024
                print(f"   --print, 5000 units ({kb} KB): {ms:.1f} ms (target <= 300 ms)")
            sizes[n] = ms
        growth = sizes[5000] / sizes[1000]
        print(f"   5000/1000 units: {growth:.2f}x (linear is 5x; startup makes it a little less)")
        ok &= growth <= 5.5

        ok &= pure_ratio(tmp / "units-1000.yml")
        replay_mib = peak_rss(generator(), env)
        plan.unlink()
        full_mib = peak_rss(generator(), env)
        bare_mib = peak_rss(bare, env)
        ok &= replay_mib <= 8.0 and full_mib <= 16
        print(
            f"5. peak memory: replay {replay_mib:.1f} MiB (target <= 8.0), full compile {full_mib:.1f} MiB",
            end="",
        )
        print(f" (target <= 16); the bare interpreter {bare_mib:.1f} MiB")
        print("all targets met" if ok else "SOME TARGETS MISSED")
        return 0 if ok else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
        shutil.rmtree(outs, ignore_errors=True)


def pure_ratio(cfg: Path) -> bool:
    import yaml

    from ccgen import compile, ext
    from ccgen.base.diag import Diagnostics
    from ccgen.read import inputs

    text = cfg.read_text()
    data = text.encode()
    saved, ext.compose = ext.compose, None
    try:
        ours, theirs = [], []
        for _ in range(5):
            start = time.perf_counter()
            yaml.load(text, Loader=yaml.SafeLoader)
            theirs.append(time.perf_counter() - start)
            start = time.perf_counter()
            compile.compile_inputs([inputs.Input("/u", data)], Diagnostics())
            ours.append(time.perf_counter() - start)
    finally:
        ext.compose = saved
    o, t = statistics.median(ours) * 1000, statistics.median(theirs) * 1000
    print(f"4. pure path, 1000 units: {o:.0f} ms vs PyYAML SafeLoader load {t:.0f} ms", end="")
    print(f" = {o / t:.2f}x (target <= 1.3x)")
    return o / t <= 1.3


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
