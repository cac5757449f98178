"""The one atomic write every writer shares: a temporary file in the target's own
directory, mode and owner set, optionally fsync'd, renamed over the target.

A reader sees the old file or the new one, never a part; a symlink at the
target is replaced, never written through.  Callers pass a directory fd they
resolved their own way (the generator's trusted output directory, a root-relative
walk that refuses planted symlinks, the cache directory).
"""

from __future__ import annotations

import os
import stat

_count = 0


def _temp_name() -> str:
    # Short and fixed in length: a long target name must not make the temporary too long.
    global _count
    _count += 1
    return f".#ccgen.{os.getpid()}.{_count}"


def _unlink_quietly(name: str, dir_fd: int) -> None:
    try:
        os.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass


def write_at(
    dir_fd: int,
    name: str,
    data: bytes,
    *,
    mode: int = 0o644,
    owner: tuple[int, int] | None = None,
    sync: bool = True,
) -> None:
    tmp = _temp_name()
    fd = os.open(
        tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, 0o600, dir_fd=dir_fd
    )
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[os.write(fd, view) :]
            if owner is not None:
                os.fchown(fd, owner[0], owner[1])
            os.fchmod(fd, mode)
            if sync:
                os.fsync(fd)
        finally:
            os.close(fd)
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        _unlink_quietly(tmp, dir_fd)
        raise
    if sync:
        os.fsync(dir_fd)


def create_at(dir_fd: int, name: str, data: bytes, *, mode: int = 0o644) -> None:
    """Write a new file under its final name: for a directory nothing else reads yet (the
    generator's, which systemd empties before each run).  FileExistsError if it is there."""
    fd = os.open(
        name, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_NOFOLLOW | os.O_CLOEXEC, mode, dir_fd=dir_fd
    )
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
        if mode & 0o022:  # bits the writer's umask took away
            os.fchmod(fd, mode)
    except BaseException:
        os.close(fd)
        _unlink_quietly(name, dir_fd)
        raise
    os.close(fd)


def symlink_at(dir_fd: int, name: str, target: str, *, sync: bool = False) -> None:
    tmp = _temp_name()
    os.symlink(target, tmp, dir_fd=dir_fd)
    try:
        os.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        _unlink_quietly(tmp, dir_fd)
        raise
    if sync:
        os.fsync(dir_fd)


def unchanged(dir_fd: int, name: str, data: bytes, mode: int, owner: tuple[int, int] | None) -> bool:
    """The target is already a regular file with these bytes, mode and owner."""
    try:
        fd = os.open(name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK | os.O_CLOEXEC, dir_fd=dir_fd)
    except OSError:
        return False
    with os.fdopen(fd, "rb") as f:
        st = os.fstat(f.fileno())
        if not stat.S_ISREG(st.st_mode) or stat.S_IMODE(st.st_mode) != mode or st.st_size != len(data):
            return False
        if owner is not None and (st.st_uid, st.st_gid) != owner:
            return False
        return f.read() == data


def fsync_dir(path: str) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
