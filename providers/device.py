"""Device providers: find a disk by its label, mount it read-only where nothing can outlive
the fetch, and read files from it with a size cap."""

from __future__ import annotations

import os
import subprocess
import time

from .base import FetchError

MAX_FILE = 16 * 1024 * 1024
BY_LABEL = "/dev/disk/by-label"


def read_file(path: str, limit: int = MAX_FILE, tree: str | None = None) -> bytes | None:
    """A regular file's bytes, None when it is missing; FetchError when unreadable or too big.
    With `tree` (a seed's or a drive's top directory), a path whose symlinks lead out of
    the tree is refused: a link inside a seed may point within it, never elsewhere."""
    from ccgen.read.inputs import read_file as read

    if tree is not None:
        top = os.path.realpath(tree)
        resolved = os.path.realpath(path)
        if os.path.commonpath([top, resolved]) != top:
            raise FetchError(f"{path}: a symlink out of {tree}; not followed")
        path = resolved
    try:
        data = read(path, limit)
    except OSError as e:
        raise FetchError(f"{path}: {e.strerror or e}") from None
    if data is not None and len(data) > limit:
        raise FetchError(f"{path}: larger than {limit} bytes")
    return data


def find_device(labels: tuple[str, ...], timeout: float, by_label: str = BY_LABEL) -> str | None:
    """The device with one of `labels`, waiting at most `timeout` seconds for udev to show it."""
    until = time.monotonic() + timeout
    while True:
        for label in labels:
            path = os.path.join(by_label, label)
            if os.path.exists(path):
                return os.path.realpath(path)
        if time.monotonic() >= until:
            break
        time.sleep(0.2)
    for label in labels:
        try:
            proc = subprocess.run(
                ["blkid", "-l", "-o", "device", "-t", f"LABEL={label}"],
                capture_output=True,
                text=True,
                timeout=10,
            )
        except (OSError, subprocess.TimeoutExpired):
            return None
        if proc.stdout.strip():
            return proc.stdout.strip()
    return None


def _run_dir(root: str) -> str:
    """Where the mount points are made: /run under the root `ccgen fetch --root` names."""
    return os.path.join(root, "run")


def _mounted(name: str, then: str, *args: str, root: str = "/") -> list[str]:
    """`sh -c` with the device ($1) mounted read-only at $mnt in a private mount namespace,
    running `then`: when that process ends, however it ends, nothing stays mounted.  The
    mount point is made in /run under `root`."""
    script = (
        f'set -e; mnt=$(mktemp -d "$0/ccgen-{name}.XXXXXX"); '
        'trap \'umount "$mnt" 2>/dev/null; rmdir "$mnt"\' EXIT; '
        'mount -o ro,nosuid,nodev,noexec "$1" "$mnt"; ' + then
    )
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, _run_dir(root), *args]


def mount_command(device: str, argv: list[str], root: str = "/") -> list[str]:
    """Run `argv --source MNT` with the device mounted (_mounted)."""
    return _mounted("source", 'shift; "$@" --source "$mnt"', device, *argv, root=root)


def read_from_device(
    device: str, name: str, timeout: float = 30.0, limit: int = MAX_FILE, root: str = "/"
) -> bytes | None:
    """One file from a device that is mounted read-only, for this read only, in a private mount
    namespace (a network provider's provisioning media); None when the file is not there."""
    argv = _mounted(
        "media", '[ -f "$mnt/$2" ] || exit 3; head -c "$3" "$mnt/$2"', device, name, str(limit + 1), root=root
    )
    try:
        proc = subprocess.run(argv, capture_output=True, timeout=timeout)
    except (OSError, subprocess.TimeoutExpired) as e:
        raise FetchError(f"cannot read {name} from {device}: {e}") from None
    if proc.returncode == 3:
        return None
    if proc.returncode != 0:
        problem = proc.stderr.decode("utf-8", "replace").strip().splitlines()
        raise FetchError(f"cannot read {name} from {device}: {problem[-1] if problem else proc.returncode}")
    if len(proc.stdout) > limit:
        raise FetchError(f"{name} on {device}: larger than {limit} bytes")
    return proc.stdout
