"""ccgen against the original validator's own test tables (tests/parity/validator.jsonl).

Every entry the original expected must come out of ccgen with the same severity and the
same message.  Whatever else ccgen says is one of its documented differences
(docs/compat.md), named here by code, so that a new difference cannot slip in unnoticed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from ccgen import compile
from ccgen.base.diag import Diagnostics
from ccgen.lang import build
from ccgen.read import inputs

VECTORS = [
    json.loads(line)
    for line in (Path(__file__).parent / "parity/validator.jsonl").read_text().splitlines()
    if line.strip()
]

# Tested alone, each rule function of the original shows only its own entries; ccgen
# runs every check at once, so entries of the original's other checks come along.
ORIGINAL_CHECKS = {
    "deprecated",
    "unknown-key",
    "type",
    "invalid-value",
    "url",
    "decode",
    "read-only",
    "misplaced-key",
}
# What ccgen says and the original did not, each a row of docs/compat.md.
DOCUMENTED = {
    "unit-name",  # a unit without a name, and systemd's name rules
    "write-path",  # a file without a path
    "ignition",  # an Ignition config is named (info), not silently skipped
}
WHOLE = {"Validate", "parseCloudConfig", "validateCloudConfig"}
# The original's vectors that cloud-init's dialect gives a meaning (docs/compat.md).
CLOUD_INIT_MEANING = {
    "users:\n  - bad": "a name in users is a user to create, as in cloud-init (cloud-init.md)",
}


def ccgen_entries(v: dict[str, Any]) -> list[tuple[str, str, int, str]]:
    text = v["config"] if v["check"] == "Validate" else "#cloud-config\n" + v["config"]
    diags = Diagnostics()
    config = compile.parse(inputs.Input("/u", text.encode()), diags)
    if config is not None:
        # The original ran on Container Linux, whose /usr is mounted read-only.
        build.usr_checked(config, lambda: inputs.USR_RO, diags)
    shift = (
        0 if v["check"] == "Validate" else 1
    )  # the header line ccgen needs and the original's tables lacked
    return [(d.severity.label, d.message, d.span.line - shift, d.code) for d in diags.sorted()]


@pytest.mark.parametrize("v", VECTORS, ids=lambda v: f"{v['check']}:{v['config'][:40]!r}")
def test_original_vector(v: dict[str, Any]) -> None:
    if "panics" in v.get("rules", ""):
        pytest.skip("tests the original's recovery from a panicking rule; ccgen has no rule plug-ins")
    if v["config"] in CLOUD_INIT_MEANING:
        pytest.skip(CLOUD_INIT_MEANING[v["config"]])
    got = ccgen_entries(v)
    for kind, message, line in v["entries"]:
        matches = [g for g in got if (g[0], g[1]) == (kind, message)]
        assert matches, f"the original's {kind} {message!r} is missing: {got}"
        # ccgen points at the offending value; a block value starts on the line after its key.
        assert any(g[2] in (line, line + 1) for g in matches), (line, matches)
    wanted = {(k, m) for k, m, _ in v["entries"]}
    allowed = DOCUMENTED if v["check"] in WHOLE else DOCUMENTED | ORIGINAL_CHECKS
    extra = [g for g in got if (g[0], g[1]) not in wanted and g[3] not in allowed]
    assert not extra, f"ccgen says more than the original, undocumented: {extra}"


def test_there_are_vectors() -> None:
    assert len(VECTORS) >= 80
