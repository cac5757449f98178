"""Hostile configs, generated: never a traceback, never an internal error, and every item
that was not touched comes out byte for byte as it would without the hostile ones.

The strategies cover each class of input that once cost the generator all its output
(issue 16): oversized numbers, names at and past the file system's limits, NUL and lone
surrogates, [Install] sections that point outside or at ccgen's own units, modes and
owners that parse wrongly, truncated gzip, keys that look like ccgen's markers, and
alias bombs.  docs/limits.md states the ceilings the big inputs are held to.
"""

from __future__ import annotations

import io
import os
import subprocess
import sys
from contextlib import redirect_stderr, redirect_stdout
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccgen import cli, compile
from ccgen.apply import run as apply_run
from ccgen.base.diag import Diagnostics
from ccgen.bootpath.write import write_plan
from ccgen.lang import model
from ccgen.read import inputs
from ccgen.units import render

from . import helpers

GOOD_UNITS = """    - name: good-one.service
      command: start
      content: "[Service]\\nExecStart=/bin/true\\n"
    - name: good-two.service
      enable: true
      content: "[Service]\\nExecStart=/bin/true\\n[Install]\\nWantedBy=multi-user.target\\n"
      drop-ins: [{name: 10-good.conf, content: "[Service]\\nEnvironment=A=1\\n"}]
"""
GOOD_FILE = "  - {path: /etc/good, content: good, permissions: '0600'}\n"


def q(text: str) -> str:
    """A YAML double-quoted scalar for any text, NUL and lone surrogates included."""
    out = []
    for ch in text:
        code = ord(ch)
        if ch in '"\\':
            out.append("\\" + ch)
        elif code < 0x20 or 0xD800 <= code <= 0xDFFF or code in (0x7F, 0x85, 0x2028, 0x2029):
            out.append(f"\\u{code:04x}")
        else:
            out.append(ch)
    return '"' + "".join(out) + '"'


weird_text = st.sampled_from(
    ["\0", "\ud800", "\udcff", "\u2028", "a\0b", "../../x", "x/../y", "\n", "%", "%Q", "$private_ipv4", "é"]
)
long_name = st.integers(230, 300).map(lambda n: "u" * (n - 8) + ".service")
unit_names = st.one_of(
    long_name,
    weird_text.map(lambda w: f"a{w}b.service"),
    st.sampled_from(
        ["ccgen-apply.service", "ccgen.target", "ccgen-fetch-ec2.service", "../x.service", "x.mount"]
    ),
)
dropin_names = st.one_of(
    st.integers(250, 320).map(lambda n: "d" * (n - 5) + ".conf"),
    weird_text.map(lambda w: f"1{w}.conf"),
)
install_lines = st.one_of(
    st.sampled_from(
        [
            "DefaultInstance=../../../../x",
            "DefaultInstance=a\\x00b",
            "Alias=ccgen-apply.service",
            "Alias=../evil.service",
            "Also=ccgen.target",
            "WantedBy=local-fs.target",
            "RequiredBy=%Q.target",
        ]
    ),
    st.integers(240, 300).map(lambda n: "WantedBy=" + "t" * (n - 7) + ".target"),
)


@st.composite
def hostile_unit(draw: st.DrawFn) -> str:
    name = draw(unit_names | st.just("template@.service"))
    content = "[Service]\\nExecStart=/bin/true\\n[Install]\\n" + draw(install_lines) + "\\n"
    lines = [f"    - name: {q(name)}", f'      content: "{content}"']
    if draw(st.booleans()):
        lines.append("      enable: true")
    if draw(st.booleans()):
        lines.append(f"      mask: {draw(st.sampled_from(['true', 'yes', '1', 'maybe']))}")
    if draw(st.booleans()):
        lines.append(f"      command: {draw(st.sampled_from(['start', 'stop', 'explode', '']))}")
    if draw(st.booleans()):
        lines.append(f"      drop-ins: [{{name: {q(draw(dropin_names))}, content: {q(draw(weird_text))}}}]")
    return "\n".join(lines) + "\n"


@st.composite
def hostile_file(draw: st.DrawFn) -> str:
    path = draw(
        st.sampled_from(
            ["/x\0y", "/\ud800", "/tmp/../usr/x", "", "relative/x", "/" + "a" * 300, "//usr/x", "/usr/./x"]
        )
    )
    perms = draw(
        st.sampled_from(["-1", "-07777", "+644", "0_6_4_4", " 600 ", "0o600", "0999", "4755", "99999"])
    )
    owner = draw(st.sampled_from(["99999999999999999999", "²", "a\0b", "root:\n", "nobody-here", "0:0"]))
    enc = draw(st.sampled_from(["", "gz+b64", "base64", "rot13"]))
    content = draw(st.sampled_from(["H4sIAAAAAAAA", "!!!", "aGVsbG8=", "\ud800"]))
    return (
        f"  - {{path: {q(path)}, permissions: {q(perms)}, owner: {q(owner)}, "
        f"encoding: {q(enc)}, content: {q(content)}}}\n"
    )


top_level = st.sampled_from(
    [
        "coreos_etcd2_big: 1\n",
        "hostname: coreos_001\n",
        "hostname: " + q("a\0b") + "\n",
        "ssh_authorized_keys: ['# END ccgen', " + q("ssh-rsa A\nssh-rsa B") + ", " + q("\0") + "]\n",
        "manage_etc_hosts: true\n",
        "users: [{name: '../evil'}, {name: bob, passwd: 'x:y'}, {name: " + q("\ud800") + "}]\n",
        "bomb: &b [" + ", ".join(["x" * 50] * 20) + "]\nbombs: [" + ", ".join(["*b"] * 50) + "]\n",
        # cloud-init's keys of several shapes (lang/cloudinit.py)
        "runcmd: [" + q("a\0b") + ", [" + q("\ud800") + "], [[x]], {a: b}, 7, null, [true]]\n",
        "bootcmd: [&c [a, b], [*c, *c], *c]\n",
        "runcmd: &r [echo, ["
        + ", ".join(["x" * 40] * 30)
        + "]]\nbootcmd: ["
        + ", ".join(["*r"] * 40)
        + "]\n",
        "packages: [" + q("a\0b") + ", [x], [x, y, z], {x: 1}, '-rf', [vim, " + q("\n") + "], 9e999]\n",
        "groups: [{[a]: b}, " + q("\ud800") + ", {g: [[x]]}, {g: {h: i}}, 'a:b', " + q("a" * 300) + "]\n",
        "users: [default, 'a, ,b', {name: c, sudo: [[x]], groups: {x: [y]}, uid: -1, lock_passwd: 2}]\n",
        "chpasswd: {users: [{name: [x]}, {name: a, password: {x: y}}], list: [[x]], expire: 3}\n",
        "power_state: {mode: reboot, delay: '+" + "9" * 400 + "', condition: [[x]], message: [x]}\n",
        "final_message: " + q("$UPTIME${UPTIME${}$\0\ud800'") + "\ntimezone: " + q("a/../../b") + "\n",
        "system_info: {default_user: {name: ../evil, sudo: true}}\nssh_pwauth: [x]\nlocale: {x: y}\n",
        "write_files: [{path: /etc/d, defer: true, append: true, owner: " + q("nobody\0") + "}]\n",
    ]
)
numbers = st.sampled_from(["9" * 5000, "0x" + "f" * 10000, "-" + "9" * 30, "1e999", ".nan"])


@st.composite
def hostile_config(draw: st.DrawFn) -> str:
    units = "".join(draw(st.lists(hostile_unit(), max_size=3)))
    files = "".join(draw(st.lists(hostile_file(), max_size=2)))
    extra = "".join(draw(st.lists(top_level, max_size=2, unique=True)))
    number = draw(numbers)
    # The good items come first, so their positions (and headers) match the baseline's.
    return (
        f"#cloud-config\ncoreos:\n  units:\n{GOOD_UNITS}{units}"
        + f"  etcd2: {{snapshot_count: {number}, heartbeat_interval: {number}, "
        + f"name: {q(draw(weird_text))}}}\n"
        + f"write_files:\n{GOOD_FILE}{files}"
        + extra.replace("coreos_etcd2_big: 1\n", "")
    )


BASELINE = "#cloud-config\ncoreos:\n  units:\n" + GOOD_UNITS + "write_files:\n" + GOOD_FILE


def good_entries(text: str) -> tuple[dict[str, str], Diagnostics]:
    diags = Diagnostics()
    plan = compile.compile_inputs([inputs.Input("/u", text.encode("utf-8", "surrogatepass"))], diags)
    entries = {
        e.path: getattr(e, "text", "") + getattr(e, "target", "") for e in plan.entries() if "good-" in e.path
    }
    return entries, diags


EXPECTED, _ = good_entries(BASELINE)


def test_the_baseline_has_the_good_items() -> None:
    assert set(EXPECTED) >= {
        "good-one.service",
        "ccgen.target.wants/good-one.service",
        "good-two.service.d/10-good.conf",
        "multi-user.target.wants/good-two.service",
    }


@settings(max_examples=120, deadline=None, suppress_health_check=list(HealthCheck))
@given(hostile_config())
def test_hostile_configs_cost_only_their_own_items(text: str) -> None:
    entries, diags = good_entries(text)
    found = diags.sorted()
    assert not [d for d in found if d.code == "internal"], [d.format() for d in found]
    assert all("\n" not in d.format() for d in found)
    assert entries == EXPECTED


@settings(max_examples=25, deadline=None, suppress_health_check=list(HealthCheck))
@given(hostile_config())
def test_hostile_configs_through_every_command(text: str) -> None:
    import tempfile

    from ccgen.base.cache import Metadata

    with tempfile.TemporaryDirectory() as tmp:
        base = Path(tmp)
        cfg = base / "user-data"
        cfg.write_bytes(text.encode("utf-8", "surrogatepass"))
        # validate, as a user runs it
        out, err = io.StringIO(), io.StringIO()
        with redirect_stdout(out), redirect_stderr(err):
            status = cli.main(["validate", str(cfg)])
        assert status in (0, 1) and "Traceback" not in err.getvalue()
        # the generator's compile and write, into a real directory
        diags = Diagnostics()
        plan = compile.compile_inputs([inputs.Input(str(cfg), cfg.read_bytes())], diags)
        failed: list[str] = []
        write_plan(plan, str(base), lambda path, e: failed.append(path))
        assert not failed, failed
        # apply's files and keys steps against an image tree
        # A Container Linux image: its /usr is read-only, so no path may end up under it
        # (on a Debian image /usr is writable and a write there is legitimate).
        root = helpers.make_root(
            base / "root",
            {"/etc/passwd": "core:x:500:500::/home/core:/bin/sh\n", "/etc/os-release": "ID=flatcar\n"},
        )
        (root / "home/core").mkdir(parents=True)
        for step in ("files", "keys"):
            found = [inputs.Input(str(cfg), cfg.read_bytes())]
            with redirect_stderr(io.StringIO()):
                ctx = apply_run.make_context(str(root), found, Metadata(), Diagnostics(), force=False)
                apply_run.run(ctx, step)
        assert not (root / "usr").exists(), "a cleaned /usr path was written"
        # A set-id bit only where a valid mode asked for it (4755, as the original wrote it:
        # `relative/x` is written since issue 23); never from a malformed one (-07777, 99999).
        asked = "4755" in text
        for p in root.rglob("*"):
            if p.is_file() and not p.is_symlink():
                special = p.stat().st_mode & 0o7000
                assert special == 0 or (asked and special == 0o4000), f"{p} got a set-id or sticky mode"


def test_injected_failure_costs_one_item(monkeypatch: pytest.MonkeyPatch) -> None:
    """Whatever fails inside the rendering of one unit, every other entry is unchanged."""
    text = BASELINE.replace(GOOD_UNITS, GOOD_UNITS + GOOD_UNITS.replace("good-", "other-"))
    diags = Diagnostics()
    full = {e.path: e for e in compile.compile_inputs([inputs.Input("/u", text.encode())], diags).entries()}
    names = ["good-one.service", "good-two.service", "other-one.service", "other-two.service"]
    original = render._Renderer.unit
    for victim in names:

        def broken(self: render._Renderer, unit: model.Unit, victim: str = victim) -> None:
            original(self, unit)
            if unit.name == victim:
                raise RuntimeError("injected")

        monkeypatch.setattr(render._Renderer, "unit", broken)
        d = Diagnostics()
        got = {e.path: e for e in compile.compile_inputs([inputs.Input("/u", text.encode())], d).entries()}
        assert [x.code for x in d.sorted() if x.code == "internal"] == ["internal"]
        lost = set(full) - set(got)
        assert lost and all(victim in p for p in lost), (victim, lost)
        assert all(got[p] == full[p] for p in got)


# The input cap's worst cases, against the ceilings docs/limits.md states.
CEILING_SECONDS = 60.0
CEILING_BYTES = 1024 * 1024 * 1024


def worst_inputs() -> dict[str, bytes]:
    cap = 16 * 1024 * 1024
    return {
        "flow list of 5 million scalars": (
            b"#cloud-config\nssh_authorized_keys: [" + b"a, " * ((cap - 40) // 3) + b"]\n"
        )[:cap],
        "990,000 keys": b"#cloud-config\nssh_authorized_keys:\n"
        + b"".join(b"- k%d\n" % i for i in range(990_000)),
        "1.4 million unknown keys": (
            b"#cloud-config\n" + b"".join(b"k%07d: 1\n" % i for i in range(1_400_000))
        )[:cap],
        "a 1 MiB anchor used 100,000 times": b"#cloud-config\nssh_authorized_keys: [&a "
        + b'"'
        + b"x" * (1024 * 1024)
        + b' $private_ipv4"'
        + b", *a" * 100_000
        + b"]\n",
        # Issue 22: JSON past the nesting bound, and MIME that only CR ends lines in.
        "JSON nested 16 million deep": (b'{"ignition": ' + b"[" * cap)[:cap],
        "100,000 MIME parts, CR line ends": b'Content-Type: multipart/mixed; boundary="b"\r\r'
        + b"--b\rContent-Type: text/cloud-config\r\r#cloud-config\rhostname: a\r" * 100_000,
        "8 million CR-only lines of MIME": (
            b'Content-Type: multipart/mixed; boundary="b"\r\r' + b"x\r" * cap
        )[:cap],
    }


# Started from a small process: a child forked from pytest would count pytest's own
# memory in its peak until it execs.
MEASURE = """
import os, subprocess, sys, time
start = time.monotonic()
proc = subprocess.Popen(sys.argv[1:], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
err = proc.stderr.read()
_, status, usage = os.wait4(proc.pid, 0)
sys.stderr.buffer.write(err)
print(os.waitstatus_to_exitcode(status), time.monotonic() - start, usage.ru_maxrss * 1024)
"""


def run_measured(argv: list[str], env: dict[str, str]) -> tuple[int, str, float, int]:
    """(status, stderr, seconds, peak resident bytes) of one child process."""
    proc = subprocess.run(
        [sys.executable, "-I", "-c", MEASURE, *argv], env=env, capture_output=True, text=True, timeout=600
    )
    status, seconds, peak = proc.stdout.split()
    return int(status), proc.stderr, float(seconds), int(peak)


def test_worst_inputs_stay_under_the_ceilings(tmp_path: Path) -> None:
    import shutil

    generator = str(helpers.installed_script("ccgen-generator"))
    for name, data in worst_inputs().items():
        root = helpers.make_root(tmp_path / "root", {"/var/lib/ccgen/user-data": data})
        out = tmp_path / "out"
        out.mkdir()
        status, err, seconds, peak = run_measured(
            [generator, str(out)], {**os.environ, "CCGEN_ROOT": str(root)}
        )
        assert status in (0, 1) and "internal error" not in err and "Traceback" not in err, (name, err[-500:])
        assert seconds < CEILING_SECONDS, (name, seconds)
        assert peak < CEILING_BYTES, (name, peak)
        sys.stderr.write(f"{name}: {seconds:.1f} s, {peak / 2**20:.0f} MiB\n")
        shutil.rmtree(root)
        shutil.rmtree(out)


# Issue 22: fuzzing the parsers that round added or bounded.  Each is bounded (a few hundred
# examples) and each checks that nothing raises and every diagnostic is positioned.

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=5),
    lambda c: st.lists(c, max_size=3) | st.dictionaries(st.text(max_size=3), c, max_size=3),
    max_leaves=20,
)


@st.composite
def nested_json(draw: st.DrawFn) -> str:
    """Valid JSON around a nest of arrays and objects from 200 to 400 levels deep."""
    import json

    depth = draw(st.integers(200, 400))
    kinds = draw(st.lists(st.sampled_from(["[", '{"k": ']), min_size=depth, max_size=depth))
    inner = json.dumps(draw(json_values))
    closing = "".join("]" if k == "[" else "}" for k in reversed(kinds))
    return "".join(kinds) + inner + closing


@settings(max_examples=60, deadline=None, suppress_health_check=list(HealthCheck))
@given(nested_json(), st.sampled_from(["ignition", "flow", "block-value"]))
def test_json_inside_yaml_is_bounded(text: str, where: str) -> None:
    from ccgen.read import nesting

    data = {
        "ignition": '{"ignition": ' + text + "}",
        "flow": "#cloud-config\nssh_authorized_keys: " + text + "\n",
        "block-value": "#cloud-config\nwrite_files:\n  - path: /etc/x\n    content: " + text + "\n",
    }[where].encode()
    diags = Diagnostics()
    compile.parse(inputs.Input("/u", data), diags, {})
    for d in diags.sorted():
        assert d.span.line >= 1 and d.span.column >= 1 and d.code != "internal", d.format()
    deep = nesting.json_depth(text.encode()) > nesting.MAX_DEPTH
    if where == "flow" and deep:
        assert any(d.code == "yaml-depth" for d in diags.sorted())
    if where == "ignition":
        try:
            nesting.loads(data)
        except ValueError as e:
            assert deep and "deeper than" in str(e)


LINE_ENDS = st.sampled_from([b"\n", b"\r\n", b"\r"])


@st.composite
def mime_documents(draw: st.DrawFn) -> bytes:
    """MIME with every line end drawn on its own: LF, CR LF, CR or a mix of them."""
    style = draw(st.sampled_from(["\n", "\r\n", "\r", "mixed"]))

    def nl() -> bytes:
        return draw(LINE_ENDS) if style == "mixed" else style.encode()

    parts = []
    for _ in range(draw(st.integers(0, 5))):
        ctype = draw(
            st.sampled_from(["text/cloud-config", "text/x-shellscript", "text/plain", "multipart/mixed"])
        )
        body = draw(st.sampled_from([b"#cloud-config", b"#!/bin/sh", b"hostname: a", b"zz: [", b"", b"--b"]))
        lines = [b"--b", b"Content-Type: " + ctype.encode(), b"", body]
        lines += draw(
            st.lists(st.sampled_from([b"hostname: x", b"zzbad: 1", b"  - a", b"--b", b"\x00"]), max_size=3)
        )
        parts.append(b"".join(line + nl() for line in lines))
    head = b'Content-Type: multipart/mixed; boundary="b"' + nl() + b"MIME-Version: 1.0" + nl() + nl()
    return head + b"".join(parts) + draw(st.sampled_from([b"--b--", b"", b"--b"])) + nl()


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(mime_documents())
def test_mime_with_every_line_end_is_reported_never_raised(data: bytes) -> None:
    import re
    import time

    diags = Diagnostics()
    start = time.monotonic()
    compile.parse(inputs.Input("/u", data), diags, {})
    assert time.monotonic() - start < 5
    lines = len(re.split(rb"\r\n|\r|\n", data))
    for d in diags.sorted():
        assert 1 <= d.span.line <= lines and d.code != "internal", d.format()


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.data())
def test_plan_files_damaged_anyhow_never_raise_and_never_load_changed(
    tmp_path_factory: pytest.TempPathFactory, data: st.DataObject
) -> None:
    from ccgen.bootpath import planfile

    good = _real_plan(tmp_path_factory)
    how = data.draw(st.sampled_from(["flip", "cut", "insert", "junk"]))
    if how == "flip":
        at = data.draw(st.integers(0, len(good) - 1))
        bad = good[:at] + bytes([good[at] ^ data.draw(st.integers(1, 255))]) + good[at + 1 :]
    elif how == "cut":
        bad = good[: data.draw(st.integers(0, len(good) - 1))]
    elif how == "insert":
        at = data.draw(st.integers(0, len(good)))
        bad = good[:at] + data.draw(st.binary(min_size=1, max_size=20)) + good[at:]
    else:
        bad = planfile.MAGIC + data.draw(st.binary(max_size=400))
    assert planfile.load(bad) is None
    assert planfile.load(good) is not None


_PLANS: dict[str, bytes] = {}


def _real_plan(factory: pytest.TempPathFactory) -> bytes:
    """One real plan, compiled once per session from the bundled example."""
    if "plan" not in _PLANS:
        from ccgen import boot
        from ccgen.base import names

        tmp = factory.mktemp("plan")
        root = helpers.example_root(tmp / "root")
        out = tmp / "out"
        out.mkdir()
        boot.generate(str(out), str(root), Diagnostics(), environ={})
        _PLANS["plan"] = (out / names.PLAN_CANDIDATE).read_bytes()
    return _PLANS["plan"]


record_lines = st.lists(
    st.one_of(
        st.text(max_size=30),
        st.tuples(
            st.sampled_from(["0", "1", "2", "9", "\u00b2", "-1", "", "x"]),
            st.text(max_size=5),
            st.text(max_size=5),
            st.sampled_from(["1", "0", "9" * 20, "\u0663", ""]),
            st.sampled_from(["1", "9" * 5000, ""]),
        ).map(lambda t: "diag=" + "\t".join((*t, "m", "d"))),
    ),
    max_size=6,
)


@settings(max_examples=200, deadline=None, suppress_health_check=list(HealthCheck))
@given(
    record_lines,
    st.binary(max_size=200)
    | json_values.map(lambda v: __import__("json").dumps(v).encode())
    | st.integers(250, 400).map(lambda n: b"[" * n + b"]" * n),
)
def test_status_records_damaged_anyhow_are_shown_or_said(lines: list[str], record_bytes: bytes) -> None:
    import json
    import tempfile

    from ccgen import status
    from ccgen.base import names, record

    with tempfile.TemporaryDirectory() as tmp:
        root = helpers.make_root(
            Path(tmp) / "root",
            {
                f"{names.NORMAL_DIR}/{record.NAME}": "mode=full\n" + "\n".join(lines) + "\n",
                "/run/ccgen/fetch.json": record_bytes,
                "/run/ccgen/apply.json": record_bytes,
                "/var/lib/ccgen/metadata": "STATE=present\n",
            },
        )
        state = status.collect(str(root), live=False)
        out = status.text(state)
        json.dumps(state)
        assert not any(c < " " and c != "\n" for c in out), repr(out)
