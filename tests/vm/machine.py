"""Real Debian machines for the boot tests: a cached root filesystem, one disk per test, qemu.

Networking is always `restrict=on`: the guest reaches nothing but what a test
forwards with guestfwd to a server of its own on 127.0.0.1.
"""

from __future__ import annotations

import hashlib
import os
import shutil
import subprocess
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

REPO = Path(__file__).resolve().parents[2]
PACKAGES = [
    "systemd", "systemd-sysv", "linux-image-amd64", "udev", "python3", "python3-yaml",
    "python3-pyelftools", "libyaml-0-2", "iproute2", "kmod", "openssh-server", "passwd",
    "util-linux", "mount",
]  # fmt: skip
# The cloud-init comparison (bench/vm.py): the same machine plus Debian's cloud-init.
CLOUD_INIT_PACKAGES = [
    *PACKAGES,
    "cloud-init",
    "python3-cffi-backend",
]  # debootstrap does not resolve a virtual package
MIRROR = "http://deb.debian.org/debian"
RECIPE = 3  # bump when prepare_base() changes what it puts into the cached tree
CACHE = Path(os.environ.get("CCGEN_VM_CACHE") or Path.home() / ".cache" / "ccgen-vm")
GUEST_SERVER = "10.0.2.100"

REPORT_UNIT = """[Unit]
Description=ccgen VM test: collect the machine's state, then power off
After=multi-user.target ccgen.target ccgen-apply.service ccgen-fetch-ec2.service ccgen-fetch-configdrive.service
After=ccgen-deferred.service
After=cloud-final.service

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


def key(packages: list[str] | None = None) -> str:
    """The cache key of a root filesystem: its package list, the mirror and the recipe.
    The default list keeps the key it always had; another list (the cloud-init
    comparison's) is a tree of its own."""
    return hashlib.sha256(repr((packages or PACKAGES, MIRROR, RECIPE)).encode()).hexdigest()[:16]


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


def base_tree(packages: list[str] | None = None) -> Path:
    """The cached root filesystem; built with debootstrap when the cache has none."""
    packages = packages or PACKAGES
    CACHE.mkdir(parents=True, exist_ok=True)
    tarball = CACHE / f"rootfs-{key(packages)}.tar"
    tree = CACHE / f"rootfs-{key(packages)}"
    if tree.is_dir() and (tree / ".ready").exists():
        return tree
    shutil.rmtree(tree, ignore_errors=True)
    if not tarball.exists():
        scratch = CACHE / f"debootstrap-{os.getpid()}"
        shutil.rmtree(scratch, ignore_errors=True)
        run("debootstrap", "--variant=minbase", f"--include={','.join(packages)}", "bookworm", str(scratch), MIRROR,
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


def build_deb(dest: Path) -> Path:
    """The ccgen Debian package, built from the committed files (packaging/build-deb.sh)."""
    subprocess.run([str(REPO / "packaging/build-deb.sh"), str(dest)], check=True, capture_output=True)
    (deb,) = dest.glob("ccgen_*.deb")
    return deb


def installed_tree(base: Path, tree: Path, deb: Path) -> Path:
    """A copy of a cached tree with the ccgen package installed."""
    run("cp", "-a", str(base), str(tree), timeout=600)
    install_ccgen(tree, deb)
    return tree


# network-online.target really waits for the static address (a network fetch needs it).
WAIT_ONLINE = {
    "/etc/systemd/system/network-online.target.wants/systemd-networkd-wait-online.service": (
        "/lib/systemd/system/systemd-networkd-wait-online.service"
    )
}


class Disk:
    def __init__(self, path: Path, tree: Path) -> None:
        self.path = path
        self.tree = tree


def make_disk(
    session_tree: Path,
    workdir: Path,
    files: dict[str, str],
    size: str = "3G",
    links: dict[str, str] | None = None,
    prepare: Callable[[Path], None] | None = None,
) -> Disk:
    """This test's own disk: the session tree plus its files and symlinks (path -> target),
    as a fresh ext4 image.  `prepare` may change the staged tree last (ccgen prime)."""
    stage = workdir / "stage"
    run("cp", "-al", str(session_tree), str(stage), timeout=300)
    # The report plumbing is written per disk, so changing it needs no new cached tree.
    _write(stage, "/etc/systemd/system/vmtest-report.service", REPORT_UNIT)
    _write(stage, "/usr/local/sbin/vmtest-report", REPORT_SCRIPT, 0o755)
    for path, text in files.items():
        _write(stage, path, text, 0o755 if path.endswith(".sh") else 0o644)
    for path, target in (links or {}).items():
        link = stage / path.lstrip("/")
        link.parent.mkdir(parents=True, exist_ok=True)
        if link.exists() or link.is_symlink():
            link.unlink()
        link.symlink_to(target)
    if prepare is not None:
        prepare(stage)
    disk = workdir / "disk.img"
    run("mkfs.ext4", "-q", "-F", "-L", "root", "-d", str(stage), str(disk), size, timeout=600)
    shutil.rmtree(stage)
    return Disk(disk, session_tree)


def put(image: Path, path: str, text: str) -> None:
    """Replace one file on an ext4 image between boots (debugfs, no mounting)."""
    with tempfile.NamedTemporaryFile("w", delete=False) as f:
        f.write(text)
    os.chmod(f.name, 0o644)  # debugfs gives the file the host file's mode
    try:
        subprocess.run(["debugfs", "-w", "-R", f"rm {path}", str(image)], capture_output=True, check=False)
        run("debugfs", "-w", "-R", f"write {f.name} {path}", str(image))
    finally:
        os.unlink(f.name)


def get(image: Path, path: str) -> str:
    """One file of an ext4 image, "" when missing."""
    return subprocess.run(
        ["debugfs", "-R", f"cat {path}", str(image)], capture_output=True, text=True, check=False
    ).stdout


class Boot:
    def __init__(self, console: str, status: int | None, seconds: float) -> None:
        self.console = console
        self.status = status
        self.seconds = seconds

    def report(self) -> str:
        start, end = self.console.rfind("BEGIN-REPORT"), self.console.rfind("END-REPORT")
        return self.console[start:end] if 0 <= start < end else ""


def kernel_cmdline(extra: str = "") -> str:
    """The kernel command line boot() gives: what the guest's /proc/cmdline says."""
    return f"root=/dev/vda rw console=ttyS0 net.ifnames=0 panic=-1 {extra}".strip()


# What systemd in the guest says (SYSTEMD_VIRTUALIZATION, systemd-detect-virt): TCG is "qemu".
VIRTUALIZATION = "vm:qemu"


def prime(stage: Path, cmdline: str = "") -> None:
    """`ccgen prime` on a staged tree, with the image's own ccgen (a chroot): the plan's
    fingerprint includes ccgen's installation, which another copy of ccgen would not match."""
    run("chroot", str(stage), "ccgen", "prime", "--root", "/", "--cmdline", kernel_cmdline(cmdline),
        "--virtualization", VIRTUALIZATION, timeout=300)  # fmt: skip


def boot(
    disk: Disk,
    workdir: Path,
    cmdline: str = "",
    server_port: int | None = None,
    extra_disks: tuple[Path, ...] = (),
    timeout: float = 420,
    scratch_disks: tuple[Path, ...] = (),
    uuid: str | None = None,
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
        "-append", kernel_cmdline(cmdline),
        "-drive", f"file={disk.path},format=raw,if=virtio",
        "-netdev", netdev, "-device", "virtio-net-pci,netdev=n0",
    ]  # fmt: skip
    if uuid is not None:  # the machine's DMI product_uuid: what tells a clone from its image
        cmd += ["-uuid", uuid]
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
