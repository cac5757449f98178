"""The precompiled plan: a full compile's result and the fingerprint of everything it read.

Written by the generator into its output directory (`.ccgen-plan`, root-only),
persisted by ccgen-apply as /var/lib/ccgen/plan, and replayed by the generator
(replay.py) when every recorded read gives the same answer again.  The format
is marshal, which the interpreter has built in: no import, no parsing code.  A
plan from another ccgen or Python version, a corrupt one, or one whose
fingerprint differs in any byte is ignored, and the full pipeline runs.
"""

from __future__ import annotations

import marshal
import sys

from . import __version__
from .diag import Diagnostic, Severity, Span
from .plan import File, Link, Plan

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any, Union

    from .inputs import Reader, Seen

    Entry = tuple[str, str, Union[str, bytes], int]

MAGIC = b"ccgen-plan\n"
FORMAT = 1


def header() -> tuple[int, str, tuple[int, int]]:
    return (FORMAT, __version__, (sys.version_info[0], sys.version_info[1]))


class Stored:
    __slots__ = ("diagnostics", "entries", "fingerprint", "record")

    def __init__(
        self,
        fingerprint: tuple[tuple[str, str, Seen], ...],
        entries: tuple[Entry, ...],
        diagnostics: tuple[tuple[int, str, str, int, int, str, str], ...],
        record: str,
    ) -> None:
        self.fingerprint = fingerprint
        self.entries = entries
        self.diagnostics = diagnostics
        self.record = record

    def plan(self) -> Plan:
        plan = Plan()
        for kind, path, body, mode in self.entries:
            assert isinstance(body, str)
            plan.add(File(path, body, mode) if kind == "f" else Link(path, body))
        return plan

    def diags(self) -> list[Diagnostic]:
        return [
            Diagnostic(Span(f, line, col), Severity(sev), code, message, detail)
            for sev, code, f, line, col, message, detail in self.diagnostics
        ]


def dump(reader: Reader, plan: Plan, found: list[Diagnostic], record: str) -> bytes:
    fingerprint = tuple((kind, key, seen) for (kind, key), seen in sorted(reader.seen.items()))
    entries = tuple(
        ("f", e.path, e.text, e.mode) if isinstance(e, File) else ("l", e.path, e.target, 0)
        for e in plan.entries()
    )
    diagnostics = tuple(
        (int(d.severity), d.code, d.span.file, d.span.line, d.span.column, d.message, d.detail) for d in found
    )
    return MAGIC + marshal.dumps((header(), fingerprint, entries, diagnostics, record))


def load(data: bytes | None) -> Stored | None:
    """The stored plan, or None when it is missing, damaged or from another version."""
    if not data or not data.startswith(MAGIC):
        return None
    try:
        value: Any = marshal.loads(data[len(MAGIC) :])
        head, fingerprint, entries, diagnostics, record = value
    except (ValueError, EOFError, TypeError):
        return None
    if head != header():
        return None
    return Stored(fingerprint, entries, diagnostics, record)


def matches(stored: Stored, reader: Reader) -> bool:
    """Every recorded read answers as it did, byte for byte."""
    from .inputs import answer

    return all(answer(reader, kind, key) == seen for kind, key, seen in stored.fingerprint)
