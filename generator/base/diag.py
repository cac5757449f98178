"""Diagnostics: positioned messages collected by every stage, never raised.

A diagnostic's `message` keeps the original coreos-cloudinit validator's words
where it had them; what ccgen adds goes in `detail`, printed after the message
in the text form and as a field of its own in JSON.

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
    __slots__ = ("code", "detail", "message", "severity", "span")

    def __init__(self, span: Span, severity: Severity, code: str, message: str, detail: str = "") -> None:
        self.span = span
        self.severity = severity
        self.code = code
        self.message = message
        self.detail = detail

    def sort_key(self) -> tuple[str, int, int, int, str, str, str]:
        s = self.span
        return (s.file, s.line, s.column, -self.severity, self.code, self.message, self.detail)

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Diagnostic) and self.sort_key() == other.sort_key()

    def __hash__(self) -> int:
        return hash(self.sort_key())

    def __repr__(self) -> str:
        return f"Diagnostic({self.format()!r})"

    def text(self) -> str:
        return f"{self.message}; {self.detail}" if self.detail else self.message

    def format(self) -> str:
        # The message is escaped when it is made (Diagnostics.add); the file name here.
        where = str(self.span)
        if not where.isprintable():
            where = one_line(where, 2000)
        return f"{where}: {self.severity.label}: {self.text()} [{self.code}]"

    def as_json(self) -> dict[str, object]:
        return {
            "file": self.span.file,
            "line": self.span.line,
            "column": self.span.column,
            "severity": self.severity.label,
            "code": self.code,
            "message": self.message,
            "detail": self.detail,
        }


MESSAGE_MAX = 400
_ESCAPES = {"\n": "\\n", "\t": "\\t", "\r": "\\r"}


def one_line(message: str, limit: int = MESSAGE_MAX) -> str:
    """Messages quote user text; control characters in it must not break the line."""
    if message.isprintable() and len(message) <= limit:
        return message
    out = "".join(
        ch
        if ch.isprintable()
        else _ESCAPES.get(ch, f"\\x{ord(ch):02x}" if ord(ch) < 0x100 else f"\\u{ord(ch):04x}")
        for ch in message[: limit * 2]
    )
    return out if len(out) <= limit else out[: limit - 3] + "..."


# Repeated diagnostics of one kind in one file are kept up to this count and then
# summarised: a document of a million unknown keys must not make a million lines.
REPEAT_MAX = 100


class Diagnostics:
    """An append-only bag; the order of reporting is fixed by sorting at the end."""

    def __init__(self) -> None:
        self._items: list[Diagnostic] = []
        self._counts: dict[tuple[str, str], int] = {}
        self._worst = -1

    def add(self, span: Span, severity: Severity, code: str, message: str, detail: str = "") -> None:
        # A span inside a part of a bigger document (userdata.py) says which part.
        note = getattr(span, "note", "")
        if note:
            detail = f"{detail}; {note}" if detail else note
        if severity > self._worst:
            self._worst = severity
        key = (span.file, code)
        n = self._counts.get(key, 0) + 1
        self._counts[key] = n
        if n <= REPEAT_MAX:
            if "://" in message or "://" in detail:  # an #include's URL may hold a password
                from .redact import in_text

                message, detail = in_text(message), in_text(detail)
            self._items.append(Diagnostic(span, severity, code, one_line(message), one_line(detail)))

    def error(self, span: Span, code: str, message: str, detail: str = "") -> None:
        self.add(span, Severity.ERROR, code, message, detail)

    def warning(self, span: Span, code: str, message: str, detail: str = "") -> None:
        self.add(span, Severity.WARNING, code, message, detail)

    def info(self, span: Span, code: str, message: str, detail: str = "") -> None:
        self.add(span, Severity.INFO, code, message, detail)

    def sorted(self) -> list[Diagnostic]:
        seen: set[Diagnostic] = set()
        out: list[Diagnostic] = []
        for d in sorted(self._items, key=Diagnostic.sort_key):
            if d not in seen:
                seen.add(d)
                out.append(d)
        for (file, code), n in sorted(self._counts.items()):
            if n > REPEAT_MAX:
                last = max(
                    (d for d in out if d.span.file == file and d.code == code), key=Diagnostic.sort_key
                )
                out.append(
                    Diagnostic(
                        Span(file, last.span.line, last.span.column),
                        last.severity,
                        code,
                        f"{n - REPEAT_MAX} more [{code}] diagnostics in this file are not shown",
                    )
                )
        return out

    def has_errors(self) -> bool:
        return self._worst >= Severity.ERROR

    def worst(self) -> int:
        """The worst severity reported, or -1 when there is none."""
        return self._worst

    def __len__(self) -> int:
        return sum(self._counts.values())
