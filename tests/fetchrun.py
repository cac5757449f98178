"""Running `ccgen fetch` the way its unit does, with everything under one test's temp dir."""

from __future__ import annotations

import os
import subprocess
from pathlib import Path

from . import helpers


class Run:
    def __init__(self, proc: subprocess.CompletedProcess[str], tmp: Path) -> None:
        self.proc = proc
        self.status = proc.returncode
        self.stderr = proc.stderr
        self.cache = tmp / "root/var/lib/ccgen"
        self.run_dir = tmp / "root/run/ccgen"
        self.attributes_file = tmp / "root/run/metadata/ccgen"

    def meta(self) -> dict[str, str]:
        text = (self.cache / "metadata").read_text()
        return dict(line.split("=", 1) for line in text.splitlines())

    def user_data(self) -> bytes | None:
        path = self.cache / "user-data"
        return path.read_bytes() if path.exists() else None

    def keys(self) -> list[str]:
        return (self.cache / "ssh-keys").read_text().splitlines()

    def attributes(self) -> dict[str, str]:
        lines = self.attributes_file.read_text().splitlines()
        return dict(ln.split("=", 1) for ln in lines if ln and not ln.startswith("#"))


def fetch(
    provider: str,
    tmp: Path,
    *args: str,
    cmdline: str = "",
    files: dict[str, bytes | str] | None = None,
    env: dict[str, str] | None = None,
) -> Run:
    """`ccgen fetch PROVIDER --root ROOT ARGS`: its root (the kernel command line and any
    `files`, the cache, /run/ccgen, /run/metadata/ccgen) in `tmp`; the same `tmp` again sees
    the same cache."""
    root = helpers.make_root(tmp / "root", {"/proc/cmdline": cmdline + "\n", **(files or {})})
    proc = subprocess.run(
        [str(helpers.installed_script("ccgen")), "fetch", provider, "--root", str(root), *args],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, **(env or {})},
    )
    # A new boot for the next run in the same tmp: the first-answer marker is per boot.
    (root / "run/ccgen/fetched").unlink(missing_ok=True)
    return Run(proc, tmp)
