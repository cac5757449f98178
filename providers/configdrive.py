"""OpenStack config-drive: a filesystem labelled config-2 (iso9660 or vfat)."""

from __future__ import annotations

import json
import os
import subprocess
import time

from .store import Snapshot

LABELS = ("config-2", "CONFIG-2")
BY_LABEL = "/dev/disk/by-label"
MAX_FILE = 16 * 1024 * 1024


class FetchError(Exception):
    pass


def _read(path: str) -> bytes | None:
    try:
        with open(path, "rb") as f:
            data = f.read(MAX_FILE + 1)
    except FileNotFoundError:
        return None
    except OSError as e:
        raise FetchError(f"{path}: {e.strerror}") from None
    if len(data) > MAX_FILE:
        raise FetchError(f"{path}: larger than {MAX_FILE} bytes")
    return data


def read_tree(source: str) -> tuple[Snapshot, list[str]]:
    """The user-data and metadata of a mounted config drive."""
    notes: list[str] = []
    latest = os.path.join(source, "openstack", "latest")
    if not os.path.isdir(latest):
        raise FetchError(f"{latest} does not exist: not a config drive")
    user_data = _read(os.path.join(latest, "user_data"))
    raw = _read(os.path.join(latest, "meta_data.json"))
    meta: dict[str, str] = {"PROVIDER": "configdrive"}
    keys: list[str] = []
    if raw is not None and raw.strip():
        try:
            doc = json.loads(raw)
        except ValueError as e:
            # Keep the previous cache rather than act on half-understood metadata.
            raise FetchError(f"meta_data.json is not valid JSON: {e}") from None
        if not isinstance(doc, dict):
            raise FetchError("meta_data.json is not a JSON object")
        for key, name in (("uuid", "INSTANCE_ID"), ("hostname", "HOSTNAME")):
            value = doc.get(key)
            if isinstance(value, str) and value and "\n" not in value:
                meta[name] = value
        public = doc.get("public_keys")
        if isinstance(public, dict):
            keys += [v.strip() for _, v in sorted(public.items()) if isinstance(v, str) and v.strip()]
        listed = doc.get("keys")
        if isinstance(listed, list):
            for item in listed:
                if isinstance(item, dict) and item.get("type") == "ssh" and isinstance(item.get("data"), str):
                    keys.append(item["data"].strip())
    keys = [k for k in dict.fromkeys(keys) if "\n" not in k]
    return Snapshot.of(user_data, meta, keys), notes


def find_device(timeout: float, by_label: str = BY_LABEL) -> str | None:
    """The config drive's device, waiting at most `timeout` seconds for udev to show it."""
    until = time.monotonic() + timeout
    while True:
        for label in LABELS:
            path = os.path.join(by_label, label)
            if os.path.exists(path):
                return os.path.realpath(path)
        if time.monotonic() >= until:
            break
        time.sleep(0.2)
    try:
        proc = subprocess.run(
            ["blkid", "-l", "-o", "device", "-t", "LABEL=config-2"],
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return None
    found = proc.stdout.strip()
    return found or None


def mount_command(device: str, ccgen: str, args: list[str]) -> list[str]:
    """Run `ccgen fetch configdrive --source MNT ...` with the drive mounted in a private
    mount namespace: when that process ends, however it ends, nothing stays mounted."""
    script = (
        "set -e; mnt=$(mktemp -d /run/ccgen-configdrive.XXXXXX); "
        'trap \'umount "$mnt" 2>/dev/null; rmdir "$mnt"\' EXIT; '
        'mount -o ro,nosuid,nodev,noexec "$1" "$mnt"; shift; "$@" --source "$mnt"'
    )
    return ["unshare", "--mount", "--propagation", "private", "sh", "-c", script, "sh", device, ccgen, *args]
