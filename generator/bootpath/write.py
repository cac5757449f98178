"""The generator's writer: entries into its output directory.

The output directory is systemd's own (root's, emptied before every run, and
read only after the generator exits), so paths are joined plainly and each
entry is created under its final name.  Only when something is already there
(a run by hand into a used directory) does an entry go through atomic.py's
temporary file and rename.  An entry that cannot be written is reported and
skipped: the others are still written.  On the replay path: posix rather than os,
and no `from __future__` (see fingerprint.py).
"""

import posix

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable, Iterable

    from .plan import Plan

    # (kind "f" or "l", path, text (or bytes) or target, mode)
    Entry = tuple[str, str, str | bytes, int]


def entries_of(plan: "Plan") -> "list[Entry]":
    from .plan import File

    return [
        ("f", e.path, e.text, e.mode) if isinstance(e, File) else ("l", e.path, e.target, 0)
        for e in plan.entries()
    ]


def write_plan(plan: "Plan", outdir: str, report: "Callable[[str, Exception], None]") -> int:
    return write_entries(entries_of(plan), outdir, report)


def write_entries(entries: "Iterable[Entry]", outdir: str, report: "Callable[[str, Exception], None]") -> int:
    """Write every entry; returns how many could not be written."""
    dirs: dict[str, int] = {}
    failed = 0
    old_umask = posix.umask(0o022)  # directories are 0755, whatever we inherited
    try:
        for kind, path, body, mode in entries:
            parent, _, name = path.rpartition("/")
            try:
                dfd = dirs.get(parent)
                if dfd is None:
                    where = f"{outdir}/{parent}" if parent else outdir
                    if parent:
                        _makedirs(outdir, parent)
                    dfd = dirs[parent] = posix.open(
                        where, posix.O_RDONLY | posix.O_DIRECTORY | posix.O_CLOEXEC
                    )
                if kind == "f":
                    data = body.encode("utf-8") if isinstance(body, str) else body
                    try:
                        _create(dfd, name, data, mode=mode)
                    except FileExistsError:
                        from . import atomic

                        # /run is a tmpfs, rebuilt at every boot: no fsync.
                        atomic.write_at(dfd, name, data, mode=mode, sync=False)
                elif isinstance(body, str):
                    try:
                        posix.symlink(body, name, dir_fd=dfd)
                    except FileExistsError:
                        from . import atomic

                        atomic.symlink_at(dfd, name, body)
                else:
                    raise ValueError("a link's target must be text")
            except (OSError, ValueError) as e:  # ValueError: text that is not valid Unicode
                failed += 1
                report(path, e)
    finally:
        posix.umask(old_umask)
        for fd in dirs.values():
            posix.close(fd)
    return failed


def _create(dir_fd: int, name: str, data: bytes, *, mode: int = 0o644) -> None:
    """Write a new file under its final name: for a directory nothing else reads yet (the
    generator's, which systemd empties before each run).  FileExistsError if it is there."""
    fd = posix.open(
        name,
        posix.O_WRONLY | posix.O_CREAT | posix.O_EXCL | posix.O_NOFOLLOW | posix.O_CLOEXEC,
        mode,
        dir_fd=dir_fd,
    )
    try:
        view = memoryview(data)
        while view:
            view = view[posix.write(fd, view) :]
        if mode & 0o022:  # bits the writer's umask took away
            posix.fchmod(fd, mode)
    except BaseException:
        posix.close(fd)
        try:
            posix.unlink(name, dir_fd=dir_fd)
        except FileNotFoundError:
            pass
        raise
    posix.close(fd)


def _makedirs(outdir: str, parent: str) -> None:
    """os.makedirs(exist_ok=True) for a relative `parent` under `outdir`."""
    where = outdir
    for part in parent.split("/"):
        if part in ("", "."):
            continue
        where = f"{where}/{part}"
        try:
            posix.mkdir(where, 0o755)
        except FileExistsError:
            pass
