"""The generator's record of a run, for `ccgen status`: `.ccgen-status` in its output directory.

Plain `key=value` lines (no json at boot); a diagnostic is `diag=` and seven
tab-separated fields.  Messages are one line with control characters escaped
(diag.py), so neither a tab nor a newline can break a field.
"""

from __future__ import annotations

from .diag import Diagnostic, Severity, Span

NAME = ".ccgen-status"


def render(fields: list[tuple[str, str]], found: list[Diagnostic]) -> str:
    lines = [f"{k}={v}" for k, v in fields if "\n" not in v]
    for d in found:
        parts = (
            str(int(d.severity)),
            d.code,
            d.span.file,
            str(d.span.line),
            str(d.span.column),
            d.message,
            d.detail,
        )
        lines.append("diag=" + "\t".join(p.replace("\t", " ") for p in parts))
    return "".join(line + "\n" for line in lines)


def with_mode(text: str, mode: str) -> str:
    return f"mode={mode}\n" + text


_SEVERITIES = ("0", "1", "2")  # info, warning, error: diag.Severity's numbers


def _number(text: str) -> bool:
    """A line or column as record.render writes one: ASCII digits, and not absurdly many."""
    return 0 < len(text) <= 9 and text.isascii() and text.isdigit()


def parse(text: str) -> tuple[dict[str, list[str]], list[Diagnostic]]:
    fields: dict[str, list[str]] = {}
    found: list[Diagnostic] = []
    for line in text.splitlines():
        key, sep, value = line.partition("=")
        if not sep:
            continue
        if key == "diag":
            parts = value.split("\t")
            if len(parts) == 7 and parts[0] in _SEVERITIES and _number(parts[3]) and _number(parts[4]):
                sev, code, file, ln, col, message, detail = parts
                found.append(
                    Diagnostic(Span(file, int(ln), int(col)), Severity(int(sev)), code, message, detail)
                )
            continue  # a damaged line is left out: the record is outside input to `ccgen status`
        fields.setdefault(key, []).append(value)
    return fields, found
