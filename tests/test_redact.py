"""Credentials in an #include URL (issue 22, finding 10): never in a warning, a kmsg line, the
generator's record, `ccgen fetch`'s messages or its record."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from ccgen.base import redact

from . import helpers
from .fakemeta import Behaviour, FakeMeta, Reply
from .fetchrun import fetch

SECRETS = ("PASSWORD", "SIGSECRET", "CREDSECRET", "TOKSECRET", "AZSIG", "GOOGSIG")


def secret_url(base: str) -> str:
    return (
        base.replace("://", "://alice:PASSWORD@", 1)
        + "/cc.yml?X-Amz-Algorithm=AWS4-HMAC-SHA256&X-Amz-Credential=CREDSECRET"
        + "&X-Amz-Signature=SIGSECRET&token=TOKSECRET&sig=AZSIG&X-Goog-Signature=GOOGSIG&v=1"
    )


@pytest.mark.parametrize(
    ("given_", "shown"),
    [
        ("https://u:p@h/x", "https://REDACTED@h/x"),
        ("https://h/x?Signature=s&a=1", "https://h/x?Signature=REDACTED&a=1"),
        ("http://h:8080/a?x-amz-security-token=t#f", "http://h:8080/a?x-amz-security-token=REDACTED#f"),
        ("https://h/plain?page=2", "https://h/plain?page=2"),
        ("https://h@x@y/p", "https://REDACTED@y/p"),
    ],
)
def test_url(given_: str, shown: str) -> None:
    assert redact.url(given_) == shown
    assert redact.in_text(f"include: {given_}: not found") == f"include: {shown}: not found"


@given(
    st.text(alphabet=st.sampled_from("ab:/@?&=#%. "), max_size=40),
    st.text(alphabet="XYZ", min_size=3, max_size=8),
)
def test_no_password_survives(noise: str, secret: str) -> None:
    text = f"{noise} https://u:{secret}@h/p?sig={secret}&token={secret} {noise}"
    assert secret not in redact.in_text(text)


def test_the_generator_never_shows_them(tmp_path: Path) -> None:
    url = secret_url("https://127.0.0.1:9")
    root = helpers.example_root(tmp_path / "root")
    helpers.make_root(root, {"/var/lib/ccgen/user-data": f"#include\n{url}\n", "/proc/cmdline": "x\n"})
    out = tmp_path / "out"
    out.mkdir()
    kmsg = tmp_path / "kmsg"
    kmsg.write_bytes(b"")
    generator = helpers.installed_script("ccgen-generator")
    proc = subprocess.run(  # run as systemd runs it: SYSTEMD_EXEC_PID is its own pid, so kmsg
        ["sh", "-c", f'SYSTEMD_EXEC_PID=$$ exec "{generator}" "{out}"'],
        env={**os.environ, "CCGEN_ROOT": str(root), "CCGEN_KMSG": str(kmsg)},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert "is not in the cache" in proc.stderr, proc.stderr
    status = (out / ".ccgen-status").read_text()
    assert "is not in the cache" in kmsg.read_text(errors="replace")
    shown = proc.stderr + status + kmsg.read_text(errors="replace")
    assert "REDACTED@127.0.0.1:9" in shown
    assert not [s for s in SECRETS if s in shown], shown
    validate = subprocess.run(
        [str(helpers.installed_script("ccgen")), "validate", str(root / "var/lib/ccgen/user-data")],
        capture_output=True,
        text=True,
    )
    assert not [s for s in SECRETS if s in validate.stdout + validate.stderr]


def test_the_fetch_never_shows_them(tmp_path: Path) -> None:
    with FakeMeta(Behaviour(routes={"/cc.yml": Reply(404, b"")})) as server:
        url = secret_url(server.url)
        b = Behaviour(routes={"/u": f"#include\n{url}\n".encode(), "/cc.yml": Reply(500, b"boom")})
        with FakeMeta(b) as ud:
            r = fetch("url", tmp_path, "--deadline", "3", cmdline=f"cloud-config-url={ud.url}/u")
    shown = r.stderr + (tmp_path / "root/run/ccgen/fetch.json").read_text()
    assert "include" in r.stderr, r.stderr
    assert not [s for s in SECRETS if s in shown], shown
