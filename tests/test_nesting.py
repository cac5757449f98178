"""One nesting bound for every parser (issue 22, finding 1): JSON nested past it, wherever it
comes from, is an error for that input and never a RecursionError that costs the run."""

from __future__ import annotations

import base64
import gzip
import json
import os
import subprocess
from pathlib import Path

import pytest

from ccgen.base import cache
from ccgen.read import nesting

from . import helpers, platforms
from .fakemeta import FakeMeta, Reply
from .fakeserial import serial_port
from .fetchrun import fetch

DEEP = 3000  # far past the bound, and past what json's recursion survives (about 1000)
DEEP_JSON = b'{"ignition": ' + b"[" * DEEP + b"]" * DEEP + b"}"


def test_depth_is_counted_outside_strings() -> None:
    assert nesting.json_depth(b"[]") == 1
    assert nesting.json_depth(b'{"a": "[[[[", "b": [[1]]}') == 3
    assert nesting.json_depth(b'["\\\\", [1]]') == 2  # an escaped backslash ends no string
    assert nesting.json_depth(b'["\\"[[[", [1]]') == 2  # an escaped quote ends no string
    assert nesting.json_depth(b"[" * 300) == 300


def test_loads_refuses_past_the_bound_and_keeps_the_bound_itself() -> None:
    at = b"[" * nesting.MAX_DEPTH + b"]" * nesting.MAX_DEPTH
    assert nesting.loads(at) is not None
    past = b"[" + at + b"]"
    with pytest.raises(ValueError, match="deeper than 256"):
        nesting.loads(past)
    with pytest.raises(ValueError, match="deeper than 256"):
        nesting.loads(DEEP_JSON.decode())


def test_the_depth_scan_is_linear() -> None:
    """An unterminated string per quote must not make the scan quadratic."""
    import time

    start = time.monotonic()
    nesting.json_depth(b'"' + b'\\"' * 2_000_000)
    nesting.json_depth(b'"a' * 2_000_000)
    nesting.json_depth(b"[" * 4_000_000)
    assert time.monotonic() - start < 5


def mime(*parts: tuple[str, bytes, str]) -> bytes:
    out = [b'Content-Type: multipart/mixed; boundary="B"\nMIME-Version: 1.0\n']
    for ctype, body, cte in parts:
        out.append(f"\n--B\nContent-Type: {ctype}\n".encode())
        if cte:
            out.append(f"Content-Transfer-Encoding: {cte}\n".encode())
        out.append(b"\n" + body + b"\n")
    out.append(b"--B--\n")
    return b"".join(out)


GOOD = b"#cloud-config\nhostname: good\n"
HOSTILE = {
    "plain": DEEP_JSON,
    "flow sequence": b"#cloud-config\nssh_authorized_keys: " + b"[" * DEEP + b"]" * DEEP + b"\n",
    "gzip": gzip.compress(DEEP_JSON),
    "mime part": mime(("text/cloud-config", GOOD, ""), ("text/plain", DEEP_JSON, "")),
    "mime base64 part": mime(("text/plain", base64.b64encode(gzip.compress(DEEP_JSON)), "base64")),
    "include": b"#include\nhttp://127.0.0.1:9/deep\n",
}


def hostile_root(tmp: Path, user_data: bytes) -> Path:
    root = helpers.example_root(tmp / "root")
    helpers.make_root(root, {"/var/lib/ccgen/user-data": user_data, "/proc/cmdline": "ccgen.provider=ec2\n"})
    include = root / cache.include_path("http://127.0.0.1:9/deep").lstrip("/")
    include.parent.mkdir(parents=True, exist_ok=True)
    include.write_bytes(DEEP_JSON)
    return root


@pytest.mark.parametrize("case", sorted(HOSTILE))
def test_the_generator_writes_everything_else(case: str, tmp_path: Path) -> None:
    root = hostile_root(tmp_path, HOSTILE[case])
    out = tmp_path / "out"
    proc = helpers.run_generator(root, out)
    # Exit 1 is the generator's "some part had an error" (docs/generator.md), not a crash.
    assert proc.returncode in (0, 1), proc.stderr
    assert "internal error" not in proc.stderr and "Traceback" not in proc.stderr, proc.stderr
    written = set(os.listdir(out))
    assert {"ccgen-apply.service", "example-agent.service", ".ccgen-plan", ".ccgen-status"} <= written, (
        written
    )
    assert any(n.startswith("ccgen-fetch-") for n in written), written
    assert "/var/lib/ccgen/user-data:" in proc.stderr  # said, with its position


@pytest.mark.parametrize("command", ["validate", "--print", "prime", "apply"])
def test_the_commands_print_a_positioned_error(command: str, tmp_path: Path) -> None:
    root = hostile_root(tmp_path, HOSTILE["flow sequence"])
    deep = tmp_path / "deep.yml"
    deep.write_bytes(HOSTILE["flow sequence"])
    args = {
        "validate": ["validate", str(deep)],
        "--print": ["--print", str(deep)],
        "prime": ["prime", "--root", str(root)],
        "apply": ["apply", "--root", str(tmp_path / "target"), str(deep)],
    }[command]
    (tmp_path / "target").mkdir()
    proc = subprocess.run(
        [str(helpers.installed_script("ccgen")), *args], capture_output=True, text=True, timeout=120
    )
    assert "Traceback" not in proc.stderr and "internal error" not in proc.stderr, proc.stderr
    assert "nesting is deeper than 256 levels [yaml-depth]" in proc.stderr + proc.stdout


def deep_gce_key() -> dict[str, str]:
    deep = "[" * DEEP + "]" * DEEP
    return {"ssh-keys": f'core:ssh-ed25519 AAAAC3Nza core google-ssh {{"a": {deep}}}'}


FETCHES = {
    "digitalocean": lambda: platforms.digitalocean(),
    "packet": lambda: platforms.packet(),
    "azure": lambda: platforms.azure(),
    "gce": lambda: platforms.gce(),
}
MAIN = {
    "digitalocean": "/metadata/v1.json",
    "packet": "/metadata",
    "azure": platforms.AZURE_INSTANCE,
    "gce": platforms.GCE + "instance/" + platforms.GCE_ATTRS,
}


@pytest.mark.parametrize("name", sorted(FETCHES))
def test_a_deep_metadata_answer_is_a_fetch_error(name: str, tmp_path: Path) -> None:
    b = FETCHES[name]()
    b.routes[MAIN[name]] = Reply(200, DEEP_JSON, {"Content-Type": "application/json"})
    args = ["--endpoint", "URL", "--deadline", "10"]
    if name == "azure":
        (tmp_path / "media").mkdir()
        args += ["--source", str(tmp_path / "media")]
    with FakeMeta(b) as server:
        r = fetch(name, tmp_path, *[a.replace("URL", server.url) for a in args])
    assert r.status == 1, r.stderr
    assert "deeper than 256" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert json.loads((tmp_path / "root/run/ccgen/fetch.json").read_text())["result"] == "failed"


def test_one_deep_gce_key_comment_keeps_the_fetch(tmp_path: Path) -> None:
    with FakeMeta(platforms.gce(instance=deep_gce_key())) as server:
        r = fetch("gce", tmp_path, "--endpoint", server.url)
    assert r.status == 0 and "Traceback" not in r.stderr, r.stderr
    assert (tmp_path / "root/run/ccgen/fetch.json").exists() and r.attributes_file.exists()
    assert any("AAAAC3Nza" in k for k in r.keys())  # noqa: SIM118 (Run.keys: the cached keys)


def test_a_deep_config_drive_is_a_fetch_error(tmp_path: Path) -> None:
    latest = tmp_path / "drive" / "openstack" / "latest"
    latest.mkdir(parents=True)
    (latest / "meta_data.json").write_bytes(DEEP_JSON)
    r = fetch("configdrive", tmp_path, "--source", str(tmp_path / "drive"))
    assert r.status == 1 and "deeper than 256" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert (tmp_path / "root/run/ccgen/fetch.json").exists()


def test_a_deep_cloudsigma_context_is_a_fetch_error(tmp_path: Path) -> None:
    with serial_port(DEEP_JSON + b"\n\x04") as port:
        r = fetch("cloudsigma", tmp_path, "--source", port.path, "--deadline", "10")
    assert r.status == 1 and "deeper than 256" in r.stderr and "Traceback" not in r.stderr, r.stderr
    assert (tmp_path / "root/run/ccgen/fetch.json").exists()


@pytest.mark.parametrize("user_data", [DEEP_JSON, b"hello\n", b"#cloud-config\n" + b"[" * DEEP + b"\n"])
def test_with_no_usable_document_at_all_ccgen_apply_is_still_written(
    user_data: bytes, tmp_path: Path
) -> None:
    """No OEM config, and a user-data that cannot be used: ccgen's own units are still
    written (ccgen-apply keeps the plan and applies what the platform gives), as the
    before-stop check asks for a 3000-deep JSON user-data."""
    root = helpers.make_root(tmp_path / "root", {"/var/lib/ccgen/user-data": user_data, "/proc/cmdline": ""})
    out = tmp_path / "out"
    proc = helpers.run_generator(root, out)
    assert proc.returncode in (0, 1) and "Traceback" not in proc.stderr, proc.stderr
    written = set(os.listdir(out))
    assert {"ccgen-apply.service", "ccgen.target", ".ccgen-plan"} <= written, written
    assert os.path.islink(out / "multi-user.target.wants" / "ccgen-apply.service")
