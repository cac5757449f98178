"""systemd-analyze as the judge of generated units."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
from pathlib import Path

from ccgen.base import unitfile

# The one thing the test machine may lack that a real image has: the binaries.
# Also: lines before any section, which ccgen keeps as the user wrote them (and warns about).
_TOLERATED = re.compile(
    r"(Command .* is not executable|is not executable: No such file or directory"
    r"|Assignment outside of section\. Ignoring\.)"
)


def analyze() -> str:
    path = shutil.which("systemd-analyze")
    if path is None:
        raise RuntimeError("systemd-analyze is missing; `./dev test` installs it")
    return path


def unit_files(outdir: Path) -> list[Path]:
    """Regular unit files at the top of a generator output directory."""
    return sorted(
        p
        for p in outdir.iterdir()
        if p.is_file() and not p.is_symlink() and unitfile.suffix(p.name) in unitfile.UNIT_TYPES
    )


_CYCLE = re.compile(
    r"ordering cycle|Transaction order is cyclic|to break ordering cycle"
    r"|Unable to break cycle|Found dependency on"
)


def verify(
    paths: list[Path], env: dict[str, str] | None = None, deferred: frozenset[str] = frozenset()
) -> list[str]:
    """What `systemd-analyze verify` objects to, tolerated lines removed.

    Each unit is verified by starting it from nothing.  A deferred unit (one ccgen starts
    after ccgen-apply, when early boot is done) may be cyclic only against early boot,
    which is no longer running when it starts: for those, ordering cycles are not
    reported here; tests/vm and the whole-boot check (boot_cycles) cover them."""
    if not paths:
        return []
    plain = [p for p in paths if p.name not in deferred]
    late = [p for p in paths if p.name in deferred]
    problems = _verify(plain, env) if plain else []
    if late:
        problems += [ln for ln in _verify(late, env) if not _CYCLE.search(ln)]
    return problems


def _verify(paths: list[Path], env: dict[str, str] | None) -> list[str]:
    proc = subprocess.run(
        [analyze(), "verify", "--man=no", *map(str, paths)],
        capture_output=True,
        text=True,
        env={**os.environ, **(env or {})},
        timeout=120,
    )
    lines = [ln for ln in (proc.stdout + proc.stderr).splitlines() if ln.strip()]
    problems = [ln for ln in lines if not _TOLERATED.search(ln)]
    if proc.returncode != 0 and len(problems) == len(lines) == 0:
        problems.append(f"exit status {proc.returncode} with no message")
    return problems


def boot_cycles(
    normal: Path, extra_dirs: list[Path] | None = None, target: str = "multi-user.target"
) -> list[str]:
    """What systemd's own transaction builder says about ordering cycles when it starts
    `target` with the generator's whole output loaded, as PID 1 would at boot."""
    early, late = normal.parent / f"{normal.name}.early", normal.parent / f"{normal.name}.late"
    early.mkdir(exist_ok=True)
    late.mkdir(exist_ok=True)
    dirs = [early, normal, late, *(extra_dirs or [])]
    # The trailing ":" appends systemd's own search path, so the real early-boot units take part.
    unit_path = ":".join(str(d) for d in dirs) + ":"
    proc = subprocess.run(
        [analyze(), "verify", "--man=no", target],
        capture_output=True,
        text=True,
        env={**os.environ, "SYSTEMD_UNIT_PATH": unit_path},
        timeout=120,
    )
    text = proc.stdout + proc.stderr
    return [ln for ln in text.splitlines() if "ordering cycle" in ln or "to break ordering cycle" in ln]
