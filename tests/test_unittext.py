"""unittext.parse answers what a plain, line-by-line reading of systemd's rules answers
(the parser is tuned for speed: every unit is parsed at every full compile)."""

from __future__ import annotations

from hypothesis import given, settings
from hypothesis import strategies as st

from ccgen.base import unittext

LINES = st.sampled_from(
    [
        "[Unit]",
        "[Service]",
        "[Install]",
        "",
        "   ",
        "# a comment",
        "; another",
        "; Commented=out",
        "#After=x.service",
        "After=a.service",
        "After=",
        "Wants=b.service c.service",
        "  Before = d.target  ",
        "ExecStart=/bin/echo \\",
        "  continued \\",
        "#inside",
        "WantedBy=multi-user.target",
        "no equals sign",
        "[broken",
        "=value",
    ]
)


Row = tuple[str, str, str, int]


def reference(text: str) -> tuple[list[Row], list[Row], int, int]:
    entries: list[Row] = []
    outside: list[Row] = []
    first = unit = 0
    section, pending, start = "", "", 0
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        if pending:
            if line.startswith(("#", ";")):
                continue
            line, pending = pending + line, ""
        else:
            start = number
            if not line or line.startswith(("#", ";")):
                continue
        if line.endswith("\\"):
            pending = line[:-1] + " "
            continue
        if line.startswith("[") and line.endswith("]"):
            section = line[1:-1]
            first = first or start
            if section == "Unit" and not unit:
                unit = start
            continue
        key, sep, value = line.partition("=")
        if sep:
            (entries if section else outside).append((section, key.strip(), value.strip(), start))
    return entries, outside, first, unit


def values(entries: list[tuple[str, str, str, int]], section: str, key: str) -> list[str]:
    out: list[str] = []
    for s, k, v, _ in entries:
        if (s, k) == (section, key):
            if v:
                out.append(v)
            else:
                out.clear()
    return out


@settings(max_examples=400, deadline=None)
@given(st.lists(LINES, max_size=14), st.booleans())
def test_parse_matches_the_plain_reading(lines: list[str], final_newline: bool) -> None:
    text = "\n".join(lines) + ("\n" if final_newline else "")
    got = unittext.parse(text)
    entries, outside, first, unit = reference(text)
    assert [(e.section, e.key, e.value, e.line) for e in got.entries] == entries
    assert [(e.section, e.key, e.value, e.line) for e in got.outside] == outside
    assert (got.first_section_line, got.unit_header_line) == (first, unit)
    for section, key in (
        ("Unit", "After"),
        ("Unit", "Wants"),
        ("Service", "ExecStart"),
        ("Install", "WantedBy"),
    ):
        assert list(got.values(section, key)) == values(entries, section, key)
        assert got.words(section, key) == [w for v in values(entries, section, key) for w in v.split()]
    # The shared parse is the same object, and asking again changes nothing.
    assert unittext.parse(text) is got
