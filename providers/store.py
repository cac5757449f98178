"""Writing the cache so that a crash, a kill -9 or a second fetch leaves the old cache or the
new one, whole.  The layout is ccgen.base.cache's; this module only writes it.

Each fetch result is a snapshot directory named after its content
(snap-HASH, 0700, files 0600).  It is written under a temporary name, every
file and the directory are fsync'd, and it is renamed into place; then the
symlink `current` is switched to it with a rename and the cache directory is
fsync'd.  A snapshot is reused only after its content is checked against its
name, and an old snapshot is renamed away before it is deleted, so a killed
prune can never leave a directory that looks complete.  Every writer holds the
cache's lock.
"""

from __future__ import annotations

import errno
import fcntl
import hashlib
import os
import shutil
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from ccgen.base import cache
from ccgen.base.cache import Metadata
from ccgen.bootpath import atomic

from .base import FetchError


def _no_checkpoint(name: str) -> None:
    pass


# A fault-injection seam: the crash tests replace it with one that dies at a named point.
checkpoint: Callable[[str], None] = _no_checkpoint


class Snapshot:
    def __init__(
        self,
        user_data: bytes | None,
        metadata: Metadata,
        keys: tuple[str, ...] = (),
        includes: dict[str, bytes] | None = None,
        network: bytes | None = None,
    ) -> None:
        self.user_data = user_data
        self.metadata = metadata
        self.keys = keys
        self.includes = includes or {}  # cache.include_name(url) -> what the URL answered
        self.network = network  # the platform's network data (providers/netconf/stored.py)

    def files(self) -> dict[str, bytes]:
        out = {
            "metadata": self.metadata.to_env().encode(),
            "ssh-keys": "".join(k + "\n" for k in self.keys).encode(),
        }
        if self.user_data is not None:
            out["user-data"] = self.user_data
        if self.network is not None:
            out["network"] = self.network
        out.update(self.includes)
        return out

    def digest(self) -> str:
        return files_digest(self.files())

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Snapshot) and self.files() == other.files()

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Snapshot({self.files()!r})"


def files_digest(files: dict[str, bytes]) -> str:
    h = hashlib.sha256()
    for name, data in sorted(files.items()):
        h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
    return h.hexdigest()[:24]


LOCK_WAIT = 60.0


@contextmanager
def locked(cache_dir: str, wait: float = LOCK_WAIT) -> Iterator[None]:
    """The cache's lock; a second fetch waits for the first, at most `wait` seconds."""
    prepare(cache_dir)
    fd = os.open(
        os.path.join(cache_dir, cache.LOCK), os.O_RDWR | os.O_CREAT | os.O_CLOEXEC | os.O_NOFOLLOW, 0o600
    )
    try:
        until = time.monotonic() + wait
        while True:
            try:
                fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
                break
            except OSError as e:
                if e.errno not in (errno.EAGAIN, errno.EACCES):
                    raise
                if time.monotonic() >= until:
                    raise FetchError(f"another fetch has held {cache_dir} for {wait:g}s") from None
                time.sleep(0.05)
        yield
    finally:
        os.close(fd)  # closing drops the lock


def prepare(cache_dir: str) -> None:
    os.makedirs(cache_dir, mode=0o700, exist_ok=True)
    os.chmod(cache_dir, 0o700)


def current_digest(cache_dir: str) -> str | None:
    try:
        target = os.readlink(os.path.join(cache_dir, cache.CURRENT))
    except OSError:
        return None
    return target[len(cache.SNAPSHOT_PREFIX) :] if target.startswith(cache.SNAPSHOT_PREFIX) else None


def _read_dir(path: str) -> dict[str, bytes] | None:
    """The snapshot files in a directory, or None when it cannot be read."""
    out = {}
    try:
        for name in os.listdir(path):
            if name not in cache.FILES and not cache.is_include_name(name):
                return None
            with open(os.path.join(path, name), "rb") as f:
                out[name] = f.read()
    except OSError:
        return None
    return out


def verified(cache_dir: str, digest: str) -> bool:
    """The snapshot directory exists and holds exactly the content its name says."""
    found = _read_dir(os.path.join(cache_dir, cache.SNAPSHOT_PREFIX + digest))
    return found is not None and files_digest(found) == digest


def store(cache_dir: str, snap: Snapshot) -> bool:
    """Make `snap` the current cache; False when it already was.  Hold locked() around it."""
    prepare(cache_dir)
    digest = snap.digest()
    name = cache.SNAPSHOT_PREFIX + digest
    if current_digest(cache_dir) == digest and verified(cache_dir, digest):
        _finish(cache_dir, name)  # a run that died after the switch left this undone
        return False
    final = os.path.join(cache_dir, name)
    if os.path.lexists(final) and not verified(cache_dir, digest):
        _discard(cache_dir, name)  # left by a crash: never trusted, rebuilt below
    if not os.path.lexists(final):
        tmp = f".tmp-{digest}-{os.getpid()}"
        shutil.rmtree(os.path.join(cache_dir, tmp), ignore_errors=True)
        os.mkdir(os.path.join(cache_dir, tmp), 0o700)
        dfd = os.open(os.path.join(cache_dir, tmp), os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        try:
            for fname, data in snap.files().items():
                atomic.write_at(dfd, fname, data, mode=0o600, sync=True)
                checkpoint("file-written")
        finally:
            os.close(dfd)
        os.rename(os.path.join(cache_dir, tmp), final)
        atomic.fsync_dir(cache_dir)
        checkpoint("snapshot-renamed")
    cdfd = os.open(cache_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        atomic.symlink_at(cdfd, cache.CURRENT, name, sync=True)
    finally:
        os.close(cdfd)
    checkpoint("current-switched")
    _finish(cache_dir, name)
    return True


def _finish(cache_dir: str, name: str) -> None:
    """The fixed links into current/, and no snapshot but the current one."""
    dfd = os.open(cache_dir, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        for fname in cache.FILES:
            want = f"{cache.CURRENT}/{fname}"
            try:
                if os.readlink(fname, dir_fd=dfd) == want:
                    continue
            except OSError:
                pass
            atomic.symlink_at(dfd, fname, want)
        os.fsync(dfd)
    finally:
        os.close(dfd)
    checkpoint("links-fixed")
    for entry in os.listdir(cache_dir):
        if entry != name and entry.startswith((cache.SNAPSHOT_PREFIX, ".tmp-", ".old-")):
            _discard(cache_dir, entry)
            checkpoint("pruned-one")


def _discard(cache_dir: str, entry: str) -> None:
    """Rename away first: a half-deleted directory must never keep a snapshot's name."""
    path = os.path.join(cache_dir, entry)
    if entry.startswith(cache.SNAPSHOT_PREFIX):
        gone = os.path.join(cache_dir, f".old-{entry}-{os.getpid()}")
        os.rename(path, gone)
        atomic.fsync_dir(cache_dir)
        path = gone
    shutil.rmtree(path, ignore_errors=True)


def load(cache_dir: str) -> Snapshot | None:
    """The current snapshot, or None when there is none (or it is not whole)."""
    base = os.path.join(cache_dir, cache.CURRENT)
    found = _read_dir(base)
    if found is None or "metadata" not in found or "ssh-keys" not in found:
        return None
    meta = Metadata.from_env(cache.parse_env(found["metadata"].decode("utf-8", "replace")))
    keys = tuple(found["ssh-keys"].decode("utf-8", "replace").splitlines())
    includes = {n: d for n, d in found.items() if cache.is_include_name(n)}
    return Snapshot(found.get("user-data"), meta, keys, includes, found.get("network"))
