"""The only module that writes: a Plan into an output directory, atomically per entry."""

from __future__ import annotations

import os

from .plan import File, Link, Plan, is_safe


def _tmp_name(path: str) -> str:
    head, tail = os.path.split(path)
    return os.path.join(head, f".#{tail}.{os.getpid()}")


def write_plan(plan: Plan, outdir: str) -> None:
    """Write every entry; each lands under its final name only when complete."""
    for entry in plan.entries():
        if not is_safe(entry.path):  # Plan refuses these; this guards the guard.
            raise ValueError(f"unsafe output path {entry.path!r}")
        dest = os.path.join(outdir, entry.path)
        os.makedirs(os.path.dirname(dest), mode=0o755, exist_ok=True)
        tmp = _tmp_name(dest)
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        if isinstance(entry, File):
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | os.O_CLOEXEC | os.O_NOFOLLOW, 0o644)
            try:
                os.fchmod(fd, 0o644)
                data = entry.text.encode("utf-8")
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view) :]
            finally:
                os.close(fd)
        elif isinstance(entry, Link):
            os.symlink(entry.target, tmp)
        os.replace(tmp, dest)
