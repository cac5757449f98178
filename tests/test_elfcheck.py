"""packaging/elfcheck.py on the built extension and on files crafted to fail each check."""

from __future__ import annotations

import importlib.util
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent
ELFCHECK = REPO / "packaging" / "elfcheck.py"


def elfcheck(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(ELFCHECK), *args], capture_output=True, text=True, timeout=60)


def built_extension() -> Path:
    spec = importlib.util.find_spec("ccgen.ext._yaml")
    if spec is None or spec.origin is None:
        pytest.skip("the extension was not built in this installation")
    return Path(spec.origin)


def test_the_built_extension_passes() -> None:
    proc = elfcheck(str(built_extension()))
    assert proc.returncode == 0, proc.stdout
    assert proc.stdout.count(": ok: ") == 7


def test_not_elf(tmp_path: Path) -> None:
    (tmp_path / "x.so").write_text("not a binary\n")
    proc = elfcheck(str(tmp_path / "x.so"))
    assert proc.returncode == 2 and "not an ELF file" in proc.stdout


def test_foreign_architecture(tmp_path: Path) -> None:
    copy = tmp_path / built_extension().name
    shutil.copy(built_extension(), copy)
    data = bytearray(copy.read_bytes())
    data[18:20] = (183).to_bytes(2, "little")  # e_machine: AArch64
    copy.write_bytes(bytes(data))
    proc = elfcheck("--arch", "x86_64", str(copy))
    assert proc.returncode == 1
    assert "FAIL: architecture: built for EM_AARCH64, expected EM_X86_64" in proc.stdout
    assert proc.stdout.count(": ok: ") == 6
    assert elfcheck("--arch", "aarch64", str(copy)).returncode == 0


def test_every_check_can_fail(tmp_path: Path) -> None:
    if shutil.which("gcc") is None:
        pytest.fail("gcc is missing; ./dev test installs it")
    src = tmp_path / "bad.c"
    src.write_text("int not_an_init(void) { return 0; }\n")
    bad = tmp_path / "bad.so"
    subprocess.run(
        [
            "gcc", "-shared", "-fPIC", "-o", str(bad), str(src),
            "-Wl,-rpath,/opt/somewhere", "-Wl,-z,execstack", "-Wl,-z,norelro", "-Wl,-z,lazy",
            "-Wl,--build-id=none", "-Wl,--no-as-needed", "-lgcc_s",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    proc = elfcheck(str(bad))
    assert proc.returncode == 1
    for reason in (
        "FAIL: PyInit symbol: no exported PyInit_bad symbol",
        "FAIL: DT_NEEDED allow-list: links libraries outside the allow-list: libgcc_s.so.1",
        "FAIL: no RPATH/RUNPATH: has a library search path baked in",
        "FAIL: RELRO and BIND_NOW: not fully RELRO: missing GNU_RELRO and BIND_NOW",
        "FAIL: non-executable stack: asks for an executable stack",
        "FAIL: build-id: has no GNU build-id note",
    ):
        assert reason in proc.stdout, proc.stdout
    assert elfcheck("--allow", "libgcc_s.so.1", str(bad)).stdout.count("FAIL") == 5
