"""The one atomic write every writer shares: a temporary file in the target's own
directory, mode and owner set, optionally fsync'd, renamed over the target.

A reader sees the old file or the new one, never a part; a symlink at the
target is replaced, never written through.  Callers pass a directory fd they
resolved their own way (the generator's trusted output directory, a root-relative
walk that refuses planted symlinks, the cache directory).
"""

# posix, not os: the generator's writer falls back to this module (a name already taken),
# and there importing os (with posixpath and _collections_abc) would cost more than a replay.
import posix

_count = 0


def _temp_name() -> str:
    # Short and fixed in length: a long target name must not make the temporary too long.
    global _count
    _count += 1
    return f".#ccgen.{posix.getpid()}.{_count}"


def _unlink_quietly(name: str, dir_fd: int) -> None:
    try:
        posix.unlink(name, dir_fd=dir_fd)
    except FileNotFoundError:
        pass


def write_at(
    dir_fd: int,
    name: str,
    data: bytes,
    *,
    mode: int = 0o644,
    owner: "tuple[int, int] | None" = None,
    sync: bool = True,
) -> None:
    tmp = _temp_name()
    fd = posix.open(
        tmp,
        posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_NOFOLLOW | posix.O_CLOEXEC,
        0o600,
        dir_fd=dir_fd,
    )
    try:
        try:
            view = memoryview(data)
            while view:
                view = view[posix.write(fd, view) :]
            if owner is not None:
                posix.fchown(fd, owner[0], owner[1])
            posix.fchmod(fd, mode)
            if sync:
                posix.fsync(fd)
        finally:
            posix.close(fd)
    except BaseException:
        _unlink_quietly(tmp, dir_fd)
        raise
    _rename_into_place(dir_fd, tmp, name, sync)


def symlink_at(dir_fd: int, name: str, target: str, *, sync: bool = False) -> None:
    tmp = _temp_name()
    posix.symlink(target, tmp, dir_fd=dir_fd)
    _rename_into_place(dir_fd, tmp, name, sync)


def _rename_into_place(dir_fd: int, tmp: str, name: str, sync: bool) -> None:
    """The temporary becomes the target, or is removed; with sync, the rename is on disk."""
    try:
        posix.rename(tmp, name, src_dir_fd=dir_fd, dst_dir_fd=dir_fd)
    except BaseException:
        _unlink_quietly(tmp, dir_fd)
        raise
    if sync:
        posix.fsync(dir_fd)


def unchanged(dir_fd: int, name: str, data: bytes, mode: int, owner: "tuple[int, int] | None") -> bool:
    """The target is already a regular file with these bytes, mode and owner."""
    try:
        fd = posix.open(
            name, posix.O_RDONLY | posix.O_NOFOLLOW | posix.O_NONBLOCK | posix.O_CLOEXEC, dir_fd=dir_fd
        )
    except OSError:
        return False
    try:
        st = posix.fstat(fd)
        if st.st_mode & 0o170000 != 0o100000 or st.st_mode & 0o7777 != mode or st.st_size != len(data):
            return False  # not a regular file, or another mode or size
        if owner is not None and (st.st_uid, st.st_gid) != owner:
            return False
        chunks = []
        while chunk := posix.read(fd, 1 << 20):
            chunks.append(chunk)
        return b"".join(chunks) == data
    finally:
        posix.close(fd)


def fsync_dir(path: str) -> None:
    fd = posix.open(path, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC)
    try:
        posix.fsync(fd)
    finally:
        posix.close(fd)
