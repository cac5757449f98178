"""The positioned YAML tree that every later stage reads.

No PyYAML type leaves the composer: these classes are the contract between the
loaders (PyYAML events today, libyaml bound directly later) and the validator.
Aliases are represented by sharing the same node object, so the tree is a DAG.
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Union

    Node = Union["Scalar", "Mapping", "Sequence"]

# Resolved tags, short names.  Scalars keep their literal text next to the tag,
# because a cloud-config string field takes the text (`0644` stays "0644").
STR = "str"
INT = "int"
FLOAT = "float"
BOOL = "bool"
NULL = "null"
BINARY = "binary"
MERGE = "merge"
MAP = "map"
SEQ = "seq"


class Scalar:
    __slots__ = ("column", "line", "quoted", "tag", "text")

    def __init__(self, tag: str, text: str, quoted: bool, line: int, column: int) -> None:
        self.tag = tag
        self.text = text
        self.quoted = quoted
        self.line = line
        self.column = column

    def __repr__(self) -> str:
        return f"Scalar({self.tag}, {self.text!r}, {self.line}:{self.column})"


class Mapping:
    __slots__ = ("column", "line", "pairs")

    def __init__(self, pairs: list[tuple[Node, Node]], line: int, column: int) -> None:
        self.pairs = pairs
        self.line = line
        self.column = column

    @property
    def tag(self) -> str:
        return MAP


class Sequence:
    __slots__ = ("column", "items", "line")

    def __init__(self, items: list[Node], line: int, column: int) -> None:
        self.items = items
        self.line = line
        self.column = column

    @property
    def tag(self) -> str:
        return SEQ


def kind_name(node: Node) -> str:
    """How a node's type is named in messages."""
    if isinstance(node, Mapping):
        return "mapping"
    if isinstance(node, Sequence):
        return "list"
    return {NULL: "null", BOOL: "bool", INT: "int", FLOAT: "float"}.get(node.tag, "string")
