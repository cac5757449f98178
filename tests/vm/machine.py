"""Real Debian machines for the boot tests: a cached root filesystem, one disk per test, qemu.

Networking is always `restrict=on`: the guest reaches nothing but what a test
forwards with guestfwd to a server of its own on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = [
    "systemd", "systemd-sysv", "linux-image-amd64", "udev", "python3", "python3-yaml",
    "python3-pyelftools", "libyaml-0-2", "iproute2", "kmod", "openssh-server", "passwd",
    "util-linux", "mount",
]  # fmt: skip
MIRROR = "http://deb.debian.org/debian"
RECIPE = 3  # bump when prepare_base() changes what it puts into the cached tree
CACHE = Path(os.environ.get("CCGEN_VM_CACHE") or Path.home() / ".cache" / "ccgen-vm")
GUEST_SERVER = "10.0.2.100"

REPORT_UNIT = """[Unit]
Description=ccgen VM test: collect the machine's state, then power off
After=multi-user.target ccgen.target ccgen-apply.service ccgen-fetch-ec2.service ccgen-fetch-configdrive.service
After=ccgen-deferred.service

[Service]
Type=oneshot
ExecStart=/usr/local/sbin/vmtest-report
StandardOutput=journal+console

[Install]
WantedBy=multi-user.target
"""

REPORT_SCRIPT = """#!/bin/sh
# Wait for the jobs a re-run may have started (ours is the only one left), run the
# test's probe, keep its output on the disk, and power off.
for i in $(seq 1 120); do
    [ "$(systemctl list-jobs --no-legend | wc -l)" -le 1 ] && break
    sleep 1
done
mkdir -p /var/lib/vmtest
{ echo "BEGIN-REPORT"; sh /etc/vmtest/probe.sh 2>&1; echo "END-REPORT"; } > /var/lib/vmtest/report
cat /var/lib/vmtest/report > /dev/ttyS0
sync
systemctl poweroff --no-block
"""

NETWORK = "[Match]\nName=eth0\n\n[Network]\nAddress=10.0.2.15/24\nGateway=10.0.2.2\n"


def key() -> str:
    return hashlib.sha256(repr((PACKAGES, MIRROR, RECIPE)).encode()).hexdigest()[:16]


def run(*cmd: str, **kw: object) -> subprocess.CompletedProcess[str]:
    return subprocess.run(list(cmd), check=True, capture_output=True, text=True, **kw)  # type: ignore[call-overload,no-any-return]


def _write(tree: Path, path: str, text: str, mode: int = 0o644) -> None:
    dest = tree / path.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    if dest.exists() or dest.is_symlink():
        dest.unlink()  # never write through a hard link shared with the cached tree
    dest.write_text(text)
    dest.chmod(mode)


def prepare_base(tree: Path) -> None:
    """Test plumbing on top of debootstrap: static network, the report unit, fast console."""
    _write(tree, "/etc/systemd/network/10-eth0.network", NETWORK)
    _write(tree, "/etc/systemd/system/vmtest-report.service", REPORT_UNIT)
    _write(tree, "/usr/local/sbin/vmtest-report", REPORT_SCRIPT, 0o755)
    _write(tree, "/etc/hostname", "debian\n")
    _write(tree, "/etc/fstab", "/dev/vda / ext4 rw 0 1\n")
    wants = tree / "etc/systemd/system/multi-user.target.wants"
    wants.mkdir(parents=True, exist_ok=True)
    for unit, target in (
        ("vmtest-report.service", "/etc/systemd/system/vmtest-report.service"),
        ("systemd-networkd.service", "/lib/systemd/system/systemd-networkd.service"),
    ):
        link = wants / unit
        if not link.is_symlink():
            link.symlink_to(target)
    # No login prompt is needed; nothing should wait for one.
    getty = tree / "etc/systemd/system/serial-getty@ttyS0.service"
    if not getty.is_symlink():
        getty.symlink_to("/dev/null")


def base_tree() -> Path:
    """The cached root filesystem; built with debootstrap when the cache has none."""
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / f"rootfs-{key()}.tar"
    tree = CACHE / f"rootfs-{key()}"
    if tree.is_dir() and (tree / ".ready").exists():
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    if not tarball.exists():
        scratch = CACHE / f"debootstrap-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        run("debootstrap", "--variant=minbase", f"--include={','.join(PACKAGES)}", "bookworm", str(scratch), MIRROR,
            timeout=1800)  # fmt: skip
        prepare_base(scratch)
        run("tar", "-C", str(scratch), "-cf", str(tarball) + ".tmp", ".", timeout=600)
        os.replace(str(tarball) + ".tmp", tarball)
        shutil.rmtree(scratch, ignore_errors=True)
    tree.mkdir()
    run("tar", "-C", str(tree), "-xf", str(tarball), timeout=600)
    (tree / ".ready").touch()
    return tree


def install_ccgen(tree: Path, deb: Path) -> None:
    """The Debian package, installed with dpkg inside the tree."""
    shutil.copy(deb, tree / "tmp" / deb.name)
    run("chroot", str(tree), "dpkg", "-i", f"/tmp/{deb.name}", timeout=300)
    (tree / "tmp" / deb.name).unlink()


class Disk:
    def __init__(self, path: Path, tree: Path) -> None:
        self.path = path
        self.tree = tree


def make_disk(session_tree: Path, workdir: Path, files: dict[str, str], size: str = "3G") -> Disk:
    """This test's own disk: the session tree plus its files, as a fresh ext4 image."""
    stage = workdir / "stage"
    run("cp", "-al", str(session_tree), str(stage), timeout=300)
    # The report plumbing is written per disk, so changing it needs no new cached tree.
    _write(stage, "/etc/systemd/system/vmtest-report.service", REPORT_UNIT)
    _write(stage, "/usr/local/sbin/vmtest-report", REPORT_SCRIPT, 0o755)
    for path, text in files.items():
        _write(stage, path, text, 0o755 if path.endswith(".sh") else 0o644)
    disk = workdir / "disk.img"
    run("mkfs.ext4", "-q", "-F", "-L", "root", "-d", str(stage), str(disk), size, timeout=600)
    shutil.rmtree(stage)
    return Disk(disk, session_tree)


class Boot:
    def __init__(self, console: str, status: int | None, seconds: float) -> None:
        self.console = console
        self.status = status
        self.seconds = seconds

    def report(self) -> str:
        start, end = self.console.rfind("BEGIN-REPORT"), self.console.rfind("END-REPORT")
        return self.console[start:end] if 0 <= start < end else ""


def boot(
    disk: Disk,
    workdir: Path,
    cmdline: str = "",
    server_port: int | None = None,
    extra_disks: tuple[Path, ...] = (),
    timeout: float = 420,
    scratch_disks: tuple[Path, ...] = (),
) -> Boot:
    boot_dir = disk.tree / "boot"
    kernel = sorted(boot_dir.glob("vmlinuz-*"))[-1]
    initrd = sorted(boot_dir.glob("initrd.img-*"))[-1]
    netdev = "user,id=n0,restrict=on"
    if server_port is not None:
        netdev += f",guestfwd=tcp:{GUEST_SERVER}:80-tcp:127.0.0.1:{server_port}"
    cmd = [
        "qemu-system-x86_64", "-accel", "tcg", "-m", "1024", "-smp", "2", "-nographic", "-no-reboot",
        "-kernel", str(kernel), "-initrd", str(initrd),
        "-append", f"root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1 {cmdline}".strip(),
        "-drive", f"file={disk.path},format=raw,if=virtio",
        "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0",
    ]  # fmt: skip
    for extra in extra_disks:
        cmd += ["-drive", f"file={extra},format=raw,if=virtio,readonly=on"]
    for scratch in scratch_disks:  # writable: the guest may format them
        cmd += ["-drive", f"file={scratch},format=raw,if=virtio"]
    log = workdir / f"console-{int(time.time() * 1000)}.log"
    start = time.monotonic()
    with open(log, "w") as out:
        proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out, stderr=subprocess.STDOUT)
        try:
            status: int | None = proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
            status = None
    return Boot(log.read_text(errors="replace"), status, time.monotonic() - start)
