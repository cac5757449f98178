"""ccgen status against state trees written here, and the failing unit an erroneous config gets."""

from __future__ import annotations

import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from ccgen import boot, status
from ccgen.base import names, record
from ccgen.base.diag import Diagnostic, Diagnostics, Severity, Span

from . import helpers, sysd

CCGEN = str(helpers.installed_script("ccgen"))


def tree(
    root: Path, *, mode: str | None = "full", diags: list[Diagnostic] | None = None, **files: Any
) -> Path:
    """A state tree: the generator's record (None: the generator never ran) and the records."""
    content: dict[str, bytes | str] = {}
    if mode is not None:
        rec = record.with_mode(
            record.render([("version", "0.1.0"), ("input", "/u\t10\t00000000")], diags or []), mode
        )
        content[f"{names.NORMAL_DIR}/{record.NAME}"] = rec
    for key, value in files.items():
        path = {
            "fetch": "/run/ccgen/fetch.json",
            "apply": "/run/ccgen/apply.json",
            "meta": "/var/lib/ccgen/metadata",
        }[key]
        content[path] = value if isinstance(value, str) else json.dumps(value)
    return helpers.make_root(root, content)


def run_status(root: Path, *args: str) -> tuple[int, str]:
    proc = subprocess.run(
        [CCGEN, "status", "--root", str(root), *args], capture_output=True, text=True, timeout=60
    )
    assert "Traceback" not in proc.stderr, proc.stderr
    return proc.returncode, proc.stdout


WARNING = Diagnostic(Span("/u", 3, 1), Severity.WARNING, "unknown-key", 'unrecognized key "x"')
ERROR = Diagnostic(Span("/u", 2, 1), Severity.ERROR, "yaml-syntax", "could not find expected ':'")
OK_APPLY = {"status": 0, "steps": {"files": "ok"}, "messages": [], "errors": []}


@pytest.mark.parametrize(
    ("word", "code", "state"),
    [
        ("done", 0, {"apply": OK_APPLY, "meta": "STATE=present\nPROVIDER=ec2\n"}),
        ("disabled", 0, {"mode": "disabled"}),
        ("degraded", 2, {"diags": [WARNING]}),
        ("degraded", 2, {"apply": {**OK_APPLY, "status": 1, "steps": {"users": "failed"}}}),
        ("degraded", 2, {"fetch": {"provider": "ec2", "result": "failed"}, "meta": "STATE=present\n"}),
        ("error", 1, {"diags": [ERROR, WARNING]}),
        ("not-run", 4, {"mode": None}),
        ("error", 1, {"mode": None, "apply": OK_APPLY}),
        ("error", 1, {"fetch": {"provider": "ec2", "result": "failed"}}),
    ],
)
def test_every_word(tmp_path: Path, word: str, code: int, state: dict[str, Any]) -> None:
    state = dict(state)
    mode = state.pop("mode", "full")
    diags = state.pop("diags", [])
    root = tree(tmp_path / "root", mode=mode, diags=diags, **state)
    rc, out = run_status(root, "--format", "json")
    report = json.loads(out)
    assert (report["status"], rc) == (word, code), report
    rc, out = run_status(root)
    assert out.startswith(f"status: {word}\n") and rc == code


def test_json_carries_the_details(tmp_path: Path) -> None:
    root = tree(
        tmp_path / "root",
        diags=[WARNING],
        fetch={"provider": "ec2", "result": "stored", "detail": "user-data present"},
        apply=OK_APPLY,
        meta="STATE=present\nPROVIDER=ec2\nINSTANCE_ID=i-1\n",
    )
    report = json.loads(run_status(root, "--format", "json")[1])
    assert report["generator"]["inputs"] == [{"path": "/u", "bytes": "10", "crc32": "00000000"}]
    assert report["cache"] == {"state": "present", "provider": "ec2", "instance_id": "i-1"}
    assert report["fetch"]["result"] == "stored" and report["apply"]["steps"] == {"files": "ok"}
    assert report["diagnostics"][0]["code"] == "unknown-key"


def test_running_and_wait(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """--wait returns as soon as nothing ccgen started is queued, and never waits forever."""
    bindir = tmp_path / "bin"
    bindir.mkdir()
    jobs = tmp_path / "jobs"
    jobs.write_text("")
    (bindir / "systemctl").write_text(f'#!/bin/sh\ncat "{jobs}"\n')
    (bindir / "systemctl").chmod(0o755)
    monkeypatch.setenv("PATH", f"{bindir}:{os.environ['PATH']}")
    assert status.queued({"ccgen-apply.service"}) == []
    jobs.write_text("12 ccgen-apply.service start running\n13 other.service start waiting\n")
    assert status.queued({"ccgen-apply.service", "x.service"}) == ["ccgen-apply.service"]
    # A fetch's re-run unit is transient, so it is in no generated directory; it counts all the same.
    jobs.write_text("14 ccgen-rerun-ec2.service start running\n")
    assert status.queued({"ccgen-apply.service"}) == ["ccgen-rerun-ec2.service"]
    jobs.write_text("12 ccgen-apply.service start running\n13 other.service start waiting\n")
    state: dict[str, Any] = {
        "generator": {"mode": "full", "ran": True},
        "running": ["ccgen-apply.service"],
        "fetch": None,
        "apply": None,
        "cache": {"state": "unknown"},
    }
    assert status.word(state, []) == "running"
    # The whole command on a live system with nothing queued: returns at once.
    jobs.write_text("")
    start = time.monotonic()
    proc = subprocess.run(
        [CCGEN, "status", "--wait", "--timeout", "30"],
        capture_output=True,
        text=True,
        timeout=60,
        env={**os.environ, "PATH": f"{bindir}:{os.environ['PATH']}"},
    )
    assert time.monotonic() - start < 10 and "running" not in proc.stdout.splitlines()[0], proc.stdout


def test_wait_times_out(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(status, "collect", lambda root, live: {"status": "running", "running": ["x"]})
    monkeypatch.setattr(os.path, "realpath", lambda p: "/")
    start = time.monotonic()
    assert status.main("/", "json", True, 0.6) == status.EXIT_TIMEOUT
    assert 0.5 < time.monotonic() - start < 5


def test_errors_get_a_failing_unit(tmp_path: Path) -> None:
    bad = b"#cloud-config\ncoreos:\n  units:\n    - name: x.service\n      content: [unclosed\n"
    root = helpers.make_root(tmp_path / "root", {"/var/lib/ccgen/user-data": bad})
    out = tmp_path / "out"
    out.mkdir()
    outcome = boot.generate(str(out), str(root), Diagnostics())
    name = "ccgen-error-var-lib-ccgen-user\\x2ddata.service"
    unit = (out / name).read_text()
    assert "Description=cloud-config /var/lib/ccgen/user-data has errors" in unit
    # The error is at the end of the input: reported at the end of the last line (5 lines).
    assert "StandardInputText=/var/lib/ccgen/user-data:5:25: error:" in unit
    assert os.readlink(out / "multi-user.target.wants" / name) == f"../{name}"
    assert not sysd.verify([out / name]), "the error unit must be a valid unit"
    assert [line.rsplit(" ", 1)[1] for severity, line in outcome.lines if severity == Severity.ERROR] == [
        "[yaml-syntax]"
    ]
    # Warnings alone fail nothing.
    root2 = helpers.make_root(tmp_path / "root2", {"/var/lib/ccgen/user-data": b"#cloud-config\nbogus: 1\n"})
    out2 = tmp_path / "out2"
    out2.mkdir()
    boot.generate(str(out2), str(root2), Diagnostics())
    assert not list(out2.glob("ccgen-error-*"))


def test_an_unreadable_record_is_said(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Run by a user who may not read the apply records (root's, 0600), status says so
    instead of reporting as if ccgen apply had left nothing."""
    import builtins

    root = tree(tmp_path / "root", apply=OK_APPLY, meta="STATE=present\n")
    real_open = builtins.open

    def guarded(file: Any, *args: Any, **kwargs: Any) -> Any:
        if str(file).endswith(".json"):
            raise PermissionError(13, "Permission denied", str(file))
        return real_open(file, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", guarded)
    state = status.collect(str(root), live=False)
    monkeypatch.undo()
    assert state["apply"] is None
    assert "/run/ccgen/apply.json" in state["unreadable"]
    assert "note: /run/ccgen/apply.json is not readable by this user" in status.text(state)


# Issue 22, findings 7 and 8: what a server or a file said is printed escaped, and a damaged
# record is "unreadable record", never a traceback or a hang.

ESCAPES = "\x1b]0;pwned\x07\x1b[31m"


def test_a_servers_escapes_are_printed_escaped(tmp_path: Path) -> None:
    root = tree(
        tmp_path / "root",
        fetch={"provider": "url", "result": "failed", "detail": f"HTTP 403: {ESCAPES}", "time": 1},
        apply={**OK_APPLY, "steps": {f"files{ESCAPES}": f"ok{ESCAPES}"}},
        meta="STATE=present\n",
        diags=[Diagnostic(Span(f"/u{ESCAPES}", 1, 1), Severity.WARNING, "x", "m")],
    )
    _, out = run_status(root)
    assert "\x1b" not in out and "\x07" not in out, repr(out)
    assert "\\x1b]0;pwned\\x07" in out


def test_a_fetch_error_on_stderr_is_escaped(tmp_path: Path) -> None:
    from .fakemeta import Behaviour, FakeMeta, Reply
    from .fetchrun import fetch

    b = Behaviour(routes={"/cc.yml": Reply(403, ESCAPES.encode())})
    with FakeMeta(b) as server:
        r = fetch("url", tmp_path, "--deadline", "3", cmdline=f"cloud-config-url={server.url}/cc.yml")
    assert r.status == 1 and "\x1b" not in r.stderr and "\x07" not in r.stderr, repr(r.stderr)
    _, out = run_status(helpers.make_root(tmp_path / "root", {}))
    assert "\x1b" not in out


DAMAGED_FETCH: dict[str, str] = {
    "nested": "[" * 100_000 + "]" * 100_000,
    "nested object": '{"detail": ' + "[" * 5000 + "]" * 5000 + "}",
    "huge number": '{"time": ' + "9" * 5000 + "}",
    "wrong types": '{"provider": [], "result": {}, "detail": 1, "time": "x"}',
    "not an object": "[1, 2]",
    "not utf-8": '{"detail": "\xff"}',
    "binary": "\x00\x01\x02",
}
DAMAGED_APPLY: dict[str, str] = {
    "steps as a list": '{"status": 0, "steps": ["files"]}',
    "steps as a string": '{"status": 0, "steps": "files"}',
    "step results not text": '{"status": 0, "steps": {"files": [1]}}',
    "status as text": '{"status": "0", "steps": {}}',
    "status true": '{"status": true, "steps": {}}',
}
DAMAGED_RECORD = {
    "severity 9": "diag=9\tx\t/u\t1\t1\tm\td\n",
    "severity superscript two": "diag=\u00b2\tx\t/u\t1\t1\tm\td\n",
    "5000-digit line": "diag=1\tx\t/u\t" + "9" * 5000 + "\t1\tm\td\n",
    "arabic digits": "diag=1\tx\t/u\t\u0663\t1\tm\td\n",
}


@pytest.mark.parametrize("case", sorted(DAMAGED_FETCH))
def test_a_damaged_fetch_record(tmp_path: Path, case: str) -> None:
    root = tree(tmp_path / "root", meta="STATE=present\n")
    (root / "run/ccgen").mkdir(parents=True, exist_ok=True)
    (root / "run/ccgen/fetch.json").write_bytes(DAMAGED_FETCH[case].encode("latin-1"))
    code, out = run_status(root)
    assert "note: unreadable record /run/ccgen/fetch.json" in out, out
    assert code in (0, 1, 2)


@pytest.mark.parametrize("case", sorted(DAMAGED_APPLY))
def test_a_damaged_apply_record(tmp_path: Path, case: str) -> None:
    root = tree(tmp_path / "root", meta="STATE=present\n")
    (root / "run/ccgen").mkdir(parents=True, exist_ok=True)
    (root / "run/ccgen/apply.json").write_text(DAMAGED_APPLY[case])
    _, out = run_status(root)
    assert "note: unreadable record /run/ccgen/apply.json" in out, out


@pytest.mark.parametrize("case", sorted(DAMAGED_RECORD))
def test_a_damaged_generator_record_line_is_left_out(tmp_path: Path, case: str) -> None:
    root = tree(tmp_path / "root", meta="STATE=present\n")
    rec = root / names.NORMAL_DIR.lstrip("/") / record.NAME
    rec.write_text(rec.read_text() + DAMAGED_RECORD[case])
    code, out = run_status(root)
    assert code == 0 and "status: done" in out, out


def test_a_fifo_in_place_of_a_record_does_not_hang(tmp_path: Path) -> None:
    root = tree(tmp_path / "root", meta="STATE=present\n")
    (root / "run/ccgen").mkdir(parents=True, exist_ok=True)
    os.mkfifo(root / "run/ccgen/fetch.json")
    os.mkfifo(root / "run/ccgen/apply.json")
    start = time.monotonic()
    _, out = run_status(root)
    assert time.monotonic() - start < 20
    assert "note: unreadable record /run/ccgen/fetch.json: not a regular file" in out, out
    assert "note: unreadable record /run/ccgen/apply.json: not a regular file" in out, out


def test_a_huge_record_is_not_read_whole(tmp_path: Path) -> None:
    root = tree(tmp_path / "root", meta="STATE=present\n")
    (root / "run/ccgen").mkdir(parents=True, exist_ok=True)
    with open(root / "run/ccgen/fetch.json", "wb") as f:
        f.write(b'{"detail": "' + b"x" * (200 * 1024 * 1024) + b'"}')
    start = time.monotonic()
    proc = subprocess.run(
        ["/usr/bin/time", "-f", "%M", CCGEN, "status", "--root", str(root)], capture_output=True, text=True
    )
    took = time.monotonic() - start
    peak_kib = int(proc.stderr.strip().splitlines()[-1])
    assert "unreadable record /run/ccgen/fetch.json: larger than" in proc.stdout, proc.stdout
    assert took < 5 and peak_kib < 100 * 1024, (took, peak_kib)


def test_script_units_are_named_as_the_user_knows_them(tmp_path: Path) -> None:
    """A MIME script part's unit is named by its digest; status shows its Description=, which
    names the part's file (issue 23), read from what the real generator wrote."""
    root = helpers.make_root(
        tmp_path / "root",
        {"/var/lib/ccgen/user-data": (helpers.REPO / "tests/cases/mime-script-names.mime").read_bytes()},
    )
    out = root / names.NORMAL_DIR.lstrip("/")
    out.mkdir(parents=True)
    gen = subprocess.run(
        [
            str(helpers.installed_script("ccgen-generator")),
            str(out),
            str(tmp_path / "e"),
            str(tmp_path / "l"),
        ],
        env={**os.environ, "CCGEN_ROOT": str(root), "CCGEN_KMSG": str(tmp_path / "kmsg")},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert gen.returncode == 0, gen.stderr
    _, shown = run_status(root)
    assert 'cloud-config user-data script "user-data.sh" (from /var/lib/ccgen/user-data, line 14)' in shown
    assert "script \"100%% 'ready'.sh\" (from /var/lib/ccgen/user-data, line 26)" in shown
    _, raw = run_status(root, "--format", "json")
    scripts = json.loads(raw)["scripts"]
    assert len(scripts) == 3 and all(s["unit"].startswith(names.SCRIPT_PREFIX) for s in scripts)
    # Something other than a file under such a name is passed over, without waiting on it.
    os.mkfifo(out / f"{names.SCRIPT_PREFIX}fifo.service")
    _, raw = run_status(root, "--format", "json")
    assert [s["description"] for s in json.loads(raw)["scripts"]].count("") == 1
