"""ruff and mypy --strict are part of the suite, not a separate ritual."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", *args], cwd=REPO, capture_output=True, text=True, timeout=600
    )


def test_ruff_lint() -> None:
    proc = run("ruff", "check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_ruff_format() -> None:
    proc = run("ruff", "format", "--check", ".")
    assert proc.returncode == 0, proc.stdout + proc.stderr


def test_mypy_strict(tmp_path: Path) -> None:
    # Lay the sources out as the installed package, so every import means one ccgen.
    pkg = tmp_path / "ccgen"
    pkg.mkdir()
    for src in (REPO / "generator").iterdir():
        if src.name != "__pycache__":
            (pkg / src.name).symlink_to(src)
    (pkg / "ext").symlink_to(REPO / "ext")
    (pkg / "providers").symlink_to(REPO / "providers")
    (tmp_path / "tests").symlink_to(REPO / "tests")
    proc = subprocess.run(
        [
            sys.executable,
            "-m",
            "mypy",
            "--config-file",
            str(REPO / "pyproject.toml"),
            "-p",
            "ccgen",
            "-p",
            "tests",
        ],
        cwd=tmp_path,
        capture_output=True,
        text=True,
        timeout=600,
    )
    out = (proc.stdout + proc.stderr).replace(str(tmp_path) + "/", "")
    assert proc.returncode == 0, out
    scripts = run(
        "mypy",
        "--config-file",
        "pyproject.toml",
        "setup.py",
        "bench/run.py",
        "bench/vm.py",
        "bench/stages.py",
        "packaging/elfcheck.py",
    )
    assert scripts.returncode == 0, scripts.stdout + scripts.stderr
