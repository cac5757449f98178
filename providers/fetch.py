"""ccgen fetch: get user-data from a provider, store it atomically, and compile again if it changed."""

from __future__ import annotations

import argparse
import os
import sys

from ccgen import cache, rerun

from . import configdrive, ec2, store

RUN_DIR = "/run/ccgen"


def _say(message: str) -> None:
    sys.stderr.write(f"ccgen fetch: {message}\n")


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ccgen fetch", description="Fetch user-data into the cache.")
    p.add_argument("provider", choices=("ec2", "configdrive"))
    p.add_argument("--endpoint", default=None, help="EC2 metadata service URL (tests use their own server)")
    p.add_argument("--source", help="read an already-mounted config drive tree")
    p.add_argument("--cache-dir", default=cache.DIR)
    p.add_argument("--run-dir", default=RUN_DIR, help="per-boot state (which provider answered)")
    p.add_argument("--deadline", type=float, default=90.0, help="seconds for the whole EC2 fetch")
    p.add_argument("--device-timeout", type=float, default=5.0, help="seconds to wait for the config drive")
    p.add_argument(
        "--reload", action="store_true", help="daemon-reload and start new units when data changed"
    )
    return p


def _answered_already(run_dir: str, provider: str) -> str | None:
    try:
        with open(os.path.join(run_dir, "fetched"), encoding="utf-8") as f:
            other = f.read().strip()
    except OSError:
        return None
    return other if other and other != provider else None


def _mark_answered(run_dir: str, provider: str) -> None:
    os.makedirs(run_dir, mode=0o755, exist_ok=True)
    with open(os.path.join(run_dir, "fetched"), "w", encoding="utf-8") as f:
        f.write(provider + "\n")


def _get(a: argparse.Namespace) -> store.Snapshot | int:
    """The provider's snapshot, or an exit status when there is nothing to store."""
    if a.provider == "ec2":
        if a.endpoint is None and os.environ.get("CCGEN_FORBID_DEFAULT_ENDPOINT") == "1":
            # The test suite sets this: a test that forgot its own server fails, sending nothing.
            _say("refusing the default metadata address (CCGEN_FORBID_DEFAULT_ENDPOINT=1)")
            return 2
        client = ec2.Client(a.endpoint or ec2.DEFAULT_ENDPOINT, deadline=a.deadline)
        try:
            snap, notes = ec2.fetch(client)
        except ec2.Disabled as e:
            _say(f"{e}; the cache is kept")
            return 0
        except ec2.FetchError as e:
            _say(f"failed: {e}; the cache is kept")
            return 1
    else:
        if a.source is None:
            device = configdrive.find_device(a.device_timeout)
            if device is None:
                _say("no config drive found; the cache is kept")
                return 0
            ccgen = os.path.join(os.path.dirname(os.path.realpath(sys.argv[0])), "ccgen")
            args = ["fetch", "configdrive", "--cache-dir", a.cache_dir, "--run-dir", a.run_dir]
            if a.reload:
                args.append("--reload")
            return os.spawnvp(os.P_WAIT, "unshare", configdrive.mount_command(device, ccgen, args))
        try:
            snap, notes = configdrive.read_tree(a.source)
        except configdrive.FetchError as e:
            _say(f"failed: {e}; the cache is kept")
            return 1
    for note in notes:
        _say(note)
    return snap


def main(argv: list[str]) -> int:
    a = parser().parse_args(argv)
    other = _answered_already(a.run_dir, a.provider)
    if other is not None:
        _say(f"{other} already answered in this boot; nothing to do")
        return 0
    got = _get(a)
    if isinstance(got, int):
        return got
    root = os.environ.get("CCGEN_ROOT") or "/"
    meta = dict(got.metadata)
    key = cache.machine_key(root)
    if key:
        meta["MACHINE_KEY"] = key
    snap = store.Snapshot(got.user_data, meta, got.keys)
    changed = store.store(a.cache_dir, snap)
    _mark_answered(a.run_dir, a.provider)
    state = meta.get("STATE", cache.UNKNOWN)
    if not changed:
        _say(f"{a.provider}: unchanged (user-data {state})")
        return 0
    _say(f"{a.provider}: stored (user-data {state}, {len(snap.keys)} key(s))")
    return rerun.reload_and_start() if a.reload else 0
