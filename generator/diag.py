"""Diagnostics: positioned messages collected by every stage, never raised.

This module is on the generator's boot path, where every import costs boot
time, so it uses plain slotted classes rather than dataclasses or enum.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import ClassVar


class Severity(int):
    """info < warning < error, so that max() gives the worst."""

    __slots__ = ()
    INFO: ClassVar[Severity]
    WARNING: ClassVar[Severity]
    ERROR: ClassVar[Severity]

    @property
    def label(self) -> str:
        return ("info", "warning", "error")[self]

    def __repr__(self) -> str:
        return f"Severity.{self.label.upper()}"


Severity.INFO = Severity(0)
Severity.WARNING = Severity(1)
Severity.ERROR = Severity(2)


class Span:
    """A 1-based line and column in one source file."""

    __slots__ = ("column", "file", "line")

    def __init__(self, file: str, line: int, column: int) -> None:
        self.file = file
        self.line = line
        self.column = column

    def key(self) -> tuple[str, int, int]:
        return (self.file, self.line, self.column)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Span) and self.key() == other.key()

    def __hash__(self) -> int:
        return hash(self.key())

    def __repr__(self) -> str:
        return f"Span({self.file!r}, {self.line}, {self.column})"

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


class Diagnostic:
    __slots__ = ("code", "message", "severity", "span")

    def __init__(self, span: Span, severity: Severity, code: str, message: str) -> None:
        self.span = span
        self.severity = severity
        self.code = code
        self.message = message

    def sort_key(self) -> tuple[str, int, int, int, str, str]:
        s = self.span
        return (s.file, s.line, s.column, -self.severity, self.code, self.message)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Diagnostic) and self.sort_key() == other.sort_key()

    def __hash__(self) -> int:
        return hash(self.sort_key())

    def __repr__(self) -> str:
        return f"Diagnostic({self.format()!r})"

    def format(self) -> str:
        return f"{self.span}: {self.severity.label}: {self.message} [{self.code}]"

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "severity": self.severity.label,
            "code": self.code,
            "message": self.message,
        }


MESSAGE_MAX = 400
_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def _one_line(message: str) -> str:
    """Messages quote user text; control characters in it must not break the line."""
    if message.isprintable() and len(message) <= MESSAGE_MAX:
        return message
    out = "".join(ch if ch.isprintable() else _ESCAPES.get(ch, f"\\x{ord(ch):02x}") for ch in message)
    return out if len(out) <= MESSAGE_MAX else out[: MESSAGE_MAX - 3] + "..."


class Diagnostics:
    """An append-only bag; the order of reporting is fixed by sorting at the end."""

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []

    def add(self, span: Span, severity: Severity, code: str, message: str) -> None:
        self._items.append(Diagnostic(span, severity, code, _one_line(message)))

    def error(self, span: Span, code: str, message: str) -> None:
        self.add(span, Severity.ERROR, code, message)

    def warning(self, span: Span, code: str, message: str) -> None:
        self.add(span, Severity.WARNING, code, message)

    def info(self, span: Span, code: str, message: str) -> None:
        self.add(span, Severity.INFO, code, message)

    def sorted(self) -> list[Diagnostic]:
        seen: set[Diagnostic] = set()
        out: list[Diagnostic] = []
        for d in sorted(self._items, key=Diagnostic.sort_key):
            if d not in seen:
                seen.add(d)
                out.append(d)
        return out

    def has_errors(self) -> bool:
        return any(d.severity == Severity.ERROR for d in self._items)

    def __len__(self) -> int:
        return len(self._items)
