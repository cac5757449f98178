"""Run every case of the corpus through the generator and check what it wrote."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from ccgen import boot
from ccgen.base import cache
from ccgen.base.diag import Diagnostics
from ccgen.lang import schema
from ccgen.read import inputs

from . import corpus, sysd

CASES = corpus.all_cases()


def make_root(case: corpus.Case, root: Path) -> None:
    for path, text in case.installed.items():
        dest = root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)
    for path, target in case.installed_links.items():
        dest = root / path.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        # Absolute targets point into the test root, as they would inside the image.
        dest.symlink_to(root / target.lstrip("/") if target.startswith("/") else target)
    if case.oem is not None:
        dest = root / inputs.OEM_PATH.lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_bytes(case.oem.read_bytes())
    dest = root / corpus.USER_PATH.lstrip("/")
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(case.data)
    for url, text in case.includes.items():
        dest = root / cache.include_path(url).lstrip("/")
        dest.parent.mkdir(parents=True, exist_ok=True)
        dest.write_text(text)


def run_case(case: corpus.Case, tmp: Path) -> tuple[Path, Diagnostics]:
    root, out = tmp / "root", tmp / "out"
    root.mkdir()
    out.mkdir()
    make_root(case, root)
    diags = Diagnostics()
    boot.generate(str(out), str(root), diags)
    return out, diags


@pytest.mark.parametrize("case", CASES, ids=lambda c: c.name)
def test_case(case: corpus.Case, tmp_path: Path) -> None:
    out, diags = run_case(case, tmp_path)
    found = diags.sorted()
    mine = {
        (d.span.line, d.span.column, d.severity.label, d.code)
        for d in found
        if d.span.file == corpus.USER_PATH
    }
    report = "\n".join(d.format() for d in found)
    assert mine == case.diags, f"diagnostics differ:\n{report}"
    others = [d for d in found if d.span.file != corpus.USER_PATH and d.code != "not-applied"]
    assert not others, f"unexpected diagnostics for other inputs:\n{report}"
    if case.exit is not None:
        assert (1 if diags.has_errors() else 0) == case.exit, report
    for rel in case.files:
        assert (out / rel).is_file() and not (out / rel).is_symlink(), f"{rel} was not written"
    for rel, text in case.file_has:
        assert (out / rel).is_file(), f"{rel} was not written"
        assert text in (out / rel).read_text(), f"{rel} lacks {text!r}:\n{(out / rel).read_text()}"
    for rel, target in case.links:
        assert (out / rel).is_symlink(), f"{rel} is not a symlink"
        assert os.readlink(out / rel) == target
    for rel in case.absent:
        assert not os.path.lexists(out / rel), f"{rel} should not exist"
    wants = out / "ccgen-deferred.target.wants"
    deferred = frozenset(p.name for p in wants.iterdir()) if wants.is_dir() else frozenset()
    deferred |= {"ccgen-deferred.target"}
    problems = sysd.verify(sysd.unit_files(out), deferred=deferred)
    assert not problems, "systemd-analyze verify:\n" + "\n".join(problems)
    root = tmp_path / "root"
    installed = [
        root / d.lstrip("/")
        for d in ("/etc/systemd/system", "/usr/lib/systemd/system", "/lib/systemd/system")
    ]
    cycles = sysd.boot_cycles(out, [d for d in installed if d.is_dir()])
    assert not cycles, "the boot transaction is cyclic:\n" + "\n".join(cycles)


def test_every_case_asserts_something() -> None:
    for case in CASES:
        assert case.assertion_count() > 0, f"{case.name} asserts nothing"
        assert not case.unknown, f"{case.name} uses unknown assertions {case.unknown}"


def test_every_key_has_a_case() -> None:
    text = "\n".join(c.data.decode("utf-8", "replace") for c in CASES).replace("-", "_")
    missing = [path for path, key in schema.walk() if f"{key.name}:" not in text]
    assert not missing, f"keys no case uses: {missing}"


def test_oem_files_are_used() -> None:
    used = {c.oem for c in CASES if c.oem is not None}
    assert used == set((corpus.CASES / "oem").glob("*.yml"))
