"""The generator's boot path imports only what it needs."""

from __future__ import annotations

import ast
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
    "ccgen.export",
    "ccgen.apply",
)

PROBE = """
import sys
from ccgen import boot
from ccgen.diag import Diagnostics
boot.generate(sys.argv[1], sys.argv[2], Diagnostics())
sys.stdout.write(repr(sorted(sys.modules)))
"""


def test_boot_path_imports(tmp_path: Path) -> None:
    root = helpers.example_root(tmp_path / "root")
    out = tmp_path / "out"
    out.mkdir()
    proc = subprocess.run(
        [sys.executable, "-I", "-c", PROBE, str(out), str(root)], capture_output=True, text=True, timeout=60
    )
    assert proc.returncode == 0, proc.stderr
    loaded = ast.literal_eval(proc.stdout)
    bad = [m for m in loaded if m in FORBIDDEN or m.startswith(tuple(f + "." for f in FORBIDDEN))]
    assert not bad, bad
    assert (out / "web.service").exists()
