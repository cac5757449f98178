"""Hostile input: one clear positioned diagnostic, never a traceback, never a hang."""

from __future__ import annotations

import gzip
import subprocess
import time
from pathlib import Path

import pytest

from ccgen import compile
from ccgen.base import cache
from ccgen.base.diag import Diagnostics
from ccgen.read import inputs, source

from . import helpers

GOOD_UNIT = b'coreos:\n  units:\n    - {name: ok.service, content: "[Service]\\nExecStart=/bin/true\\n"}\n'


def billion_laughs() -> bytes:
    lines = ["#cloud-config", 'a: &a ["lol","lol","lol","lol","lol","lol","lol","lol","lol"]']
    for i in range(1, 10):
        prev, cur = chr(ord("a") + i - 1), chr(ord("a") + i)
        lines.append(f"{cur}: &{cur} [" + ",".join([f"*{prev}"] * 9) + "]")
    lines.append("coreos: {units: *j}")
    return "\n".join(lines).encode() + b"\n"


def gzip_bomb() -> bytes:
    return gzip.compress(b"#cloud-config\n" + b"#" * (64 * 1024 * 1024), compresslevel=9)


CASES: dict[str, tuple[bytes, str, tuple[int, int]]] = {
    "not-utf8": (b"#cloud-config\nhostname: caf\xe9\n", "encoding", (2, 14)),
    # At the end of the last line, not a line past the end.
    "yaml-error": (b"#cloud-config\nkey: [unclosed\n", "yaml-syntax", (2, 15)),
    "tab": (b"#cloud-config\ncoreos:\n\tunits: []\n", "yaml-syntax", (3, 1)),
    # libyaml gives up at 1000 levels; the fast path then hands over, so both paths agree.
    "deep": (b"#cloud-config\nx: " + b"[" * 10000 + b"]" * 10000 + b"\n", "yaml-depth", (2, 259)),
    "deep-blocks": (
        b"#cloud-config\n" + b"".join(b" " * i + b"k:\n" for i in range(3000)),
        "yaml-depth",
        (258, 257),
    ),
    "billion-laughs": (billion_laughs(), "yaml-alias-bomb", (7, 11)),
    "alias-undefined": (b"#cloud-config\nhostname: *nope\n", "yaml-alias", (2, 11)),
    "control-char": (b"#cloud-config\nhostname: a\x07b\n", "yaml-syntax", (2, 12)),
    "huge": (b"#cloud-config\n" + b"# padding\n" * (2 * 1024 * 1024), "too-large", (1, 1)),
    "gzip-bomb": (gzip_bomb(), "too-large", (1, 1)),
    "gzip-truncated": (gzip.compress(b"#cloud-config\nhostname: a\n")[:-12], "gzip", (1, 1)),
    "bom": (b"\xef\xbb\xbf#cloud-config\n", "header", (1, 1)),
    "binary": (bytes(range(256)), "header", (1, 1)),
    "relative-shebang": (b"#!bash\necho\n", "script", (1, 1)),
}


@pytest.mark.parametrize("name", sorted(CASES))
def test_one_positioned_diagnostic(name: str) -> None:
    data, code, (line, column) = CASES[name]
    diags = Diagnostics()
    start = time.monotonic()
    config = compile.parse(inputs.Input("/u", data), diags)
    elapsed = time.monotonic() - start
    found = [d for d in diags.sorted() if d.code != "not-applied"]
    assert [(d.code, d.span.line, d.span.column) for d in found] == [(code, line, column)], [
        d.format() for d in found
    ]
    assert "\n" not in found[0].message
    # Generous: a hang or a quadratic blow-up is what this catches, not a slow machine.
    assert elapsed < 20, f"{name} took {elapsed:.1f}s"
    assert config is None or not config.units


def test_gzip_payload_is_unpacked() -> None:
    diags = Diagnostics()
    config = compile.parse(inputs.Input("/u", gzip.compress(b"#cloud-config\n" + GOOD_UNIT)), diags)
    assert not diags.sorted()
    assert config is not None and [u.name for u in config.units] == ["ok.service"]


def test_ignition_is_skipped_with_info() -> None:
    for doc in (b'{"ignition": {"version": "3.3.0"}}', b'{"ignitionVersion": 1}'):
        diags = Diagnostics()
        assert compile.parse(inputs.Input("/u", doc), diags) is None
        assert [(d.severity.label, d.code) for d in diags.sorted()] == [("info", "ignition")]


def test_empty_is_nothing_and_not_an_error() -> None:
    diags = Diagnostics()
    assert compile.parse(inputs.Input("/u", b""), diags) is None
    assert len(diags) == 0


def test_a_broken_user_config_keeps_the_oem_units(tmp_path: Path) -> None:
    root = helpers.make_root(
        tmp_path,
        {
            inputs.OEM_PATH: b"#cloud-config\n" + GOOD_UNIT,
            cache.USER_DATA: b"#cloud-config\ncoreos: [\n",
        },
    )
    diags = Diagnostics()
    found, _ = inputs.boot_inputs(inputs.Reader(str(root)), diags)
    plan = compile.compile_inputs(found, diags)
    assert "ok.service" in plan
    assert [d.code for d in diags.sorted()] == ["yaml-syntax"]


def test_unreadable_input_is_reported(tmp_path: Path) -> None:
    (tmp_path / "var/lib/ccgen/user-data").mkdir(parents=True)
    diags = Diagnostics()
    assert inputs.boot_inputs(inputs.Reader(str(tmp_path)), diags)[0] == []
    assert [d.code for d in diags.sorted()] == ["read"]


def test_validate_never_prints_a_traceback(tmp_path: Path) -> None:
    for name, (data, _, _) in CASES.items():
        if len(data) > source.MAX_BYTES // 4:
            continue  # the big ones are covered in-process above
        p = tmp_path / name
        p.write_bytes(data)
        proc = subprocess.run(
            [str(helpers.installed_script("ccgen")), "validate", str(p)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        # A relative #! line runs with bash, as the original ran it: a warning, not an error.
        assert proc.returncode == (0 if name == "relative-shebang" else 1), (name, proc.stdout, proc.stderr)
        assert "Traceback" not in proc.stderr and proc.stderr == ""
        assert len(proc.stdout.splitlines()) == 1, proc.stdout
