"""The precompiled plan: a full compile's result and the fingerprint of everything it read.

Written by the generator into its output directory (`.ccgen-plan`, root-only),
kept by ccgen-apply as /var/lib/ccgen/plan, and replayed by the generator
(replay.py) when every recorded read gives the same answer again.  The format
is marshal, which the interpreter has built in: no import, no parsing code.  A
plan from another ccgen or Python version, a corrupt one, or one whose
fingerprint differs in any byte is ignored, and the full pipeline runs.
On the replay path: no `from __future__`, nothing imported at the top but marshal.
"""

import marshal
import sys

from ccgen import __version__

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ccgen.base.diag import Diagnostic
    from ccgen.read.inputs import Reader, Seen

    from .plan import Plan

    Fingerprint = tuple[tuple[str, str, Seen], ...]
    Entries = tuple[tuple[str, str, str, int], ...]
    Lines = tuple[tuple[int, str], ...]  # (severity, the message as logged)
    Stored = tuple[Fingerprint, Entries, Lines, str]

MAGIC = b"ccgen-plan\n"
FORMAT = 3


def header() -> "tuple[int, str, tuple[int, int]]":
    return (FORMAT, __version__, (sys.version_info[0], sys.version_info[1]))


def dump(reader: "Reader", plan: "Plan", found: "list[Diagnostic]", record: str) -> bytes:
    from .write import entries_of

    fingerprint = tuple((kind, key, seen) for (kind, key), seen in sorted(reader.seen.items()))
    lines = tuple((int(d.severity), d.format()) for d in found)
    return MAGIC + marshal.dumps((header(), fingerprint, tuple(entries_of(plan)), lines, record))


def load(data: "bytes | None") -> "Stored | None":
    """The stored plan, or None when it is missing, damaged or from another version."""
    if not data or not data.startswith(MAGIC):
        return None
    try:
        value: "Any" = marshal.loads(data[len(MAGIC) :])
        head, fingerprint, entries, lines, record = value
    except (ValueError, EOFError, TypeError):
        return None
    if head != header():
        return None
    return fingerprint, entries, lines, record


def matches(fingerprint: "Fingerprint", root: str, environ: "dict[str, str]", argv0: str) -> bool:
    """Every recorded read answers as it did, byte for byte."""
    from .fingerprint import answer

    return all(answer(kind, key, root, environ, argv0, {}) == seen for kind, key, seen in fingerprint)
