"""The cache: written so that a crash or power loss leaves the old cache or the new one.

Each fetch result is a snapshot directory named after its content
(snap-HASH, 0700, files 0600).  It is written under a temporary name,
every file and the directory are fsync'd, and it is renamed into place; then
the symlink `current` is switched to it with a rename and the cache directory
is fsync'd.  user-data, metadata and ssh-keys in the cache directory are fixed
links into current/, so readers see one consistent snapshot.
"""

from __future__ import annotations

import hashlib
import os
import shutil
from dataclasses import dataclass, field

from ccgen import cache

FILES = ("user-data", "metadata", "ssh-keys")


def _checkpoint(name: str) -> None:
    # Crash tests name a point at which the process dies as if the power went off.
    if os.environ.get("CCGEN_TEST_CRASH_AT") == name:
        os._exit(137)


@dataclass(frozen=True)
class Snapshot:
    user_data: bytes | None
    metadata: dict[str, str] = field(default_factory=dict)
    keys: tuple[str, ...] = ()

    @staticmethod
    def of(user_data: bytes | None, metadata: dict[str, str], keys: list[str]) -> Snapshot:
        meta = dict(metadata)
        meta["STATE"] = cache.PRESENT if user_data is not None else cache.ABSENT
        return Snapshot(user_data, meta, tuple(keys))

    def files(self) -> dict[str, bytes]:
        out = {
            "metadata": cache.format_env(dict(sorted(self.metadata.items()))).encode(),
            "ssh-keys": "".join(k + "\n" for k in self.keys).encode(),
        }
        if self.user_data is not None:
            out["user-data"] = self.user_data
        return out

    def digest(self) -> str:
        h = hashlib.sha256()
        for name, data in sorted(self.files().items()):
            h.update(name.encode() + b"\0" + str(len(data)).encode() + b"\0" + data)
        return h.hexdigest()[:24]


def _fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def current_digest(cache_dir: str) -> str | None:
    try:
        target = os.readlink(os.path.join(cache_dir, "current"))
    except OSError:
        return None
    return target[len("snap-") :] if target.startswith("snap-") else None


def store(cache_dir: str, snap: Snapshot) -> bool:
    """Make `snap` the current cache; False when it already was."""
    os.makedirs(cache_dir, mode=0o700, exist_ok=True)
    os.chmod(cache_dir, 0o700)
    name = "snap-" + snap.digest()
    if current_digest(cache_dir) == snap.digest():
        _finish(cache_dir, name)  # a run that died after the switch left this undone
        return False
    final = os.path.join(cache_dir, name)
    if not os.path.isdir(final):
        tmp = os.path.join(cache_dir, f".tmp-{name}-{os.getpid()}")
        shutil.rmtree(tmp, ignore_errors=True)
        os.mkdir(tmp, 0o700)
        for fname, data in snap.files().items():
            fd = os.open(
                os.path.join(tmp, fname), os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW, 0o600
            )
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                os.fsync(fd)
            finally:
                os.close(fd)
            _checkpoint("file-written")
        _fsync_dir(tmp)
        os.rename(tmp, final)
        _checkpoint("snapshot-renamed")
    link_tmp = os.path.join(cache_dir, f".current-{os.getpid()}")
    if os.path.lexists(link_tmp):
        os.unlink(link_tmp)
    os.symlink(name, link_tmp)
    os.rename(link_tmp, os.path.join(cache_dir, "current"))
    _fsync_dir(cache_dir)
    _checkpoint("current-switched")
    _finish(cache_dir, name)
    return True


def _finish(cache_dir: str, name: str) -> None:
    """The fixed links into current/, and no snapshot but the current one."""
    for fname in FILES:
        link = os.path.join(cache_dir, fname)
        if os.path.islink(link) and os.readlink(link) == f"current/{fname}":
            continue
        tmp_link = link + f".tmp-{os.getpid()}"
        if os.path.lexists(tmp_link):
            os.unlink(tmp_link)
        os.symlink(f"current/{fname}", tmp_link)
        os.rename(tmp_link, link)
    _fsync_dir(cache_dir)
    _prune(cache_dir, keep=name)


def _prune(cache_dir: str, keep: str) -> None:
    """Old snapshots and leftovers of crashed runs go; the current one stays."""
    for entry in os.listdir(cache_dir):
        if entry != keep and (entry.startswith("snap-") or entry.startswith(".tmp-")):
            shutil.rmtree(os.path.join(cache_dir, entry), ignore_errors=True)


def load(cache_dir: str) -> Snapshot | None:
    """The current snapshot, or None when there is none."""
    base = os.path.join(cache_dir, "current")
    try:
        with open(os.path.join(base, "metadata"), encoding="utf-8") as f:
            meta = cache.parse_env(f.read())
        with open(os.path.join(base, "ssh-keys"), encoding="utf-8") as f:
            keys = tuple(f.read().splitlines())
    except OSError:
        return None
    try:
        with open(os.path.join(base, "user-data"), "rb") as f:
            user_data: bytes | None = f.read()
    except FileNotFoundError:
        user_data = None
    return Snapshot(user_data, meta, keys)
