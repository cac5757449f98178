"""The Debian package: dpkg-buildpackage, lintian, the ELF check, and an install.

Under CI=true the package is installed on the (throwaway) CI machine with apt and
removed again; elsewhere it is unpacked into a temporary root.
"""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from . import helpers

REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope="module")
def debs(tmp_path_factory: pytest.TempPathFactory) -> Path:
    for tool in ("dpkg-buildpackage", "lintian"):
        if shutil.which(tool) is None:
            pytest.fail(f"{tool} is missing; ./dev test installs it")
    out = tmp_path_factory.mktemp("debs")
    proc = subprocess.run(
        [str(REPO / "packaging/build-deb.sh"), str(out)], capture_output=True, text=True, timeout=900
    )
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    return out


def the_deb(debs: Path) -> Path:
    (deb,) = [p for p in debs.glob("ccgen_*.deb")]
    return deb


def test_lintian_reports_no_errors(debs: Path) -> None:
    (changes,) = debs.glob("*.changes")
    proc = subprocess.run(
        ["lintian", "--fail-on", "error", str(changes)], capture_output=True, text=True, timeout=600
    )
    assert proc.returncode == 0, proc.stdout + proc.stderr
    assert "E: " not in proc.stdout


def test_packaged_extension_passes_the_elf_check(debs: Path, tmp_path: Path) -> None:
    subprocess.run(["dpkg-deb", "-x", str(the_deb(debs)), str(tmp_path)], check=True)
    (so,) = tmp_path.glob("usr/lib/python3/dist-packages/ccgen/ext/_yaml*.so")
    proc = subprocess.run(
        [sys.executable, str(REPO / "packaging/elfcheck.py"), str(so)], capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stdout


def test_installed_package_works(debs: Path, tmp_path: Path) -> None:
    root = helpers.example_root(tmp_path / "root")
    if os.environ.get("CI") == "true":
        apt = ["apt-get", "install", "-y", "-qq", "--no-install-recommends", str(the_deb(debs))]
        subprocess.run(
            apt, check=True, capture_output=True, env={**os.environ, "DEBIAN_FRONTEND": "noninteractive"}
        )
        try:
            assert Path("/usr/lib/systemd/system-generators/ccgen-generator").exists()
            proc = subprocess.run(
                ["/usr/bin/ccgen", "--print", "--root", str(root)], capture_output=True, text=True
            )
        finally:
            subprocess.run(["apt-get", "remove", "-y", "-qq", "ccgen"], capture_output=True)
    else:
        dest = tmp_path / "dest"
        subprocess.run(["dpkg-deb", "-x", str(the_deb(debs)), str(dest)], check=True)
        assert (dest / "lib/systemd/system-generators/ccgen-generator").exists()
        # The installed script, its package path pointed into the unpacked tree first.
        script = re.sub(
            r'sys\.path\.insert\(0, "([^"]*)"\)',
            lambda m: f'sys.path[:0] = ["{dest}{m.group(1)}", "{m.group(1)}"]',
            (dest / "usr/bin/ccgen").read_text(),
        )
        (tmp_path / "ccgen").write_text(script)
        (tmp_path / "ccgen").chmod(0o755)
        proc = subprocess.run(
            [str(tmp_path / "ccgen"), "--print", "--root", str(root)], capture_output=True, text=True
        )
    assert proc.returncode == 0, proc.stderr
    assert "--- /run/systemd/generator/web.service ---" in proc.stdout
