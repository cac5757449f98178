"""The docs are generated from, or checked against, the code."""

from __future__ import annotations

import re
from pathlib import Path

from ccgen import compile
from ccgen.base.diag import Diagnostics
from ccgen.lang import export, schema
from ccgen.read import inputs

REPO = Path(__file__).resolve().parent.parent
DOCS = [REPO / "README.md", *sorted((REPO / "docs").glob("*.md"))]


def test_keys_md_is_current() -> None:
    assert (REPO / "docs" / "keys.md").read_text() == export.markdown(), "run: ccgen schema --format markdown"


def test_every_key_is_in_keys_md() -> None:
    text = (REPO / "docs" / "keys.md").read_text()
    for path, _ in schema.walk():
        assert f"`{path}`" in text


def test_examples_in_docs_compile_without_errors() -> None:
    blocks = [
        (doc.name, m.group(1))
        for doc in DOCS
        for m in re.finditer(r"```yaml\n(#cloud-config\n.*?)```", doc.read_text(), re.S)
    ]
    assert blocks, "the README shows at least one cloud-config"
    for name, block in blocks:
        diags = Diagnostics()
        compile.compile_inputs([inputs.Input(name, block.encode())], diags)
        errors = [d.format() for d in diags.sorted() if d.severity.label == "error"]
        assert not errors, errors


def test_bundled_examples_have_no_errors() -> None:
    for path in sorted((REPO / "examples").glob("*.yml")):
        diags = Diagnostics()
        compile.parse(inputs.Input(str(path), path.read_bytes()), diags)
        assert not diags.has_errors(), [d.format() for d in diags.sorted()]
