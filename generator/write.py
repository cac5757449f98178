"""The generator's writer: a Plan into its output directory.

The output directory is systemd's own (root's, emptied before every run, and
read only after the generator exits), so paths are joined plainly and each
entry is created under its final name.  Only when something is already there
(a run by hand into a used directory) does an entry go through atomic.py's
temporary file and rename.  An entry that cannot be written is reported and
skipped: the others are still written.
"""

from __future__ import annotations

import os

from . import atomic
from .plan import File, Plan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable


def write_plan(plan: Plan, outdir: str, report: Callable[[str, Exception], None]) -> int:
    """Write every entry; returns how many could not be written."""
    dirs: dict[str, int] = {}
    failed = 0
    old_umask = os.umask(0o022)  # directories are 0755, whatever we inherited
    try:
        for entry in plan.entries():
            parent, name = os.path.split(entry.path)
            try:
                dfd = dirs.get(parent)
                if dfd is None:
                    where = os.path.join(outdir, parent) if parent else outdir
                    if parent:
                        os.makedirs(where, mode=0o755, exist_ok=True)
                    dfd = dirs[parent] = os.open(where, os.O_RDONLY | os.O_DIRECTORY | os.O_CLOEXEC)
                if isinstance(entry, File):
                    data = entry.text.encode("utf-8")
                    try:
                        atomic.create_at(dfd, name, data, mode=entry.mode)
                    except FileExistsError:
                        # /run is a tmpfs, rebuilt at every boot: no fsync.
                        atomic.write_at(dfd, name, data, mode=entry.mode, sync=False)
                else:
                    try:
                        os.symlink(entry.target, name, dir_fd=dfd)
                    except FileExistsError:
                        atomic.symlink_at(dfd, name, entry.target)
            except (OSError, ValueError) as e:  # ValueError: text that is not valid Unicode
                failed += 1
                report(entry.path, e)
    finally:
        os.umask(old_umask)
        for fd in dirs.values():
            os.close(fd)
    return failed
