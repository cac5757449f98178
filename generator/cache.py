"""The on-disk cache the providers fill and the generator and apply steps read.

/var/lib/ccgen/ is root-only (0700) with 0600 files:
  user-data   the user's raw cloud-config bytes (absent when there is none)
  metadata    KEY=VALUE lines: STATE, PROVIDER, INSTANCE_ID, HOSTNAME, LOCAL_IPV4, ...
  ssh-keys    the platform's public keys, one per line
  applied     what ccgen apply has done, for once-only semantics
"""

from __future__ import annotations

import os

DIR = "/var/lib/ccgen"
USER_DATA = f"{DIR}/user-data"
METADATA = f"{DIR}/metadata"
SSH_KEYS = f"{DIR}/ssh-keys"
APPLIED = f"{DIR}/applied"

# STATE values: the user-data is in the cache, is known not to exist, or nobody knows.
PRESENT, ABSENT, UNKNOWN = "present", "absent", "unknown"


def parse_env(text: str) -> dict[str, str]:
    """KEY=VALUE lines; blank lines, comments and optional double quotes allowed."""
    out: dict[str, str] = {}
    for line in text.splitlines():
        line = line.strip()
        if not line or line.startswith("#") or "=" not in line:
            continue
        key, _, value = line.partition("=")
        value = value.strip()
        if len(value) >= 2 and value[0] == value[-1] and value[0] in "\"'":
            value = value[1:-1]
        out[key.strip()] = value
    return out


def format_env(values: dict[str, str]) -> str:
    return "".join(f"{k}={v}\n" for k, v in values.items() if "\n" not in v and "\n" not in k)


def read_env(root: str, path: str) -> dict[str, str]:
    try:
        with open(os.path.join(root, path.lstrip("/")), encoding="utf-8", errors="replace") as f:
            return parse_env(f.read(1024 * 1024))
    except OSError:
        return {}


def metadata(root: str) -> dict[str, str]:
    return read_env(root, METADATA)


def marker(instance: str, identity: str) -> str:
    """The file under APPLIED that records one applied item for one instance."""
    import hashlib

    return hashlib.sha256(f"{instance}\0{identity}".encode()).hexdigest()[:40]


DMI_KEYS = ("/sys/class/dmi/id/product_uuid", "/sys/class/dmi/id/board_asset_tag")


def machine_key(root: str) -> str:
    """What tells this machine from a clone of its image: the hypervisor's DMI identity."""
    for path in DMI_KEYS:
        try:
            with open(os.path.join(root, path.lstrip("/")), encoding="ascii", errors="replace") as f:
                value = f.read(256).strip()
        except OSError:
            continue
        if value and value.lower() not in ("not specified", "none", "default string"):
            return value
    return ""


def belongs_here(root: str, meta: dict[str, str]) -> bool:
    """False when the cache was fetched on another machine (a cloned image)."""
    recorded = meta.get("MACHINE_KEY", "")
    if not recorded:
        return True
    current = machine_key(root)  # read only when there is something to compare
    return not current or current == recorded


def read_bytes(root: str, path: str) -> bytes:
    """A cache file's bytes (the cache's own links are followed), or b"" when missing."""
    try:
        with open(os.path.join(root, path.lstrip("/")), "rb") as f:
            return f.read(16 * 1024 * 1024)
    except OSError:
        return b""
