"""ccgen fetch: get user-data from a provider, store it atomically, and compile again if it changed.

The loop every provider shares: argument checks, finding and mounting a
device, the deadline, the cache lock, the never-replace-a-good-cache rule and
the reload.  What a provider fetches is its own module's business.
"""

from __future__ import annotations

import argparse
import math
import os
import sys
import time

from ccgen import cache

from . import attributes, registry, store
from .base import FetchError, Provider, Request, Result, Unavailable

RUN_DIR = "/run/ccgen"


def _say(message: str) -> None:
    from ccgen.diag import one_line
    from ccgen.redact import in_text

    # Messages quote servers' answers and headers: their control characters escaped, and
    # the URLs they name without credentials (an #include's password or signature).
    sys.stderr.write(f"ccgen fetch: {one_line(in_text(message), 2000)}\n")


def _seconds(text: str) -> float:
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a number: {text!r}") from None
    if not math.isfinite(value) or value <= 0:
        raise argparse.ArgumentTypeError(f"must be a positive number of seconds, not {text!r}")
    return value


def parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="ccgen fetch", description="Fetch user-data into the cache.")
    p.add_argument("provider", choices=sorted(registry.providers()))
    p.add_argument("--endpoint", default=None, help="the metadata service's URL (tests use their own server)")
    p.add_argument("--source", help="read an already-mounted device tree instead of finding the device")
    p.add_argument("--cache-dir", default=cache.DIR)
    p.add_argument("--run-dir", default=RUN_DIR, help="per-boot state (which provider answered)")
    p.add_argument(
        "--metadata-file",
        # The test suite sets CCGEN_METADATA_FILE, so that no test can write the real one.
        default=os.environ.get("CCGEN_METADATA_FILE") or attributes.PATH,
        help="the attributes file other units read (default /run/metadata/ccgen)",
    )
    p.add_argument("--deadline", type=_seconds, default=90.0, help="seconds for the whole fetch")
    p.add_argument("--device-timeout", type=_seconds, default=5.0, help="seconds to wait for a device")
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


def _ccgen() -> str:
    """The ccgen command beside this one, for the commands it starts."""
    from ccgen.inputs import Reader, ccgen_path

    return ccgen_path(Reader("/", argv0=sys.argv[0]))


def _from_device(p: Provider, a: argparse.Namespace) -> tuple[int, str, str]:
    """Find the provider's device, and run this command again with it mounted as --source."""
    from . import device

    found = device.find_device(p.labels, a.device_timeout)
    if found is None:
        message = f"no device labelled {' or '.join(p.labels)}"
        _say(f"{message}; the cache is kept")
        return 0, "unavailable", message
    argv = [_ccgen(), "fetch", p.name, "--cache-dir", a.cache_dir, "--run-dir", a.run_dir]
    argv += ["--metadata-file", a.metadata_file]
    argv += ["--deadline", str(a.deadline)] + (["--reload"] if a.reload else [])
    status = os.spawnvp(os.P_WAIT, "unshare", device.mount_command(found, argv))
    return status, "device", f"ran with {found} mounted (exit {status})"


def _fetch(p: Provider, a: argparse.Namespace, kernel: dict[str, str]) -> Result | tuple[int, str, str]:
    """The provider's result, or (exit status, result, detail) when there is nothing to store."""
    forbid = os.environ.get("CCGEN_FORBID_DEFAULT_ENDPOINT") == "1"
    if p.default_endpoint is not None and a.endpoint is None and forbid:
        # The test suite sets this: a test that forgot its own server fails, sending nothing.
        # (Providers without a platform address take theirs from the test's own input.)
        message = "refusing the platform's real metadata address (CCGEN_FORBID_DEFAULT_ENDPOINT=1)"
        _say(message)
        return 2, "failed", message
    if p.labels and a.source is None:
        return _from_device(p, a)
    root = os.environ.get("CCGEN_ROOT") or "/"
    req = Request(endpoint=a.endpoint, source=a.source, deadline=a.deadline, kernel=kernel, root=root)
    try:
        return p.fetch(req)
    except Unavailable as e:
        _say(f"{e}; the cache is kept")
        return 0, "unavailable", str(e)
    except FetchError as e:
        _say(f"failed: {e}; the cache is kept")
        return 1, "failed", str(e)
    except Exception as e:  # a defect in a provider: still a failed fetch, recorded, cache kept
        if os.environ.get("CCGEN_DEBUG") == "1":
            raise
        why = f"internal error: {type(e).__name__}: {str(e)[:200]}"
        _say(f"failed: {why}; the cache is kept")
        return 1, "failed", why


def record(run_dir: str, provider: str, result: str, detail: str) -> None:
    """What this fetch did, for `ccgen status` (/run/ccgen/fetch.json)."""
    import json

    from ccgen.redact import in_text

    body = {"provider": provider, "result": result, "detail": in_text(detail), "time": int(time.time())}
    try:
        attributes.replace(os.path.join(run_dir, "fetch.json"), json.dumps(body).encode())
    except OSError as e:
        _say(f"cannot record the fetch in {run_dir}: {e.strerror or e}")


def _includes(p: Provider, a: argparse.Namespace, got: Result, started: float) -> dict[str, bytes]:
    """What the user-data's #include URLs answer, within the same deadline (providers/include.py).
    A provider that runs before the network is up cannot fetch them."""
    if got.user_data is None:
        return {}
    from . import include

    if not p.network:
        if include.wanted(got.user_data):
            _say(f"include: not fetched: {p.name} runs before the network is up")
        return {}
    old = store.load(a.cache_dir)
    return include.fetch_all(got.user_data, started + a.deadline, old.includes if old else {}, _say)


def _attributes(a: argparse.Namespace, meta: cache.Metadata, origin: str) -> None:
    try:
        attributes.write(a.metadata_file, meta, origin)
    except OSError as e:
        _say(f"cannot write {a.metadata_file}: {e.strerror or e}")


def _attributes_from_cache(a: argparse.Namespace) -> None:
    """After a failed fetch other units still get this instance's metadata, from the cache;
    never a cache fetched on another machine (a cloned image)."""
    from ccgen.inputs import Reader

    snap = store.load(a.cache_dir)
    if snap is None or not snap.metadata.provider:
        return
    if not cache.belongs_here(Reader(os.environ.get("CCGEN_ROOT") or "/"), snap.metadata):
        return
    _attributes(a, snap.metadata, f"{snap.metadata.provider}, from the cache")


def main(argv: list[str]) -> int:
    started = time.monotonic()
    a = parser().parse_args(argv)
    from ccgen.inputs import Reader, kernel_options

    kernel = kernel_options(Reader(os.environ.get("CCGEN_ROOT") or "/"))
    p = registry.providers()[a.provider].for_kernel(kernel)
    status, result, detail = _run(p, a, kernel, started)
    if result in ("failed", "unavailable"):
        _attributes_from_cache(a)
    if result != "device":  # the mounted run records itself
        record(a.run_dir, p.name, result, detail)
    return status


def _run(p: Provider, a: argparse.Namespace, kernel: dict[str, str], started: float) -> tuple[int, str, str]:
    from ccgen.inputs import Reader

    other = _answered_already(a.run_dir, p.name)
    if other is not None:
        _say(f"{other} already answered in this boot; nothing to do")
        return 0, "skipped", f"{other} already answered in this boot"
    got = _fetch(p, a, kernel)
    if isinstance(got, tuple):
        return got
    for note in got.notes:
        _say(note)
    from . import values

    for dropped in values.take_dropped():  # as the provider's answers became Metadata
        _say(f"warning: {dropped}")

    state = cache.PRESENT if got.user_data is not None else cache.ABSENT
    meta = got.metadata.replace(
        provider=p.name,
        state=state,
        machine_key=cache.machine_key(Reader(os.environ.get("CCGEN_ROOT") or "/")),
    )
    snap = store.Snapshot(got.user_data, meta, got.keys, _includes(p, a, got, started))
    try:
        with store.locked(a.cache_dir):
            changed = store.store(a.cache_dir, snap)
    except FetchError as e:
        _say(f"{e}; nothing stored")
        return 1, "failed", str(e)
    except OSError as e:
        _say(f"cannot store the cache in {a.cache_dir}: {e.strerror or e}")
        return 1, "failed", f"cannot store the cache: {e.strerror or e}"
    _mark_answered(a.run_dir, p.name)
    _attributes(a, meta, p.name)
    if changed:
        result, detail = "stored", f"user-data {state}, {len(snap.keys)} key(s)"
    else:
        result, detail = "unchanged", f"user-data {state}"
    _say(f"{p.name}: {result} ({detail})")
    status = 0
    if got.finish is not None:
        try:
            got.finish()
        except FetchError as e:
            _say(f"{p.name}: {e}")
            status, detail = 1, f"{detail}; {e}"
    if not changed or not a.reload:
        return status, result, detail
    from ccgen import reload

    return reload.rerun_in_own_unit(p.name, _ccgen()) or status, result, f"{detail}; reloaded"
