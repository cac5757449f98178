"""Every diagnostic code ccgen can emit is documented with its meaning."""

from __future__ import annotations

import ast
import re
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
DOCS = (REPO / "docs/compat.md").read_text() + (REPO / "docs/keys.md").read_text()


def emitted_codes() -> set[str]:
    """Codes passed to Diagnostics.error/warning/info, to compose's Abort, or named in the
    extension's limit answers: found in the source, so a new one cannot be missed."""
    codes: set[str] = set()
    for path in [*(REPO / "generator").rglob("*.py"), *(REPO / "ext").glob("*.pyx")]:
        text = path.read_text()
        if path.suffix == ".pyx":
            codes |= set(re.findall(r'return False, \("([a-z-]+)"', text))
            continue
        for node in ast.walk(ast.parse(text)):
            if not isinstance(node, ast.Call):
                continue
            func = node.func
            name = (
                func.attr
                if isinstance(func, ast.Attribute)
                else func.id
                if isinstance(func, ast.Name)
                else ""
            )
            index = {"error": 1, "warning": 1, "info": 1, "Abort": 2}.get(name)
            if index is not None and len(node.args) > index:
                arg = node.args[index]
                if isinstance(arg, ast.Constant) and isinstance(arg.value, str):
                    codes.add(arg.value)
            for kw in node.keywords:
                if kw.arg == "code" and isinstance(kw.value, ast.Constant):
                    codes.add(str(kw.value.value))
        for line in re.findall(r"\bcode = (.*)$", text, re.M):  # a code chosen in an expression
            codes |= set(re.findall(r'"([a-z-]+)"', line))
        # Plan.add answers (code, why)
        codes |= set(re.findall(r'return "([a-z]+(?:-[a-z]+)+)", ', text))
        codes |= set(re.findall(r'\("([a-z]+(?:-[a-z]+)+)", f"', text))
    return {c for c in codes if re.fullmatch(r"[a-z]+(-[a-z]+)*", c)}


def test_codes_are_found() -> None:
    codes = emitted_codes()
    assert {"yaml-syntax", "unit-name", "deferred", "yaml-size", "output-clash", "output-path"} <= codes, (
        codes
    )


def test_every_code_is_documented() -> None:
    undocumented = sorted(c for c in emitted_codes() if f"`{c}`" not in DOCS)
    assert not undocumented, f"document these in docs/compat.md: {undocumented}"
