"""Check a node tree against schema.KEYS and keep only well-typed values.

A value of the wrong type is a warning and is dropped; an unknown key is a
warning; a value that fails its pattern is an error, and is kept so that the
step using it can refuse that one item.  Nothing here stops at
the first problem: every node is visited once and the good values survive.
"""

from __future__ import annotations

import base64
import binascii
import re
from dataclasses import dataclass
from functools import cache
from typing import Union

from . import nodes, schema, yaml11
from .diag import Diagnostics, Span

Value = Union[str, bytes, bool, int, float, list["Val"], dict[str, "Val"]]


@dataclass(frozen=True)
class Val:
    value: Value
    span: Span
    key_span: Span | None = None  # where the key naming this value is, for struct members


@cache
def _pattern(p: str) -> re.Pattern[str]:
    return re.compile(p)


class _Checker:
    def __init__(self, filename: str, diags: Diagnostics) -> None:
        self.filename = filename
        self.diags = diags

    def span(self, node: nodes.Node) -> Span:
        return Span(self.filename, node.line, node.column)

    def wrong_type(self, node: nodes.Node, label: str, kind: str) -> None:
        self.diags.warning(
            self.span(node),
            "type",
            f'incorrect type for "{label}" (want {kind}), found {nodes.kind_name(node)}; ignored',
        )

    def struct(self, node: nodes.Node, key: schema.Key, label: str) -> Val | None:
        if not isinstance(node, nodes.Mapping):
            self.wrong_type(node, label, schema.STRUCT)
            return None
        fields: dict[str, Val] = {}
        first_seen: dict[str, int] = {}
        for knode, vnode in node.pairs:
            if not isinstance(knode, nodes.Scalar):
                self.diags.warning(
                    self.span(knode),
                    "unknown-key",
                    f"unrecognized key (a {nodes.kind_name(knode)} cannot be a key)",
                )
                continue
            name = knode.text.replace("-", "_")
            child = key.child(name)
            if child is None:
                self.diags.warning(self.span(knode), "unknown-key", f'unrecognized key "{name}"')
                if key.name == "coreos" and name == "write_files":
                    self.diags.info(
                        self.span(knode), "misplaced-key", "write_files doesn't belong under coreos"
                    )
                continue
            if name in first_seen:
                self.diags.warning(
                    self.span(knode),
                    "duplicate-key",
                    f'duplicate key "{name}" (first at line {first_seen[name]}); the last one is used',
                )
                fields.pop(name, None)
            first_seen[name] = knode.line
            if child.deprecated:
                self.diags.warning(
                    self.span(knode), "deprecated", f'deprecated key "{name}" ({child.deprecated})'
                )
            val = self.value(vnode, child, name)
            if val is not None:
                fields[name] = Val(val.value, val.span, self.span(knode))
        return Val(fields, self.span(node))

    def value(self, node: nodes.Node, key: schema.Key, label: str) -> Val | None:
        kind = key.kind
        if kind == schema.STRUCT:
            return self.struct(node, key, label)
        if kind in (schema.STRING_LIST, schema.STRUCT_LIST):
            if not isinstance(node, nodes.Sequence):
                self.wrong_type(node, label, kind)
                return None
            items: list[Val] = []
            for i, item in enumerate(node.items):
                if kind == schema.STRUCT_LIST:
                    v = self.struct(item, key, f"{label}[{i}]")
                else:
                    v = self.scalar(item, schema.Key(key.name, schema.STRING, ""), f"{label}[{i}]")
                if v is not None:
                    items.append(v)
            return Val(items, self.span(node))
        return self.scalar(node, key, label)

    def scalar(self, node: nodes.Node, key: schema.Key, label: str) -> Val | None:
        kind = key.kind
        if not isinstance(node, nodes.Scalar) or node.tag == nodes.NULL:
            self.wrong_type(node, label, kind)
            return None
        tag = node.tag
        span = self.span(node)
        if kind == schema.STRING:
            if tag == nodes.BINARY:
                try:
                    return Val(base64.b64decode("".join(node.text.split()), validate=True), span)
                except (binascii.Error, ValueError):
                    self.diags.error(span, "binary", "!!binary value contains invalid base64 data")
                    return None
            if tag == nodes.MERGE:
                self.wrong_type(node, label, kind)
                return None
            if node.text and key.pattern and not _pattern(key.pattern).match(node.text):
                # Kept, so that what uses it refuses it (a bad mode must not become 0644).
                self.diags.error(span, "invalid-value", f"invalid value {node.text}")
            return Val(node.text, span)
        if kind == schema.BOOL and tag == nodes.BOOL:
            return Val(yaml11.to_bool(node.text), span)
        if kind == schema.INT and tag == nodes.INT:
            return Val(yaml11.to_int(node.text), span)
        if kind == schema.FLOAT and tag in (nodes.INT, nodes.FLOAT):
            return Val(yaml11.to_float(node.text), span)
        self.wrong_type(node, label, kind)
        return None


def check(root: nodes.Node | None, filename: str, diags: Diagnostics) -> dict[str, Val]:
    """The well-typed part of a document, as nested Val objects."""
    if root is None:
        return {}
    if isinstance(root, nodes.Scalar) and root.tag == nodes.NULL:
        return {}
    checker = _Checker(filename, diags)
    if not isinstance(root, nodes.Mapping):
        diags.warning(
            checker.span(root),
            "type",
            f"the document must be a mapping of keys, found {nodes.kind_name(root)}; nothing is applied",
        )
        return {}
    top = checker.struct(root, schema.KEYS, "")
    assert top is not None and isinstance(top.value, dict)
    return top.value
