"""Check a node tree against schema.KEYS and keep only well-typed values.

A value of the wrong type is a warning and is dropped; an unknown key is a
warning; a value that fails its key's rule is an error and is kept marked
(`Field.ok` false), so that the builder refuses what depends on it.  Nothing
here stops at the first problem: every node is visited once and the good
values survive.
"""

from __future__ import annotations

import binascii

from ccgen.base import rules
from ccgen.base.diag import REPEAT_MAX, Diagnostics, Span
from ccgen.read import nodes, yaml11

from . import schema
from .model import Field

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable
    from typing import Union

    SpanMaker = Callable[[str, int, int], Span]

    Value = Union[str, bytes, bool, int, float, list["Field[Value]"], dict[str, "Field[Value]"]]
    Tree = dict[str, Field[Value]]

_TEMPLATE_HINT = rules.TEMPLATE_HINT


def _encodable(text: str) -> bool:
    """False for a string with a lone surrogate ("\\ud800"), which no file can hold."""
    if text.isascii():
        return True
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def _collection_key(node: nodes.Node, budget: int = 10_000) -> nodes.Mapping | nodes.Sequence | None:
    """A mapping or list used as a mapping key anywhere in a value the checker drops."""
    todo, seen = [node], set()
    while todo and budget > 0:
        n = todo.pop()
        if id(n) in seen or isinstance(n, nodes.Scalar):
            continue
        seen.add(id(n))
        budget -= 1
        if isinstance(n, nodes.Mapping):
            for k, v in n.pairs:
                if not isinstance(k, nodes.Scalar):
                    return k
                todo.append(v)
        else:
            todo.extend(n.items)
    return None


def distance(a: str, b: str, most: int) -> int:
    """Edits (insert, delete, substitute, swap two neighbours) from a to b; more than
    `most` reported as most + 1.  Written out: difflib is no import for the boot path."""
    if abs(len(a) - len(b)) > most:
        return most + 1
    before: list[int] = []
    row = list(range(len(b) + 1))
    for i in range(1, len(a) + 1):
        cur = [i] + [0] * len(b)
        for j in range(1, len(b) + 1):
            cost = 0 if a[i - 1] == b[j - 1] else 1
            cur[j] = min(row[j] + 1, cur[j - 1] + 1, row[j - 1] + cost)
            if i > 1 and j > 1 and a[i - 1] == b[j - 2] and a[i - 2] == b[j - 1]:
                cur[j] = min(cur[j], before[j - 2] + 1)
        before, row = row, cur
    return min(row[-1], most + 1)


def nearest(name: str, known: list[str]) -> str | None:
    """The one known key a misspelt `name` is closest to (one edit for short names, two
    for longer ones), or None; only asked for unknown keys, so no cost for good ones."""
    if len(name) > 64:
        return None
    most = 1 if len(name) <= 5 else 2
    scored = sorted((distance(name, k, most), k) for k in known)
    if not scored or scored[0][0] > most or (len(scored) > 1 and scored[1][0] == scored[0][0]):
        return None
    return scored[0][1]


class _Checker:
    def __init__(self, filename: str, diags: Diagnostics, make_span: SpanMaker = Span) -> None:
        self.filename = filename
        self.diags = diags
        self.make_span = make_span
        self.guesses = 0

    def span(self, node: nodes.Node) -> Span:
        return self.make_span(self.filename, node.line, node.column)

    def wrong_type(self, node: nodes.Node, label: str, kind: str) -> None:
        bad = _collection_key(node)
        if bad is not None:
            self.bad_key(bad)
            return
        self.diags.warning(
            self.span(node),
            "type",
            f'incorrect type for "{label}" (want {kind})',
            f"found {nodes.kind_name(node)}; ignored",
        )

    def bad_key(self, knode: nodes.Mapping | nodes.Sequence) -> None:
        if isinstance(knode, nodes.Mapping):
            # What `name: {{NODE_NAME}}` is to YAML; the original refused the document.
            self.diags.error(self.span(knode), "invalid-key", "invalid map key", _TEMPLATE_HINT)
        else:
            self.diags.error(self.span(knode), "invalid-key", "invalid map key", "a list cannot be a key")

    def struct(self, node: nodes.Node, key: schema.Key, label: str) -> Field[Value] | None:
        if not isinstance(node, nodes.Mapping):
            self.wrong_type(node, label, schema.STRUCT)
            return None
        fields: dict[str, Field[Value]] = {}
        first_seen: dict[str, int] = {}
        for knode, vnode in node.pairs:
            if not isinstance(knode, nodes.Scalar):
                self.bad_key(knode)
                continue
            name = knode.text.replace("-", "_")
            child = key.child(name)
            if child is None:
                if not _encodable(name):
                    self.diags.error(self.span(knode), "encoding", "a key is not valid Unicode")
                    continue
                # Guessed only for as many as are shown (diag.REPEAT_MAX): a document of a
                # million unknown keys must not cost a million guesses.
                self.guesses += 1
                near = nearest(name, [k.name for k in key.children]) if self.guesses <= REPEAT_MAX else None
                self.diags.warning(
                    self.span(knode),
                    "unknown-key",
                    f'unrecognized key "{name}"',
                    f"did you mean `{near}`?" if near else "",
                )
                if key.name == "coreos" and name == "write_files":
                    self.diags.info(
                        self.span(knode), "misplaced-key", "write_files doesn't belong under coreos"
                    )
                continue
            if name in first_seen:
                self.diags.warning(
                    self.span(knode),
                    "duplicate-key",
                    f'duplicate key "{name}"',
                    f"first at line {first_seen[name]}; the last one is used",
                )
                fields.pop(name, None)
            first_seen[name] = knode.line
            if child.unsupported:
                # Known, so not a typo; deliberately not done, so say why (docs/cloud-init.md).
                self.diags.warning(
                    self.span(knode),
                    "unsupported",
                    f'"{name}" is not supported by ccgen',
                    f"{child.unsupported}; ignored",
                )
                continue
            if child.deprecated:
                self.diags.warning(
                    self.span(knode), "deprecated", f'deprecated key "{name}" ({child.deprecated})'
                )
            elif knode.text in schema.OLD_SPELLINGS:
                self.diags.warning(
                    self.span(knode),
                    "deprecated",
                    f'deprecated key "{knode.text}" (cloud-init\'s old spelling; use {name})',
                )
            val = self.value(vnode, child, name)
            if val is not None:
                fields[name] = Field(val.value, val.span, self.span(knode), val.ok)
        return Field(fields, self.span(node))

    def value(self, node: nodes.Node, key: schema.Key, label: str) -> Field[Value] | None:
        kind = key.kind
        if kind == schema.STRUCT:
            if key.names and isinstance(node, nodes.Scalar) and node.tag == nodes.STR:
                return self.scalar(node, schema.STRING, None, False, label)  # `user: name`
            return self.struct(node, key, label)
        if kind == schema.ANY:
            return self.raw(node, label)
        if kind in (schema.STRING_LIST, schema.STRUCT_LIST):
            if not isinstance(node, nodes.Sequence):
                self.wrong_type(node, label, kind)
                return None
            items: list[Field[Value]] = []
            for i, item in enumerate(node.items):
                if key.names and isinstance(item, nodes.Scalar) and item.tag == nodes.STR:
                    v = self.scalar(item, schema.STRING, None, False, f"{label}[{i}]")
                elif kind == schema.STRUCT_LIST:
                    v = self.struct(item, key, f"{label}[{i}]")
                else:
                    v = self.scalar(item, schema.STRING, None, False, f"{label}[{i}]")
                if v is not None:
                    items.append(v)
            return Field(items, self.span(node))
        return self.scalar(node, kind, key.check, key.secret, label, key.choices)

    def raw(self, node: nodes.Node, label: str) -> Field[Value] | None:
        """A value of cloud-init's several shapes, kept as it is for the key's own parser
        (lang/cloudinit.py); null is left out (as cloud-init skips it), but a mapping's key
        with a null value stays, with "" for its value."""
        if isinstance(node, nodes.Scalar):
            tag = node.tag
            if tag == nodes.NULL:
                return None
            if tag == nodes.BOOL:
                return Field(yaml11.to_bool(node.text), self.span(node))
            if tag == nodes.INT:
                return Field(yaml11.to_int(node.text), self.span(node))
            if tag == nodes.FLOAT:
                return Field(yaml11.to_float(node.text), self.span(node))
            return self.scalar(node, schema.STRING, None, False, label)
        if isinstance(node, nodes.Sequence):
            items = [self.raw(item, f"{label}[{i}]") for i, item in enumerate(node.items)]
            return Field([i for i in items if i is not None], self.span(node))
        fields: dict[str, Field[Value]] = {}
        for knode, vnode in node.pairs:
            if not isinstance(knode, nodes.Scalar):
                self.bad_key(knode)
                continue
            if not _encodable(knode.text):
                self.diags.error(self.span(knode), "encoding", "a key is not valid Unicode")
                continue
            val = self.raw(vnode, knode.text)
            if val is None:  # `group:` with nothing after it: the key alone says something
                val = Field("", self.span(vnode))
            fields[knode.text] = Field(val.value, val.span, self.span(knode), val.ok)
        return Field(fields, self.span(node))

    def scalar(
        self,
        node: nodes.Node,
        kind: str,
        check: object,
        secret: bool,
        label: str,
        choices: dict[str, str] | None = None,
    ) -> Field[Value] | None:
        if not isinstance(node, nodes.Scalar) or node.tag == nodes.NULL:
            self.wrong_type(node, label, kind)
            return None
        tag = node.tag
        span = self.span(node)
        if kind == schema.STRING:
            if tag == nodes.BINARY:
                try:
                    return Field(binascii.a2b_base64("".join(node.text.split()), strict_mode=True), span)
                except (binascii.Error, ValueError):
                    self.diags.error(span, "binary", "!!binary value contains invalid base64 data")
                    return None
            if tag == nodes.MERGE:
                self.wrong_type(node, label, kind)
                return None
            if not _encodable(node.text):
                self.diags.error(span, "encoding", f'the value of "{label}" is not valid Unicode', "ignored")
                return None
            if node.text and callable(check) and not check(node.text):
                # Kept, marked: what uses it must refuse it (a bad mode must not become 0644).
                shown = "(a secret value)" if secret else node.text
                # Spellings that differ only in case (`True` beside `true`) are not listed again.
                known = choices or {}
                words = [c for c in known if c == c.lower() or c.lower() not in known]
                valid = f"valid values: {', '.join(words)}" if words else ""
                self.diags.error(span, "invalid-value", f"invalid value {shown}", valid)
                return Field(node.text, span, None, False)
            return Field(node.text, span)
        if kind == schema.BOOL and tag == nodes.BOOL:
            return Field(yaml11.to_bool(node.text), span)
        if kind == schema.INT and tag == nodes.INT:
            return Field(yaml11.to_int(node.text), span)
        if kind == schema.FLOAT and tag in (nodes.INT, nodes.FLOAT):
            return Field(yaml11.to_float(node.text), span)
        self.wrong_type(node, label, kind)
        return None


def check(root: nodes.Node | None, filename: str, diags: Diagnostics, make_span: SpanMaker = Span) -> Tree:
    """The well-typed part of a document, as nested Field objects.  `make_span`: how a
    node's position becomes a Span (userdata.py maps a part's positions into its file)."""
    if root is None:
        return {}
    if isinstance(root, nodes.Scalar) and root.tag == nodes.NULL:
        return {}
    checker = _Checker(filename, diags, make_span)
    if not isinstance(root, nodes.Mapping):
        diags.warning(
            checker.span(root),
            "type",
            'incorrect type for "" (want struct)',
            f"the document must be a mapping of keys, found {nodes.kind_name(root)}; nothing is applied",
        )
        return {}
    top = checker.struct(root, schema.KEYS, "")
    assert top is not None and isinstance(top.value, dict)
    return top.value
