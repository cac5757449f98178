"""ccgen's performance figures, each a ratio against a baseline run in the same session.

    ./dev bench            (or: python bench/run.py [--runs N])

1. The generator as systemd runs it (/usr/bin/python3 -IS, the package on a
   path baked into the script) on the bundled OEM + user example, against
   /usr/bin/python3 -IS -c pass.  Target: at most 1.5x.
2. `ccgen --print` on 1000 and 5000 generated units, whole process: at most
   60 ms and 300 ms, and linear (5000/1000 about 5).
3. The pure-Python path on the 1000-unit config, in process, against PyYAML's
   pure SafeLoader loading the same text.  Target: at most 1.3x.
4. Peak memory (max RSS) of the generator on the example.  Target: 16 MiB.

Runs are interleaved (baseline, subject, baseline, ...) and medians are reported.
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
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SYSTEM_PYTHON = "/usr/bin/python3"


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


def interleaved(a: list[str], b: list[str], env: dict[str, str], runs: int) -> tuple[float, float]:
    xs, ys = [], []
    for _ in range(3):  # warm the page cache
        timed(a, env), timed(b, env)
    for _ in range(runs):
        xs.append(timed(a, env))
        ys.append(timed(b, env))
    return statistics.median(xs) * 1000, statistics.median(ys) * 1000


def peak_rss(cmd: list[str], env: dict[str, str]) -> float:
    """Max RSS of one child, in MiB (a fresh process, so only its own peak counts)."""
    probe = (
        "import resource, subprocess, sys; subprocess.run(sys.argv[1:], stdout=subprocess.DEVNULL, "
        "stderr=subprocess.DEVNULL); print(resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)"
    )
    out = subprocess.run(
        [sys.executable, "-c", probe, *cmd], env=env, capture_output=True, text=True, check=True
    )
    return int(out.stdout) / 1024


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--runs", type=int, default=30)
    a = p.parse_args()
    if not os.access(SYSTEM_PYTHON, os.X_OK):
        print(f"{SYSTEM_PYTHON} is missing: the generator's figures need the distribution's interpreter")
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
    try:
        root = tmp / "root"
        (root / "usr/share/oem").mkdir(parents=True)
        (root / "var/lib/ccgen").mkdir(parents=True)
        shutil.copy(REPO / "examples/oem-cloud-config.yml", root / "usr/share/oem/cloud-config.yml")
        shutil.copy(REPO / "examples/user-data.yml", root / "var/lib/ccgen/user-data")
        out = tmp / "out"
        out.mkdir()
        gen = script(tmp / "ccgen-generator", "boot")
        cli = script(tmp / "ccgen", "cli")
        env = {"PATH": "/usr/bin:/bin", "CCGEN_ROOT": str(root)}
        bare = [SYSTEM_PYTHON, "-IS", "-c", "pass"]
        ok = True

        base, gen_ms = interleaved(bare, [str(gen), str(out)], env, a.runs)
        ratio = gen_ms / base
        ok &= ratio <= 1.5
        print(f"1. generator, example config: {gen_ms:.1f} ms vs bare interpreter {base:.1f} ms", end="")
        print(f" = {ratio:.2f}x (target <= 1.5x)")

        sizes = {}
        for n in (1000, 5000):
            cfg = tmp / f"units-{n}.yml"
            cfg.write_text(unit_config(n))
            base, ms = interleaved(
                bare, [str(cli), "--print", "--root", str(tmp / "empty"), str(cfg)], env, max(5, a.runs // 3)
            )
            sizes[n] = ms
            target = 60 if n == 1000 else 300
            ok &= ms <= target
            kb = cfg.stat().st_size // 1024
            print(
                f"2. --print, {n} units ({kb} KB): {ms:.1f} ms whole process, {ms / base:.1f}x bare", end=""
            )
            print(f" (target <= {target} ms)")
        growth = sizes[5000] / sizes[1000]
        print(f"   5000/1000 units: {growth:.2f}x (linear is 5x; startup makes it a little less)")
        ok &= growth <= 5.5

        ok &= pure_ratio(tmp / "units-1000.yml")
        mib = peak_rss([str(gen), str(out)], env)
        ok &= mib <= 16
        print(f"4. peak memory, generator on the example: {mib:.1f} MiB (target <= 16 MiB)")
        print("all targets met" if ok else "SOME TARGETS MISSED")
        return 0 if ok else 1
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


def pure_ratio(cfg: Path) -> bool:
    import yaml

    from ccgen import compile, ext, inputs
    from ccgen.diag import Diagnostics

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
    print(f"3. pure path, 1000 units: {o:.0f} ms vs PyYAML SafeLoader load {t:.0f} ms", end="")
    print(f" = {o / t:.2f}x (target <= 1.3x)")
    return o / t <= 1.3


if __name__ == "__main__":
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    sys.exit(main())
