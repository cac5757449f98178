"""unittext.parse answers what a plain, line-by-line reading of systemd's rules answers
(the parser is tuned for speed: every unit is parsed at every full compile)."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest
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


# Issue 22, finding 4: no control character reaches unit text, where systemd would end the
# line at it (NUL, CR) and read what follows as a directive of its own.


CONTROLS = [chr(c) for c in (*range(0x20), 0x7F) if c != 0x09]


@pytest.mark.parametrize("ch", CONTROLS)
def test_unit_text_refuses_a_control_character(ch: str) -> None:
    with pytest.raises(ValueError, match="control character"):
        unittext.UnitText().add("Service", "ExecStart", f"/bin/sh{ch}ExecStartPre=/INJECTED")
    with pytest.raises(ValueError, match="control character"):
        unittext.UnitText().add("Unit", f"Description{ch}X", "x")


@settings(max_examples=300)
@given(st.text(alphabet=st.characters(max_codepoint=0x2030), max_size=20))
def test_exec_word_never_lets_a_control_character_through(word: str) -> None:
    quoted = unittext.exec_word(word)
    assert not any((c < " " and c != "\t") or c == "\x7f" for c in quoted), repr(quoted)
    unittext.UnitText().add("Service", "ExecStart", quoted)  # never refused


def test_an_interpreter_line_with_a_control_character_is_refused(tmp_path: Path) -> None:
    from . import helpers

    for line in (b"#!/bin/sh\0ExecStartPre=/nonexistent/INJECTED", b"#!/bin/\x1b[31msh", b"#!/bin/sh\x07"):
        root = helpers.example_root(tmp_path / "root")
        helpers.make_root(root, {"/var/lib/ccgen/user-data": line + b"\necho hi\n"})
        out = tmp_path / "out"
        proc = helpers.run_generator(root, out)
        assert "user-data:1:1: error: a script's #! line holds a control character" in proc.stderr
        written = "".join(helpers.tree(out).values())  # the units, not the plan's copy of the input
        assert "INJECTED" not in written and "\x1b" not in written and "\x07" not in written
        assert (out / "ccgen-apply.service").exists()
        shutil.rmtree(tmp_path / "root")
        shutil.rmtree(out)


def test_an_escaped_control_character_is_not_a_directive(tmp_path: Path) -> None:
    """systemd reads the escaped word as one argument (or refuses it), never as a new line."""
    from . import sysd

    text = (
        unittext.UnitText()
        .add("Service", "Type", "oneshot")
        .add("Service", "ExecStart", " ".join(unittext.exec_word(w) for w in ("/bin/echo", "a\x1bb\x07c")))
        .text()
    )
    unit = tmp_path / "x.service"
    unit.write_text(text)
    assert "\\x1b" in text and "\\x07" in text
    assert sysd.verify([unit]) == []
