"""/run/metadata/ccgen: the instance's metadata for other units' EnvironmentFile=.

Afterburn's attributes file, done the ccgen way: one KEY=VALUE line for each
value the platform gave (an unknown value has no line, so `${CCGEN_ZONE:-x}`
works), with CoreOS's COREOS_*_IPV4/IPV6 names beside ccgen's own.  Values
are plain words (providers/values.py), so no line needs quoting.  It holds no
secret (no user-data, no keys), so it is world-readable like /etc/environment.
"""

from __future__ import annotations

import os

from ccgen.base import cache
from ccgen.base.cache import Metadata
from ccgen.bootpath import atomic
from ccgen.lang import subst

from . import values

PATH = "/run/metadata/ccgen"

# Metadata attribute -> CCGEN_ name, in the file's order.
NAMES = (
    ("provider", "CCGEN_PROVIDER"),
    ("instance_id", "CCGEN_INSTANCE_ID"),
    ("hostname", "CCGEN_HOSTNAME"),
    ("region", "CCGEN_REGION"),
    ("zone", "CCGEN_ZONE"),
    ("instance_type", "CCGEN_INSTANCE_TYPE"),
    ("public_ipv4", "CCGEN_IPV4_PUBLIC"),
    ("local_ipv4", "CCGEN_IPV4_PRIVATE"),
    ("public_ipv6", "CCGEN_IPV6_PUBLIC"),
    ("local_ipv6", "CCGEN_IPV6_PRIVATE"),
)


def lines(meta: Metadata) -> dict[str, str]:
    out = {name: getattr(meta, attr) for attr, name in NAMES}
    # The names the original wrote to /etc/environment, from the table $public_ipv4 uses.
    for attr, env in subst.VARIABLES.values():
        out[env] = getattr(meta, attr)
    # The cache may hold a value from before providers/values.py checked them: never a bad line.
    return {k: v for k, v in out.items() if v and values.text(v) == v}


def render(meta: Metadata, origin: str) -> str:
    head = f"# Written by ccgen fetch ({origin}); docs/providers.md describes every name.\n"
    return head + cache.format_env(lines(meta))


def write(path: str, meta: Metadata, origin: str) -> None:
    replace(path, render(meta, origin).encode())


def replace(path: str, data: bytes) -> None:
    """Replace a 0644 file under /run atomically: a reader sees the old one or the new one."""
    directory = os.path.dirname(path) or "."
    os.makedirs(directory, mode=0o755, exist_ok=True)
    dfd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        atomic.write_at(dfd, os.path.basename(path), data, mode=0o644, sync=False)
    finally:
        os.close(dfd)
