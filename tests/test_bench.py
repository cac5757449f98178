"""The benchmark script keeps working (its figures are read by people, not asserted here)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_bench_runs_and_reports_every_figure() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench/run.py"), "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert proc.returncode in (0, 1), proc.stderr
    for prefix in (
        "1. generator replaying",
        "2. generator, full",
        "3. --print, 1000",
        "5000 units",
        "4. pure path",
        "5. peak memory",
    ):
        assert prefix in proc.stdout, proc.stdout


def test_stage_profile_runs_and_names_every_stage() -> None:
    proc = subprocess.run(
        [sys.executable, str(REPO / "bench/stages.py"), "--units", "20", "--runs", "1"],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    for stage in ("compose", "validate", "build", "render", "write"):
        assert f"  {stage}" in proc.stdout, proc.stdout
    assert "20 units:" in proc.stdout and "us/unit" in proc.stdout
