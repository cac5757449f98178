"""Shared test plumbing: test roots, and the installed generator as systemd sees it."""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
EXAMPLES = REPO / "examples"


def installed_script(name: str) -> Path:
    """A console script of the ccgen installed next to the running interpreter."""
    path = Path(sys.executable).parent / name
    if not path.exists():
        found = shutil.which(name)
        if found is None:
            raise RuntimeError(f"{name} is not installed; `./dev test` installs it")
        path = Path(found)
    return path


def make_root(root: Path, files: dict[str, bytes | str]) -> Path:
    for rel, data in files.items():
        dest = root / rel.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        if isinstance(data, str):
            data = data.encode()
        dest.write_bytes(data)
    root.mkdir(parents=True, exist_ok=True)
    return root


def example_root(root: Path) -> Path:
    return make_root(
        root,
        {
            "/usr/share/oem/cloud-config.yml": (EXAMPLES / "oem-cloud-config.yml").read_bytes(),
            "/var/lib/ccgen/user-data": (EXAMPLES / "user-data.yml").read_bytes(),
        },
    )


def run_generator(root: Path, out: Path) -> subprocess.CompletedProcess[str]:
    """The installed generator, as systemd runs it, on `root` into a new directory `out`."""
    out.mkdir()
    return subprocess.run(
        [str(installed_script("ccgen-generator")), str(out)],
        env={**os.environ, "CCGEN_ROOT": str(root)},
        capture_output=True,
        text=True,
        timeout=120,
    )


def tree(outdir: Path, *, own: bool = False) -> dict[str, str]:
    """Every entry below outdir: file text, or '-> target' for a symlink.  ccgen's own
    bookkeeping beside the units (.ccgen-plan, .ccgen-status) only with `own`."""
    out: dict[str, str] = {}
    for p in sorted(outdir.rglob("*")):
        rel = str(p.relative_to(outdir))
        if not own and rel.startswith((".ccgen-plan", ".ccgen-status")):
            continue
        if p.is_symlink():
            out[rel] = "-> " + str(p.readlink())
        elif p.is_file():
            out[rel] = p.read_text()
    return out
