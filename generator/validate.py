"""Check a node tree against schema.KEYS and keep only well-typed values.

A value of the wrong type is a warning and is dropped; an unknown key is a
warning; a value that fails its pattern is an error, and is kept so that the
step using it can refuse that one item.  Nothing here stops at
the first problem: every node is visited once and the good values survive.
"""

from __future__ import annotations

import binascii

from . import nodes, schema, yaml11
from .diag import Diagnostics, Span

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Union

    Value = Union[str, bytes, bool, int, float, list["Val"], dict[str, "Val"]]


class Val:
    """A checked value: str, bytes, bool, int, float, list[Val] or dict[str, Val]."""

    __slots__ = ("key_span", "span", "value")

    def __init__(self, value: Value, span: Span, key_span: Span | None = None) -> None:
        self.value = value
        self.span = span
        self.key_span = key_span  # where the key naming this value is, for struct members

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Val) and (self.value, self.span) == (other.value, other.span)

    __hash__ = None  # type: ignore[assignment]

    def __repr__(self) -> str:
        return f"Val({self.value!r}, {self.span!r})"


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
                    return Val(binascii.a2b_base64("".join(node.text.split()), strict_mode=True), span)
                except (binascii.Error, ValueError):
                    self.diags.error(span, "binary", "!!binary value contains invalid base64 data")
                    return None
            if tag == nodes.MERGE:
                self.wrong_type(node, label, kind)
                return None
            if node.text and key.check is not None and not key.check(node.text):
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
