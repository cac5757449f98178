"""The generator's fast path: write the stored plan when nothing it was made from changed.

Only what this needs is imported (no YAML, no validation, no rendering, no
`from __future__`): the plan is read, its header and every fingerprinted read
are compared byte for byte with the live system, and the stored entries,
messages and record are written.  Anything else (no plan, another version, a
damaged file, one changed byte) is a "no", and boot.py runs the full pipeline.
"""

from . import planfile
from .fingerprint import host_path, read_file

PLAN = "/var/lib/ccgen/plan"  # cache.PLAN, spelled here to keep cache.py off this path
RECORD = ".ccgen-status"  # record.NAME, likewise


class Replayed:
    __slots__ = ("failed", "lines")

    def __init__(self, lines: "tuple[tuple[int, str], ...]", failed: int) -> None:
        self.lines = lines  # (severity, message) as the full compile logged them
        self.failed = failed


def replay(root: str, environ: "dict[str, str]", argv0: str, outdir: str) -> "Replayed | None":
    try:
        stored = planfile.load(read_file(host_path(root, PLAN), 64 * 1024 * 1024))
    except OSError:
        return None
    if stored is None:
        return None
    fingerprint, entries, lines, record = stored
    if not planfile.matches(fingerprint, root, environ, argv0):
        return None
    from .write import write_entries

    failed: "list[tuple[str, Exception]]" = []
    status = ("f", RECORD, "mode=replayed\n" + record, 0o644)
    count = write_entries((*entries, status), outdir, lambda path, e: failed.append((path, e)))
    more = tuple((2, f"{path}:1:1: error: cannot write {path}; {e} [write]") for path, e in failed)
    return Replayed(lines + more, count)
