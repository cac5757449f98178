"""schema.KEYS rendered for others: JSON Schema for editors, Markdown for docs/keys.md."""

from __future__ import annotations

import re
from typing import Any

from . import schema

_SCALAR = ["string", "number", "boolean"]


def _name_pattern(name: str) -> str:
    # `-` and `_` are the same in every key.
    return "^" + re.escape(name).replace("_", "[-_]") + "$"


def _json(key: schema.Key) -> dict[str, Any]:
    out: dict[str, Any]
    if key.kind == schema.STRING:
        out = {"type": _SCALAR}
        if key.pattern:
            # JSON Schema's regex dialect lacks scoped flags; keep the pattern as prose.
            if "(?i:" in key.pattern:
                out["description"] = f"must match {key.pattern}"
            else:
                out["pattern"] = key.pattern
    elif key.kind == schema.BOOL:
        out = {"type": "boolean"}
    elif key.kind == schema.INT:
        out = {"type": "integer"}
    elif key.kind == schema.FLOAT:
        out = {"type": "number"}
    elif key.kind == schema.STRING_LIST:
        out = {"type": "array", "items": {"type": _SCALAR}}
    elif key.kind == schema.ANY:
        out = {}  # several shapes: lang/cloudinit.py checks them
    else:
        obj: dict[str, Any] = {
            "type": "object",
            "patternProperties": {_name_pattern(c.name): _json(c) for c in key.children},
            "additionalProperties": False,
        }
        out = {"type": "array", "items": obj} if key.kind == schema.STRUCT_LIST else obj
    text = key.doc + (f" (deprecated: {key.deprecated})" if key.deprecated else "")
    if key.unsupported:
        text += f" (not supported by ccgen: {key.unsupported})"
    out["description"] = (
        (out.get("description", "") + " " + text).strip() if text else out.get("description", "")
    )
    if key.deprecated:
        out["deprecated"] = True
    return out


def json_schema() -> dict[str, Any]:
    body = _json(schema.KEYS)
    return {
        "$schema": "https://json-schema.org/draft/2020-12/schema",
        "$id": "https://ccgen.invalid/cloud-config.schema.json",
        "title": "cloud-config (ccgen)",
        **body,
    }


def markdown() -> str:
    lines = [
        "# cloud-config keys",
        "",
        "Generated from `generator/lang/schema.py` by `ccgen schema --format markdown`; do not edit.",
        "`-` and `_` are interchangeable in every key. A value of the wrong type is a warning",
        "and is ignored; a value that does not match its pattern is an error, and what depends",
        "on it is not applied. A secret never appears in a unit file or a message.",
        "",
        "`how often` is cloud-init's frequency for the key (`once-per-instance`, `always`),",
        "which ccgen keeps; `where` is the stage ccgen does it in: `apply` (ccgen-apply.service,",
        "before the network and sshd), `early` (ccgen-bootcmd.service, before ccgen-apply), `late`",
        "(after network-online.target, outside the boot transaction). A key marked",
        "**Unsupported** is known but not done: it gets an `unsupported` warning saying why",
        "(`cloud-init.md`).",
        "",
        "| key | type | description | pattern | environment | feeds | how often | where |",
        "| --- | --- | --- | --- | --- | --- | --- | --- |",
    ]
    for path, key in schema.walk():
        doc = key.doc + (f" **Deprecated:** {key.deprecated}." if key.deprecated else "")
        if key.unsupported:
            doc += f" **Unsupported:** {key.unsupported}."
        if key.secret:
            doc += " **Secret.**"
        pattern = f"`{key.pattern}`" if key.pattern else ""
        env = f"`{key.env}`" if key.env else ""
        feeds = f"`{key.unit or key.file}`" if key.unit or key.file else ""
        kind = "one of several shapes" if key.kind == schema.ANY else key.kind
        cells = [f"`{path}`", kind, doc, pattern, env, feeds, key.frequency or "", key.stage or ""]
        lines.append("| " + " | ".join(c.replace("|", r"\|") for c in cells) + " |")
    return "\n".join(lines) + "\n"
