"""Writing under a root without following symlinks an unprivileged user could plant.

Every path is walked one component at a time from a directory fd.  A symlink
in the path is followed only when root owns it (an unprivileged user cannot
make one), and its target is resolved inside the root, as in a chroot.  The
file itself is written to a temporary name in its directory, given its mode
and owner, fsync'd and renamed into place, so a reader sees the old file or the
new one and a symlink at the destination is replaced rather than followed.
"""

from __future__ import annotations

import errno
import os
import stat
from dataclasses import dataclass

from ccgen.bootpath import atomic

MAX_SYMLINK_HOPS = 40  # Linux's own limit (MAXSYMLINKS)


class UnsafePath(OSError):
    pass


@dataclass(frozen=True)
class Owner:
    uid: int = 0
    gid: int = 0


def _split(path: str) -> list[str]:
    return [c for c in path.split("/") if c not in ("", ".")]


class Root:
    """A directory tree (`/` on a live system, an image under --root offline)."""

    def __init__(self, path: str = "/", *, trust_every_symlink: bool = False) -> None:
        self.path = path
        # Offline, an image tree belongs to whoever builds it; that user is trusted too.
        self.trusted_uids = frozenset((0, os.getuid()))
        self.trust_every_symlink = trust_every_symlink  # read-only checks of an image

    def host(self, path: str) -> str:
        return os.path.join(self.path, path.lstrip("/"))

    def _open_dir(self, path: str, *, create: bool, mode: int = 0o755) -> int:
        """An fd for directory `path`, creating missing parts with `mode` when asked."""
        root_fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
        fds = [root_fd]
        todo = _split(path)
        hops = 0
        try:
            while todo:
                name = todo.pop(0)
                if name == "..":
                    if len(fds) > 1:
                        os.close(fds.pop())
                    continue
                cur = fds[-1]
                try:
                    st = os.stat(name, dir_fd=cur, follow_symlinks=False)
                except FileNotFoundError:
                    if not create:
                        raise
                    os.mkdir(name, mode, dir_fd=cur)
                    os.chmod(name, mode, dir_fd=cur, follow_symlinks=False)
                    st = os.stat(name, dir_fd=cur, follow_symlinks=False)
                if stat.S_ISLNK(st.st_mode):
                    if st.st_uid not in self.trusted_uids and not self.trust_every_symlink:
                        raise UnsafePath(
                            errno.ELOOP, f"refusing to follow a symlink not owned by root: {name}"
                        )
                    hops += 1
                    if hops > MAX_SYMLINK_HOPS:
                        raise UnsafePath(errno.ELOOP, "too many symlinks")
                    target = os.readlink(name, dir_fd=cur)
                    if target.startswith("/"):
                        while len(fds) > 1:
                            os.close(fds.pop())
                    todo[:0] = _split(target)
                    continue
                if not stat.S_ISDIR(st.st_mode):
                    raise NotADirectoryError(errno.ENOTDIR, f"not a directory: {name}")
                fds.append(
                    os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=cur)
                )
            result = fds.pop()
            return result
        finally:
            for fd in fds:
                os.close(fd)

    def read(
        self, path: str, limit: int = 16 * 1024 * 1024, *, owners: frozenset[int] | None = None
    ) -> bytes | None:
        """The file's bytes, or None when it does not exist.

        With `owners`, the file must belong to one of them and have no other
        hard link, so that a user cannot make root copy a file it cannot read.
        """
        parent, name = os.path.split(path)
        try:
            dfd = self._open_dir(parent, create=False)
        except (FileNotFoundError, NotADirectoryError):
            return None
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dfd)
        except FileNotFoundError:
            return None
        finally:
            os.close(dfd)
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode):
                # A FIFO or device planted by a user must not hang or feed the run.
                raise UnsafePath(errno.EINVAL, f"{path} is not a regular file")
            if owners is not None and (st.st_nlink != 1 or st.st_uid not in owners):
                raise UnsafePath(errno.EPERM, f"{path} is not a plain file of its owner")
            return f.read(limit)

    def exists(self, path: str) -> bool:
        return os.path.lexists(self.host(path))

    def write(
        self,
        path: str,
        data: bytes,
        *,
        mode: int = 0o644,
        owner: Owner | None = None,
        dir_mode: int = 0o755,
    ) -> bool:
        """Atomically replace `path`; False when it already had these bytes, mode and owner."""
        parent, name = os.path.split(path)
        if not name or name in (".", ".."):
            raise IsADirectoryError(errno.EISDIR, f"not a file path: {path}")
        dfd = self._open_dir(parent, create=True, mode=dir_mode)
        try:
            ids = (owner.uid, owner.gid) if owner is not None else None
            if atomic.unchanged(dfd, name, data, mode, ids):
                return False
            atomic.write_at(dfd, name, data, mode=mode, owner=ids, sync=True)
            return True
        finally:
            os.close(dfd)

    def mkdir(self, path: str, mode: int, owner: Owner | None = None) -> None:
        """Make sure `path` is a directory with this mode and owner (not following symlinks)."""
        parent, name = os.path.split(path.rstrip("/"))
        dfd = self._open_dir(parent, create=True)
        try:
            try:
                os.mkdir(name, mode, dir_fd=dfd)
            except FileExistsError:
                pass
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
            try:
                if owner is not None:
                    os.fchown(fd, owner.uid, owner.gid)
                os.fchmod(fd, mode)
            finally:
                os.close(fd)
        finally:
            os.close(dfd)

    def symlink(self, path: str, target: str) -> bool:
        """Make `path` a symlink to `target` (replacing what was there); False if it already was."""
        parent, name = os.path.split(path)
        dfd = self._open_dir(parent, create=True)
        try:
            try:
                if os.readlink(name, dir_fd=dfd) == target:
                    return False
            except OSError:
                pass
            atomic.symlink_at(dfd, name, target, sync=True)
            return True
        finally:
            os.close(dfd)

    def remove(self, path: str) -> bool:
        """Remove a file or symlink (never following it); False when there was none."""
        parent, name = os.path.split(path)
        try:
            dfd = self._open_dir(parent, create=False)
        except (FileNotFoundError, NotADirectoryError):
            return False
        try:
            os.unlink(name, dir_fd=dfd)
            return True
        except FileNotFoundError:
            return False
        finally:
            os.close(dfd)

    def resolve(self, path: str) -> str | None:
        """The host path of `path` with its symlinks followed inside the root (as in a chroot),
        by the same walk and hop limit as every write; None when it does not exist."""
        parts = _split(path)
        done: list[str] = []
        hops = 0
        while parts:
            part = parts.pop(0)
            if part == "..":
                if done:
                    done.pop()
                continue
            host = os.path.join(self.path, *done, part)
            try:
                st = os.lstat(host)
            except OSError:
                return None
            if stat.S_ISLNK(st.st_mode):
                if st.st_uid not in self.trusted_uids and not self.trust_every_symlink:
                    return None
                hops += 1
                if hops > MAX_SYMLINK_HOPS:
                    return None
                target = os.readlink(host)
                if target.startswith("/"):
                    done = []
                parts[:0] = _split(target)
                continue
            done.append(part)
        return os.path.join(self.path, *done)
