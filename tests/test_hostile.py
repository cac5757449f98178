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
        root = helpers.make_root(base / "root", {"/etc/passwd": "core:x:500:500::/home/core:/bin/sh\n"})
        (root / "home/core").mkdir(parents=True)
        for step in ("files", "keys"):
            found = [inputs.Input(str(cfg), cfg.read_bytes())]
            with redirect_stderr(io.StringIO()):
                ctx = apply_run.make_context(str(root), found, Metadata(), Diagnostics(), force=False)
                apply_run.run(ctx, step)
        assert not (root / "usr").exists(), "a cleaned /usr path was written"
        for p in root.rglob("*"):
            if p.is_file() and not p.is_symlink():
                assert p.stat().st_mode & 0o7000 == 0, f"{p} got a set-id or sticky mode"


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
