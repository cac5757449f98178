"""The generator's boot path imports only what it needs."""

from __future__ import annotations

import ast
import os
import subprocess
import sys
from pathlib import Path

from . import helpers

FORBIDDEN = (
    "argparse",
    "json",
    "logging",
    "urllib",
    "http",
    "email",
    "ssl",
    "socket",
    "ccgen.providers.http",
    "ccgen.providers.client",
    "ccgen.providers.fetch",
    "ccgen.providers.store",
    "ccgen.providers.device",
    "ccgen.cli",
    "ccgen.lang.export",
    "ccgen.apply",
    # cloud-init's dialect: only for a document that uses it (below)
    "ccgen.lang.cloudinit",
    "ccgen.units.cloudinit",
)

PROBE = """
import sys
from ccgen import boot
from ccgen.base.diag import Diagnostics
boot.generate(sys.argv[1], sys.argv[2], Diagnostics())
sys.stdout.write(repr(sorted(sys.modules)))
"""


def generate(root: Path, out: Path) -> list[str]:
    """Run the generator once in a fresh interpreter; the modules it loaded."""
    out.mkdir()
    proc = subprocess.run(
        [sys.executable, "-I", "-c", PROBE, str(out), str(root)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    loaded: list[str] = ast.literal_eval(proc.stdout)
    return loaded


def test_boot_path_imports(tmp_path: Path) -> None:
    out = tmp_path / "out"
    loaded = generate(helpers.example_root(tmp_path / "root"), out)
    bad = [m for m in loaded if m in FORBIDDEN or m.startswith(tuple(f + "." for f in FORBIDDEN))]
    assert not bad, bad
    assert (out / "web.service").exists()


def test_a_gzipped_script_does_not_import_email(tmp_path: Path) -> None:
    """userdata.py reads it, but only a MIME document needs the email package."""
    import gzip

    root = helpers.example_root(tmp_path / "root")
    helpers.make_root(root, {"/var/lib/ccgen/user-data": gzip.compress(b"#!/bin/sh\necho hi\n")})
    out = tmp_path / "out"
    loaded = generate(root, out)
    assert "ccgen.lang.userdata" in loaded, "the case no longer goes through userdata.py"
    assert not [m for m in loaded if m == "email" or m.startswith(("email.", "ccgen.read.mime"))]
    assert any(name.startswith("ccgen-script-") for name in os.listdir(out)), os.listdir(out)


def test_cloud_init_modules_only_for_their_keys(tmp_path: Path) -> None:
    """A document in cloud-init's dialect loads its parser and renderer; the CoreOS
    example above does not (FORBIDDEN), and neither do CoreOS-style users."""
    root = helpers.example_root(tmp_path / "root")
    coreos_users = "#cloud-config\nusers:\n  - name: core\n    groups: [docker]\n"
    helpers.make_root(root, {"/var/lib/ccgen/user-data": coreos_users})
    coreos = generate(root, tmp_path / "out1")
    assert not [m for m in coreos if m.endswith(".cloudinit")], coreos
    helpers.make_root(root, {"/var/lib/ccgen/user-data": "#cloud-config\nruncmd: [echo hi]\n"})
    loaded = generate(root, tmp_path / "out2")
    # The two modules, and the digest the once-only record is named by: nothing costly.
    extra = set(loaded) - set(coreos)
    assert {"ccgen.lang.cloudinit", "ccgen.units.cloudinit"} <= extra, extra
    assert extra <= {"ccgen.lang.cloudinit", "ccgen.units.cloudinit", "ccgen.bootpath.digest", "_sha256"}
    assert (tmp_path / "out2" / "ccgen-runcmd.service").exists()


REPLAY_PROBE = """
import sys
from ccgen import boot
before = set(sys.modules)
outcome = boot.generate(sys.argv[1], sys.argv[2])
sys.stdout.write(repr((outcome.mode, sorted(set(sys.modules) - before))))
"""


def test_replay_path_imports(tmp_path: Path) -> None:
    """A replay loads the plan's few modules: no YAML, no validation, no rendering."""
    import shutil

    from ccgen.base import cache, names

    root = helpers.example_root(tmp_path / "root")
    out = tmp_path / "out"

    def probe() -> tuple[str, list[str]]:
        if out.exists():
            shutil.rmtree(out)
        out.mkdir()
        proc = subprocess.run(
            [sys.executable, "-I", "-c", REPLAY_PROBE, str(out), str(root)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert proc.returncode == 0, proc.stderr
        found: tuple[str, list[str]] = ast.literal_eval(proc.stdout)
        return found

    assert probe()[0] == "full"
    plan = root / cache.PLAN.lstrip("/")
    plan.parent.mkdir(parents=True, exist_ok=True)
    shutil.copy(out / names.PLAN_CANDIDATE, plan)
    mode, loaded = probe()
    assert mode == "replayed"
    ours = sorted(m for m in loaded if m.startswith("ccgen."))
    assert ours == [
        "ccgen.bootpath",
        "ccgen.bootpath.digest",
        "ccgen.bootpath.fingerprint",
        "ccgen.bootpath.planfile",
        "ccgen.bootpath.replay",
        "ccgen.bootpath.write",
    ], ours
    # Modules compiled into the interpreter (errno) cost no file look-up or load.  The plan's
    # digest is the interpreter's own SHA-256: built in on Debian's python3 (the one the
    # generator runs under), a small shared module in other builds (pyenv's), never hashlib.
    sha = ("_sha256", "_sha2")
    others = [m for m in loaded if not m.startswith("ccgen") and m not in (*sys.builtin_module_names, *sha)]
    assert not others, f"the replay path imported {others}"
    assert (out / "web.service").exists()
