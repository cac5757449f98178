"""The system install: meson setup, compile, test and install, as a distribution runs them."""

from __future__ import annotations

import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def test_meson_lists_every_source_file() -> None:
    listed = set(
        re.findall(
            r"'((?:generator|ext|providers)/[\w/]+\.pyi?|generator/py\.typed)'",
            (REPO / "meson.build").read_text(),
        )
    )
    whole = re.findall(r"install_subdir\(\s*'([\w/]+)'", (REPO / "meson.build").read_text())
    assert whole == ["providers/sources"]
    on_disk = {
        str(p.relative_to(REPO))
        for d in ("generator", "ext", "providers")
        for p in (REPO / d).rglob("*")
        if (p.suffix in (".py", ".pyi") or p.name == "py.typed")
        and not str(p.relative_to(REPO)).startswith(tuple(whole))
    }
    assert listed == on_disk


def run(*cmd: str, cwd: Path = REPO, env: dict[str, str] | None = None) -> str:
    proc = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True, timeout=600, env=env)
    assert proc.returncode == 0, proc.stdout + proc.stderr
    return proc.stdout


def test_meson_build_test_and_install(tmp_path: Path) -> None:
    if shutil.which("meson") is None:
        pytest.fail("meson is missing; ./dev test installs it")
    build, dest = tmp_path / "build", tmp_path / "dest"
    run("meson", "setup", str(build), "--prefix=/usr")
    run("meson", "compile", "-C", str(build))
    run("meson", "test", "-C", str(build))
    run("meson", "install", "-C", str(build), "--quiet", env={**os.environ, "DESTDIR": str(dest)})
    generatordir = run("pkg-config", "--variable=systemdsystemgeneratordir", "systemd").strip()
    generator = dest / generatordir.lstrip("/") / "ccgen-generator"
    assert generator.stat().st_mode & 0o111
    lines = generator.read_text().splitlines()
    first, path_line = lines[0], next(ln for ln in lines if ln.startswith("sys.path"))
    assert first == "#!/usr/bin/python3 -IS"
    pydir = re.fullmatch(r'sys\.path\.insert\(0, "(.*)"\)', path_line)
    assert pydir is not None and pydir.group(1).startswith("/usr/lib/python3")
    package = dest / pydir.group(1).lstrip("/") / "ccgen"
    assert (package / "boot.py").exists() and (package / "providers" / "sources" / "ec2.py").exists()
    (extension,) = (package / "ext").glob("_yaml*.so")
    check = subprocess.run(
        [sys.executable, str(REPO / "packaging/elfcheck.py"), str(extension)], capture_output=True, text=True
    )
    assert check.returncode == 0, check.stdout
    assert (dest / "usr/share/man/man8/ccgen.8").exists()
    assert (dest / "usr/bin/ccgen").read_text().startswith("#!/usr/bin/python3 -IS\n")
    assert 'PROVIDERS = ("all", )' in (package / "_build.py").read_text()
