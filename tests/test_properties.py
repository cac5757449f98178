"""Property tests: whatever the input, the pipeline reports and never raises."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ccgen import compile
from ccgen.base.diag import Diagnostics
from ccgen.bootpath import plan
from ccgen.lang import schema
from ccgen.read import inputs

SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])

# Names from the real key table, so that generated documents reach deep into it.
KEY_NAMES = sorted({k.name for _, k in schema.walk()})
UNIT_NAMES = ["a.service", "b@.service", "b@x.service", "c.timer", "../x.service", "d", "e.network", ""]

scalars = st.one_of(
    st.none(),
    st.booleans(),
    st.integers(-(2**40), 2**40),
    st.floats(allow_nan=False),
    st.text(max_size=30),
    st.sampled_from(["0644", "off", "yes", "start", "stop", "b64", "gzip", "[Install]\nWantedBy=x.target\n"]),
    st.sampled_from(UNIT_NAMES),
)
keys = st.one_of(st.sampled_from(KEY_NAMES), st.sampled_from([k.replace("_", "-") for k in KEY_NAMES]))


def _trees(children: st.SearchStrategy[Any]) -> st.SearchStrategy[Any]:
    return st.one_of(st.lists(children, max_size=4), st.dictionaries(keys, children, max_size=6))


documents = st.recursive(scalars, _trees, max_leaves=40)


def compile_bytes(data: bytes) -> tuple[plan.Plan, Diagnostics]:
    diags = Diagnostics()
    result = compile.compile_inputs([inputs.Input("/u", data)], diags)
    return result, diags


def check(data: bytes) -> None:
    result, diags = compile_bytes(data)
    for entry in result.entries():
        assert plan.path_problem(entry.path) is None
    for d in diags.sorted():
        assert d.span.line >= 1 and d.span.column >= 1
        assert "\n" not in d.message
    again, _ = compile_bytes(data)
    assert again.entries() == result.entries()


@SETTINGS
@given(st.binary(max_size=400))
def test_random_bytes(data: bytes) -> None:
    check(data)
    check(b"#cloud-config\n" + data)


@SETTINGS
@given(st.text(max_size=400))
def test_random_text(text: str) -> None:
    check(("#cloud-config\n" + text).encode("utf-8", "surrogatepass"))


@SETTINGS
@given(
    st.dictionaries(keys, documents, max_size=6),
    st.booleans(),
    st.sampled_from([None, '"', "'", "|"]),
)
def test_random_documents(doc: dict[str, Any], flow: bool, style: str | None) -> None:
    text = yaml.safe_dump(doc, default_flow_style=flow, default_style=style, allow_unicode=True)
    check(("#cloud-config\n" + text).encode("utf-8", "surrogatepass"))


@SETTINGS
@given(st.lists(st.dictionaries(st.sampled_from([k.name for k in schema.UNIT]), scalars), max_size=6))
def test_random_units(units: list[dict[str, Any]]) -> None:
    text = yaml.safe_dump({"coreos": {"units": units}})
    check(("#cloud-config\n" + text).encode())


def test_deterministic_on_the_example() -> None:
    root = Path(__file__).resolve().parent.parent / "examples"
    data = (root / "user-data.yml").read_bytes()
    first, _ = compile_bytes(data)
    second, _ = compile_bytes(data)
    assert first.entries() == second.entries() and len(first) > 5
