"""Diagnostics: positioned messages collected by every stage, never raised."""

from __future__ import annotations

from dataclasses import dataclass
from enum import IntEnum


class Severity(IntEnum):
    # Ordered so that max() gives the worst; values double as sort keys.
    INFO = 0
    WARNING = 1
    ERROR = 2

    @property
    def label(self) -> str:
        return self.name.lower()


@dataclass(frozen=True, order=True)
class Span:
    """A 1-based line and column in one source file."""

    file: str
    line: int
    column: int

    def __str__(self) -> str:
        return f"{self.file}:{self.line}:{self.column}"


@dataclass(frozen=True)
class Diagnostic:
    span: Span
    severity: Severity
    code: str
    message: str

    def sort_key(self) -> tuple[str, int, int, int, str, str]:
        s = self.span
        return (s.file, s.line, s.column, -self.severity, self.code, self.message)

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


def _one_line(message: str) -> str:
    """Messages quote user text; control characters in it must not break the line."""
    if message.isprintable() and len(message) <= MESSAGE_MAX:
        return message
    out = "".join(
        ch if ch.isprintable() else {"\n": "\\n", "\t": "\\t", "\r": "\\r"}.get(ch, f"\\x{ord(ch):02x}")
        for ch in message
    )
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

    def extend(self, other: Diagnostics) -> None:
        self._items.extend(other._items)

    def sorted(self) -> list[Diagnostic]:
        seen: set[Diagnostic] = set()
        out: list[Diagnostic] = []
        for d in sorted(self._items, key=Diagnostic.sort_key):
            if d not in seen:
                seen.add(d)
                out.append(d)
        return out

    def has_errors(self) -> bool:
        return any(d.severity is Severity.ERROR for d in self._items)

    def __len__(self) -> int:
        return len(self._items)
