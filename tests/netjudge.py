"""systemd-networkd as the judge of the networkd files ccgen writes.

`systemd-analyze verify` does not read `.network` or `.netdev` files, so the judges are
networkd's own: the table of (section, key) its parser knows, read from its binary, and
networkd itself, run for a few seconds in private mount and network namespaces over a
directory of files, reporting every line it would ignore or could not parse.
"""

from __future__ import annotations

import functools
import re
import shutil
import subprocess
from pathlib import Path

NETWORKD = Path("/lib/systemd/systemd-networkd")
SECTIONS = ("Match", "Link", "Network", "Address", "Route", "NetDev", "Bond", "VLAN", "DHCPv4", "DHCPv6")


@functools.cache
def known_keys() -> frozenset[tuple[str, str]]:
    """Every Section.Key networkd's gperf tables hold (they are NUL-terminated strings)."""
    data = NETWORKD.read_bytes()
    pattern = rb"(?<![A-Za-z0-9.])(" + b"|".join(s.encode() for s in SECTIONS) + rb")\.([A-Za-z0-9]+)\0"
    return frozenset((m.group(1).decode(), m.group(2).decode()) for m in re.finditer(pattern, data))


def run_networkd(files: dict[str, str], workdir: Path) -> list[str] | None:
    """What networkd says about `files` (name -> text) when it loads them, or None when it
    cannot be run here (not root, no unshare).  /run and the network directories are
    private tmpfs mounts and the network namespace is empty: nothing of the host is touched."""
    unshare = shutil.which("unshare")
    if unshare is None or not NETWORKD.exists():
        return None
    src = workdir / "networkd-input"
    src.mkdir(parents=True)
    for name, text in files.items():
        (src / name).write_text(text)
    script = (
        "set -e; mount -t tmpfs none /run; mkdir -p /run/systemd/network;"
        f" cp {src}/* /run/systemd/network/;"
        " for d in /etc/systemd/network /usr/lib/systemd/network; do mount -t tmpfs none $d; done;"
        f" SYSTEMD_LOG_TARGET=console SYSTEMD_LOG_LEVEL=info timeout 4 {NETWORKD} 2>&1 || true"
    )
    proc = subprocess.run([unshare, "-mn", "sh", "-c", script], capture_output=True, text=True, timeout=60)
    if proc.returncode != 0:
        return None
    return [ln for ln in proc.stdout.splitlines() if ln.startswith("/run/systemd/network/")]
