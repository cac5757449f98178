"""The only module that writes: a Plan into an output directory, atomically per entry."""

from __future__ import annotations

import os

from .plan import File, Link, Plan


def write_plan(plan: Plan, outdir: str) -> None:
    """Write every entry; each lands under its final name only when complete."""
    made: set[str] = set()
    suffix = f".ccgen{os.getpid()}"
    old_umask = os.umask(0o022)  # files are 0644 and directories 0755, whatever we inherited
    try:
        for entry in plan.entries():
            dest = os.path.join(outdir, entry.path)
            parent, name = os.path.split(dest)
            if parent not in made:
                os.makedirs(parent, mode=0o755, exist_ok=True)
                made.add(parent)
            tmp = os.path.join(parent, f".#{name}{suffix}")
            if isinstance(entry, File):
                _write_file(tmp, entry.text.encode("utf-8"))
            elif isinstance(entry, Link):
                try:
                    os.symlink(entry.target, tmp)
                except FileExistsError:  # left by a killed run with our pid
                    os.unlink(tmp)
                    os.symlink(entry.target, tmp)
            os.replace(tmp, dest)
    finally:
        os.umask(old_umask)


def _write_file(tmp: str, data: bytes) -> None:
    flags = os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW
    try:
        fd = os.open(tmp, flags, 0o644)
    except FileExistsError:  # left by a killed run with our pid
        os.unlink(tmp)
        fd = os.open(tmp, flags, 0o644)
    try:
        view = memoryview(data)
        while view:
            view = view[os.write(fd, view) :]
    finally:
        os.close(fd)
