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

from ccgen.base import cache

from . import attributes, registry, store
from .base import FetchError, Provider, Request, Result, Unavailable

RUN_DIR = "/run/ccgen"


def _say(message: str) -> None:
    from ccgen.base.diag import one_line
    from ccgen.base.redact import in_text

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
    p.add_argument(
        "--root",
        metavar="DIR",
        help="read and write every path under DIR (the cache, /run/ccgen, /run/metadata/ccgen, "
        "the devices' mount points, /proc/cmdline), as apply --root does",
    )
    p.add_argument("--cache-dir", help=f"the cache (default {cache.DIR} under the root)")
    p.add_argument(
        "--run-dir", help=f"per-boot state, which provider answered (default {RUN_DIR} under the root)"
    )
    p.add_argument(
        "--metadata-file",
        help=f"the attributes file other units read (default {attributes.PATH} under the root)",
    )
    p.add_argument("--deadline", type=_seconds, default=90.0, help="seconds for the whole fetch")
    p.add_argument("--device-timeout", type=_seconds, default=5.0, help="seconds to wait for a device")
    p.add_argument(
        "--reload", action="store_true", help="daemon-reload and start new units when data changed"
    )
    return p


def _paths(a: argparse.Namespace) -> None:
    """Every path under the root: --root, else CCGEN_ROOT (the tests' and the boot tests'
    whole-tree override), else /; a path given on its own wins."""
    from ccgen.read.inputs import host_path

    root = a.root or os.environ.get("CCGEN_ROOT") or "/"
    a.root = root
    a.cache_dir = a.cache_dir or host_path(root, cache.DIR)
    a.run_dir = a.run_dir or host_path(root, RUN_DIR)
    # The test suite sets CCGEN_METADATA_FILE, so that no test without --root can write the
    # real one.
    env_file = os.environ.get("CCGEN_METADATA_FILE") if root == "/" else None
    a.metadata_file = a.metadata_file or env_file or host_path(root, attributes.PATH)


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
    from ccgen.read.inputs import Reader, ccgen_path

    return ccgen_path(Reader("/", argv0=sys.argv[0]))


def _from_device(p: Provider, a: argparse.Namespace) -> tuple[int, str, str]:
    """Find the provider's device, and run this command again with it mounted as --source."""
    from . import device

    found = device.find_device(p.labels, a.device_timeout)
    if found is None:
        message = f"no device labelled {' or '.join(p.labels)}"
        _say(f"{message}; the cache is kept")
        return 0, "unavailable", message
    argv = [_ccgen(), "fetch", p.name, "--root", a.root, "--cache-dir", a.cache_dir, "--run-dir", a.run_dir]
    argv += ["--metadata-file", a.metadata_file]
    argv += ["--deadline", str(a.deadline)] + (["--reload"] if a.reload else [])
    status = os.spawnvp(os.P_WAIT, "unshare", device.mount_command(found, argv, a.root))
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
    req = Request(endpoint=a.endpoint, source=a.source, deadline=a.deadline, kernel=kernel, root=a.root)
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


def record(
    run_dir: str, provider: str, result: str, detail: str, extra: dict[str, object] | None = None
) -> None:
    """What this fetch did, for `ccgen status` (/run/ccgen/fetch.json)."""
    import json

    from ccgen.base.redact import in_text

    body = {"provider": provider, "result": result, "detail": in_text(detail), "time": int(time.time())}
    body.update(extra or {})
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
    from ccgen.read.inputs import Reader

    snap = store.load(a.cache_dir)
    if snap is None or not snap.metadata.provider:
        return
    if not cache.belongs_here(Reader(a.root), snap.metadata):
        return
    _attributes(a, snap.metadata, f"{snap.metadata.provider}, from the cache")


def main(argv: list[str]) -> int:
    started = time.monotonic()
    a = parser().parse_args(argv)
    _paths(a)
    from ccgen.read.inputs import Reader, kernel_options

    kernel = kernel_options(Reader(a.root))
    p = registry.providers()[a.provider].for_kernel(kernel)
    extra: dict[str, object] = {}
    status, result, detail = _run(p, a, kernel, started, extra)
    if result in ("failed", "unavailable"):
        _attributes_from_cache(a)
    if result != "device":  # the mounted run records itself
        record(a.run_dir, p.name, result, detail, extra)
    return status


def _network(data: bytes | None, extra: dict[str, object]) -> str:
    """The platform's network data converted once here, for its problems: the record and
    the journal say them at the fetch; `ccgen apply` converts the stored data again."""
    if data is None:
        return ""
    from .netconf import render, stored

    source, links, problems = stored.convert(data)
    for problem in problems:
        _say(f"network: {problem.format()}")
    extra["network"] = {
        "source": source,
        "units": sorted(render.render(links)),
        "problems": [p.format() for p in problems],
    }
    errors = sum(1 for p in problems if p.severity == "error")
    return f"; network from {source}: {len(links)} link(s)" + (f", {errors} error(s)" if errors else "")


def _run(
    p: Provider, a: argparse.Namespace, kernel: dict[str, str], started: float, extra: dict[str, object]
) -> tuple[int, str, str]:
    from ccgen.read.inputs import Reader

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
        machine_key=cache.machine_key(Reader(a.root)),
    )
    network_data = got.network
    includes = _includes(p, a, got, started)
    try:
        with store.locked(a.cache_dir):
            if network_data is None and got.network_unusable:
                # The platform's network data is there but damaged: the last good one stays.
                before = store.load(a.cache_dir)
                network_data = before.network if before is not None else None
                if network_data is not None:
                    _say("network: the platform's network data cannot be used; the cached one is kept")
            snap = store.Snapshot(got.user_data, meta, got.keys, includes, network_data)
            changed = store.store(a.cache_dir, snap)
    except FetchError as e:
        _say(f"{e}; nothing stored")
        return 1, "failed", str(e)
    except OSError as e:
        _say(f"cannot store the cache in {a.cache_dir}: {e.strerror or e}")
        return 1, "failed", f"cannot store the cache: {e.strerror or e}"
    network = _network(network_data, extra)
    _mark_answered(a.run_dir, p.name)
    _attributes(a, meta, p.name)
    if changed:
        result, detail = "stored", f"user-data {state}, {len(snap.keys)} key(s){network}"
    else:
        result, detail = "unchanged", f"user-data {state}{network}"
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
    from . import reload

    return reload.rerun_in_own_unit(p.name, _ccgen()) or status, result, f"{detail}; reloaded"
