"""ccgen against Debian's cloud-init on real boots (issue 18): `./dev bench --vm`.

One image (the VM tests' Debian 12 tree plus Debian's cloud-init 22.4 and the ccgen
package) holds both configs, equivalent to each other:

- ccgen: /usr/share/oem/cloud-config.yml;
- cloud-init: a NoCloud seed in /var/lib/cloud/seed/nocloud/ (datasource_list: [NoCloud],
  network configuration off: ccgen configures no network here either, and host keys are
  not regenerated: ccgen does not do that).

Both: the hostname, a user with an SSH key, a 0600 file, one oneshot started on every
boot.  Four disks are made from the image: "cloud-init" (ccgen-generator masked),
"ccgen" (/etc/cloud/cloud-init.disabled), "neither" (both off: the generator phase
of systemd's own generators) and "python-floor" (ccgen-generator replaced by a Python
program that only starts: the floor any Python generator pays, issue 26).  They are
booted in turn, round after round, so that the shared machine's load falls on all of
them alike; each disk's first boot is its first boot, the others are steady-state boots.

Figures per boot (systemd's monotonic timestamps, from the kernel's start):
- multi-user.target reached: its ActiveEnterTimestampMonotonic;
- configured state complete: the later of the oneshot becoming active and the last of the
  tool's services finishing (cloud-final for cloud-init, what `cloud-init status --wait`
  waits for; ccgen-apply and ccgen's other services for ccgen); the probe checks that the
  hostname, the user, its key and the file are there;
- machinery: the generator phase plus the run time of the tool's services
  (ExecMainStart to ExecMainExit of each that started a process);
- generator phase: GeneratorsStartTimestampMonotonic to GeneratorsFinishTimestampMonotonic
  (all generators; "neither" is the floor).

Software emulation (TCG) runs the guest many times slower than hardware: only ratios
taken in one run mean anything.  Takes about 10 minutes with the trees cached; the first
run also builds the root filesystem (debootstrap, a few minutes).
"""

from __future__ import annotations

import argparse
import datetime
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(REPO))

from tests.vm import machine  # noqa: E402
from tests.vm.test_boot import PROBE_COMMON, SSH_KEY, booted, generators_us, lines, shown  # noqa: E402

ONESHOT = """[Unit]
Description=Benchmark oneshot started by the config
[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/bin/sh -c 'echo done > /run/bench-oneshot'
[Install]
WantedBy=multi-user.target
"""


def indented(text: str, spaces: int) -> str:
    return "".join(" " * spaces + ln + "\n" for ln in text.splitlines())


CCGEN_CONFIG = f"""#cloud-config
hostname: bench-host
users:
  - name: alice
    shell: /bin/bash
    ssh_authorized_keys:
      - {SSH_KEY}
write_files:
  - path: /etc/bench/secret.conf
    permissions: "0600"
    content: "token=bench\\n"
coreos:
  units:
    - name: bench-oneshot.service
      command: start
      content: |
{indented(ONESHOT, 8)}"""

CLOUD_INIT_USER_DATA = f"""#cloud-config
hostname: bench-host
users:
  - name: alice
    shell: /bin/bash
    ssh_authorized_keys:
      - {SSH_KEY}
write_files:
  - path: /etc/bench/secret.conf
    permissions: "0600"
    content: "token=bench\\n"
  - path: /etc/systemd/system/bench-oneshot.service
    content: |
{indented(ONESHOT, 6)}runcmd:
  - [systemctl, enable, --now, --no-block, bench-oneshot.service]
"""

CLOUD_INIT_SETTINGS = """datasource_list: [ NoCloud ]
network: {config: disabled}
ssh_deletekeys: false
ssh_genkeytypes: []
"""

# Each tool's own generator, timed at boot: a wrapper of the same name in
# /etc/systemd/system-generators/ (which shadows /usr/lib's) runs the real one with the
# SYSTEMD_EXEC_PID it would have had (`sh -c` execs it with its own pid) and leaves the
# microseconds it took beside its output.  The wrapper's own cost is the same for both.
WRAPPER = """#!/bin/sh
s=$(date +%s%N)
sh -c 'SYSTEMD_EXEC_PID=$$ exec "$0" "$@"' /usr/lib/systemd/system-generators/NAME "$@"
rc=$?
e=$(date +%s%N)
echo $(( (e - s) / 1000 )) > "$1/.bench-NAME-us"
exit $rc
"""


def wrapped(name: str) -> dict[str, str]:
    return {f"/etc/systemd/system-generators/{name}": WRAPPER.replace("NAME", name)}


# The floor a Python generator cannot go below: the interpreter ccgen runs on, started the
# way ccgen's is (-IS), doing nothing. It takes ccgen-generator's place (same name, same
# wrapper, same position in the generator phase), so the two are timed alike.
PYTHON_FLOOR = "#!/usr/bin/python3 -IS\npass\n"
FLOOR_PATH = "/usr/lib/systemd/system-generators/ccgen-generator"


def executables(stage: Path) -> None:
    """The wrappers and the floor's generator are programs (make_disk writes other files 0644)."""
    wrappers = (stage / "etc/systemd/system-generators").glob("*-generator")
    for path in [*wrappers, stage / FLOOR_PATH.lstrip("/")]:
        if path.is_file() and path.stat().st_size:
            path.chmod(0o755)


CLOUD_INIT_SERVICES = (
    "cloud-init-local.service",
    "cloud-init.service",
    "cloud-config.service",
    "cloud-final.service",
)

PROBE = (
    PROBE_COMMON
    + r"""
tools=$(systemctl list-units --all --plain --no-legend 'cloud-*.service' 'ccgen*.service' | awk '{print $1}')
for u in multi-user.target bench-oneshot.service ccgen.target $tools; do
  show "$u"
done
echo "user $(id -u alice 2>/dev/null || echo MISSING)"
echo "keys $(grep -c ssh- /home/alice/.ssh/authorized_keys 2>/dev/null || echo 0)"
echo "file $(stat -c %a /etc/bench/secret.conf 2>/dev/null || echo MISSING)"
echo "oneshot $(cat /run/bench-oneshot 2>/dev/null || echo MISSING)"
for f in /run/systemd/generator/.bench-*-us; do
  [ -f "$f" ] && echo "gentime $(basename "$f" | sed 's/^.bench-//; s/-us$//') $(cat "$f")"
done
# Warm, after boot, one at a time: each tool's generator as systemd would run it (its
# environment, three fresh directories), against the bare interpreter ccgen runs on.
timed() {
  s=$(date +%s%N); "$@" >/dev/null 2>&1; e=$(date +%s%N); echo $(( (e - s) / 1000 ))
}
unset SYSTEMD_EXEC_PID
export SYSTEMD_VIRTUALIZATION=vm:qemu SYSTEMD_ARCHITECTURE=x86-64 SYSTEMD_SCOPE=system SYSTEMD_IN_INITRD=0
generate() {
  d=$(mktemp -d); mkdir "$d/n" "$d/e" "$d/l"
  timed "$1" "$d/n" "$d/e" "$d/l"
  [ -f "$d/n/.ccgen-status" ] && sed -n 's/^mode=/warmmode /p' "$d/n/.ccgen-status"
  rm -rf "$d"
}
for i in 1 2 3 4 5; do
  echo "warm python $(timed /usr/bin/python3 -IS -c pass)"
  if [ -e /etc/cloud/cloud-init.disabled ]; then
    [ -s /etc/systemd/system-generators/ccgen-generator ] && \
      generate /usr/lib/systemd/system-generators/ccgen-generator | sed '1s/^/warm ccgen-generator /'
  else
    generate /usr/lib/systemd/system-generators/cloud-init-generator | sed '1s/^/warm cloud-init-generator /'
  fi
done
# cloud-init's own account of this boot: the last boot record's slowest stages.
command -v cloud-init >/dev/null && [ ! -e /etc/cloud/cloud-init.disabled ] && \
  cloud-init analyze blame 2>/dev/null | awk '/Boot Record/ {n = 0; delete a} /^ +[0-9]/ {a[n++] = $0}
    END {for (i = 0; i < n && i < 4; i++) print a[i]}' | sed 's/^ */blame /'
"""
)

MASK_CCGEN = {"/etc/systemd/system-generators/ccgen-generator": ""}
CLOUD_INIT_OFF = {"/etc/cloud/cloud-init.disabled": ""}
ARMS = {
    "cloud-init": {**MASK_CCGEN, **wrapped("cloud-init-generator")},
    "ccgen": {**CLOUD_INIT_OFF, **wrapped("ccgen-generator"), **wrapped("cloud-init-generator")},
    "neither": {**MASK_CCGEN, **CLOUD_INIT_OFF, **wrapped("cloud-init-generator")},
    "python-floor": {
        **CLOUD_INIT_OFF,
        **wrapped("ccgen-generator"),
        **wrapped("cloud-init-generator"),
        FLOOR_PATH: PYTHON_FLOOR,
    },
}
# Arms that configure nothing: their boots are floors, not configured machines.
FLOORS = ("neither", "python-floor")


class Figures:
    def __init__(self, arm: str, n: int, report: str) -> None:
        units = shown(report)
        self.arm, self.n = arm, n
        self.generator = generators_us(report)
        self.multi_user = at(units, "multi-user.target")
        own = "cloud-init-generator" if arm == "cloud-init" else "ccgen-generator"
        times = dict(ln.split() for ln in lines(report, "gentime"))
        self.own_generator = int(times.get(own, 0))
        warm: dict[str, list[int]] = {}
        for ln in lines(report, "warm"):
            name, us = ln.split()
            warm.setdefault(name, []).append(int(us))
        self.warm_python = statistics.median(warm.get("python", [0]))
        self.warm_generator = statistics.median(warm.get(own, [0]))
        self.warm_modes = lines(report, "warmmode")
        if arm == "cloud-init":
            services = [u for u in CLOUD_INIT_SERVICES if u in units]
        else:
            services = [u for u in units if u.startswith("ccgen") and u.endswith(".service")]
        ran = {u: ran_us(units[u]) for u in services}
        self.services = {u: us for u, us in ran.items() if us}
        ends = [int(units[u].get("ExecMainExitTimestampMonotonic") or 0) for u in services]
        if arm == "ccgen":
            ends.append(at(units, "ccgen.target"))
        self.configured = max([at(units, "bench-oneshot.service"), *ends])
        self.machinery = self.generator + sum(self.services.values())
        self.blame = lines(report, "blame")
        state = (
            lines(report, "hostname"),
            lines(report, "keys"),
            lines(report, "file"),
            lines(report, "oneshot"),
        )
        self.configured_ok = arm in FLOORS or (
            state == (["bench-host"], ["1"], ["600"], ["done"]) and lines(report, "user") != ["MISSING"]
        )


def at(units: dict[str, dict[str, str]], unit: str) -> int:
    return int(units.get(unit, {}).get("ActiveEnterTimestampMonotonic") or 0)


def ran_us(u: dict[str, str]) -> int:
    start, end = (
        int(u.get("ExecMainStartTimestampMonotonic") or 0),
        int(u.get("ExecMainExitTimestampMonotonic") or 0),
    )
    return end - start if start and end >= start else 0


def build_tree(tmp: Path) -> Path:
    deb = machine.build_deb(tmp / "debs")
    base = machine.base_tree(machine.CLOUD_INIT_PACKAGES)
    return machine.installed_tree(base, tmp / "tree", deb)


def seconds(us: float) -> str:
    return f"{us / 1e6:.2f} s"


def table(runs: dict[str, list[Figures]]) -> str:
    out = []
    for title, first in (("first boot", True), ("steady state", False)):
        chosen = {arm: [f for f in fs if (f.n == 1) == first] for arm, fs in runs.items()}
        count = len(chosen["ccgen"])
        if not count:
            continue
        kind = "one boot" if count == 1 else f"median of {count} boots"
        out.append(f"\n{title} ({kind} each; TCG: only ratios mean anything)\n")
        out.append("| figure | cloud-init | ccgen | cloud-init / ccgen |")
        out.append("| --- | --- | --- | --- |")
        for label, attr in (
            ("multi-user.target reached", "multi_user"),
            ("configured state complete", "configured"),
            ("machinery: generator phase plus the tool's services", "machinery"),
            ("generator phase (all generators)", "generator"),
            ("the tool's own generator at boot (timed by a wrapper)", "own_generator"),
            ("the tool's own generator after boot, warm, alone (median of 5)", "warm_generator"),
        ):
            ci = statistics.median(getattr(f, attr) for f in chosen["cloud-init"])
            cc = statistics.median(getattr(f, attr) for f in chosen["ccgen"])
            ratio = f"{ci / cc:.2f}x" if cc else "-"
            out.append(f"| {label} | {seconds(ci)} | {seconds(cc)} | {ratio} |")
        floor = statistics.median(f.generator for f in chosen["neither"])
        ci = statistics.median(f.generator for f in chosen["cloud-init"]) - floor
        cc = statistics.median(f.generator for f in chosen["ccgen"]) - floor
        out.append(
            f"| generator phase above the floor ({seconds(floor)} with neither) | {seconds(ci)}"
            f" | {seconds(cc)} | {ci / cc:.2f}x |"
            if cc > 0
            else f"| generator phase above the floor ({seconds(floor)}) | {seconds(ci)} | {seconds(cc)} | - |"
        )
        pair = ("ccgen", "python-floor")
        gen = {arm: statistics.median(f.own_generator for f in chosen[arm]) for arm in pair}
        warm = {arm: statistics.median(f.warm_generator for f in chosen[arm]) for arm in pair}
        for label, figures in (("at boot (wrapper)", gen), ("after boot, warm, alone", warm)):
            ours, floor_us = figures["ccgen"], figures["python-floor"]
            ratio = f"{ours / floor_us:.2f}x" if floor_us else "-"
            out.append(
                f"\nccgen's generator {label}: {ours / 1000:.1f} ms against a Python generator that only"
                f" starts (`#!/usr/bin/python3 -IS`, `pass`) in its place {floor_us / 1000:.1f} ms:"
                f" {ratio} (target: at most 1.25x)"
            )
        bare = statistics.median(f.warm_python for f in chosen["ccgen"] + chosen["cloud-init"])
        out.append(f"\nafter boot, warm: the bare interpreter (`python3 -IS -c pass`) {seconds(bare)}")
        modes = sorted({m for f in chosen["ccgen"] for m in f.warm_modes})
        out.append(f"ccgen's warm runs: mode {', '.join(modes) or '-'}")
        for arm in ("cloud-init", "ccgen"):
            svc: dict[str, list[int]] = {}
            for f in chosen[arm]:
                for u, us in f.services.items():
                    svc.setdefault(u, []).append(us)
            said = ", ".join(
                f"{u} {seconds(statistics.median(v))} ({len(v)}/{count})" for u, v in sorted(svc.items())
            )
            out.append(f"\n{arm}'s services that started a process: {said or 'none'}")
    return "\n".join(out)


def main() -> int:
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("--boots", type=int, default=4, help="boots per disk: the first, then steady-state ones")
    p.add_argument("--keep", action="store_true", help="keep the disks and console logs")
    a = p.parse_args()
    for tool in ("qemu-system-x86_64", "debootstrap", "mkfs.ext4", "chroot"):
        if shutil.which(tool) is None:
            print(f"{tool} is missing (./dev test installs it)")
            return 2
    started = time.monotonic()
    print(
        f"date: {datetime.date.today()}; host: {platform.machine()}, {os.cpu_count()} cores,"
        f" {platform.platform()}"
    )
    tmp = Path(tempfile.mkdtemp(prefix="ccgen-bench-vm-"))
    try:
        tree = build_tree(tmp)
        version = subprocess.run(
            ["chroot", str(tree), "dpkg-query", "-W", "-f", "${Version}", "cloud-init"],
            capture_output=True,
            text=True,
        ).stdout
        print(f"guest: Debian 12 under qemu TCG, 2 vCPUs, 1 GiB; cloud-init {version}")
        files = {
            "/usr/share/oem/cloud-config.yml": CCGEN_CONFIG,
            "/var/lib/cloud/seed/nocloud/user-data": CLOUD_INIT_USER_DATA,
            "/var/lib/cloud/seed/nocloud/meta-data": "instance-id: iid-bench-1\nlocal-hostname: bench-host\n",
            "/etc/cloud/cloud.cfg.d/99-bench.cfg": CLOUD_INIT_SETTINGS,
            "/etc/vmtest/probe.sh": PROBE,
        }
        disks = {}
        for arm, extra in ARMS.items():
            work = tmp / arm
            work.mkdir()
            disks[arm] = (machine.make_disk(tree, work, {**files, **extra}, prepare=executables), work)
        runs: dict[str, list[Figures]] = {arm: [] for arm in ARMS}
        ok = True
        for n in range(1, a.boots + 1):
            for arm, (disk, work) in disks.items():
                b = machine.boot(disk, work)
                f = Figures(arm, n, booted(f"{arm}, boot {n}", b))
                runs[arm].append(f)
                ok &= f.configured_ok
                said = [
                    f"multi-user {seconds(f.multi_user)}",
                    f"configured {seconds(f.configured)}",
                    f"machinery {seconds(f.machinery)}",
                    f"generators {seconds(f.generator)}",
                    f"its generator {seconds(f.own_generator)}",
                    f"warm {seconds(f.warm_generator)} (python {seconds(f.warm_python)})",
                ]
                if not f.configured_ok:
                    said.append("NOT CONFIGURED")
                if f.blame:
                    said.append(f"cloud-init analyze blame: {'; '.join(f.blame[:3])}")
                print(f"{arm:10} boot {n}: " + ", ".join(said), flush=True)
        print(table(runs))
        print(f"\n{sum(len(v) for v in runs.values())} boots in {(time.monotonic() - started) / 60:.1f} min")
        if not ok:
            print("SOME BOOT DID NOT REACH THE CONFIGURED STATE: the figures compare unequal work")
        return 0 if ok else 1
    finally:
        if a.keep:
            print(f"kept {tmp}")
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
