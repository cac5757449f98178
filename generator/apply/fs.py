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

MAX_SYMLINK_HOPS = 32


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

    def __init__(self, path: str = "/") -> None:
        self.path = path
        # Offline, an image tree belongs to whoever builds it; that user is trusted too.
        self.trusted_uids = frozenset((0, os.getuid()))

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
                    if st.st_uid not in self.trusted_uids:
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
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
        except FileNotFoundError:
            return None
        finally:
            os.close(dfd)
        with os.fdopen(fd, "rb") as f:
            if owners is not None:
                st = os.fstat(f.fileno())
                if not stat.S_ISREG(st.st_mode) or st.st_nlink != 1 or st.st_uid not in owners:
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
            if self._unchanged(dfd, name, data, mode, owner):
                return False
            tmp = f".#{name}.ccgen{os.getpid()}"
            try:
                os.unlink(tmp, dir_fd=dfd)
            except FileNotFoundError:
                pass
            fd = os.open(
                tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dfd
            )
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
                if owner is not None:
                    os.fchown(fd, owner.uid, owner.gid)
                os.fchmod(fd, mode)
                os.fsync(fd)
            except BaseException:
                os.close(fd)
                os.unlink(tmp, dir_fd=dfd)
                raise
            os.close(fd)
            os.rename(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
            os.fsync(dfd)
            return True
        finally:
            os.close(dfd)

    @staticmethod
    def _unchanged(dfd: int, name: str, data: bytes, mode: int, owner: Owner | None) -> bool:
        try:
            fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_CLOEXEC, dir_fd=dfd)
        except OSError:
            return False
        with os.fdopen(fd, "rb") as f:
            st = os.fstat(f.fileno())
            if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != mode or st.st_size != len(data):
                return False
            if owner is not None and (st.st_uid, st.st_gid) != (owner.uid, owner.gid):
                return False
            return f.read() == data

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
            tmp = f".#{name}.ccgen{os.getpid()}"
            try:
                os.unlink(tmp, dir_fd=dfd)
            except FileNotFoundError:
                pass
            os.symlink(target, tmp, dir_fd=dfd)
            os.rename(tmp, name, src_dir_fd=dfd, dst_dir_fd=dfd)
            return True
        finally:
            os.close(dfd)
