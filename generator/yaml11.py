"""YAML 1.1 implicit typing of plain scalars, as the original go-yaml v1 fork did it.

This table is shared by every loader backend, so that they cannot drift apart.
Differences from PyYAML's resolver are deliberate and follow the original:
`y`/`n` are booleans, `1e3` is a float, and sexagesimal `1:30` is a string.
"""

from __future__ import annotations

import re

from . import nodes

_BOOL_TRUE = frozenset(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"])
_BOOL_FALSE = frozenset(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"])
_NULL = frozenset(("", "~", "null", "Null", "NULL"))

_INT = re.compile(
    r"[-+]?(?:0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]+|0|[1-9][0-9_]*)\Z",
)
_FLOAT = re.compile(
    r"[-+]?(?:(?:[0-9][0-9_]*)?\.[0-9_]*(?:[eE][-+]?[0-9]+)?"
    r"|[0-9][0-9_]*[eE][-+]?[0-9]+"
    r"|\.(?:inf|Inf|INF))\Z"
    r"|\.(?:nan|NaN|NAN)\Z",
)

# Only these first characters can start a non-string plain scalar; the check
# keeps the common case (words, paths, unit text) away from the regexes.
_MAYBE_TYPED = frozenset("-+.0123456789~nNyYtTfFoO<")

TAG_PREFIX = "tag:yaml.org,2002:"
EXPLICIT_TAGS = {
    "str": nodes.STR,
    "int": nodes.INT,
    "float": nodes.FLOAT,
    "bool": nodes.BOOL,
    "null": nodes.NULL,
    "binary": nodes.BINARY,
    "merge": nodes.MERGE,
}


def resolve_plain(text: str) -> str:
    """The tag of an untagged plain scalar."""
    if not text:
        return nodes.NULL
    if text[0] not in _MAYBE_TYPED:
        return nodes.STR
    if text in _NULL:
        return nodes.NULL
    if text in _BOOL_TRUE or text in _BOOL_FALSE:
        return nodes.BOOL
    if text == "<<":
        return nodes.MERGE
    if _INT.match(text):
        return nodes.INT
    if _FLOAT.match(text) and (
        any(c.isdigit() for c in text) or text.lstrip("-+").lower() in (".inf", ".nan")
    ):
        return nodes.FLOAT
    return nodes.STR


def to_bool(text: str) -> bool:
    return text in _BOOL_TRUE


def to_int(text: str) -> int:
    t = text.replace("_", "")
    sign = -1 if t.startswith("-") else 1
    t = t.lstrip("-+")
    if t.startswith("0b"):
        return sign * int(t[2:], 2)
    if t.startswith("0x"):
        return sign * int(t[2:], 16)
    if len(t) > 1 and t.startswith("0"):
        return sign * int(t[1:], 8)
    return sign * int(t)


def to_float(text: str) -> float:
    t = text.replace("_", "")
    low = t.lower()
    if low.endswith(".inf"):
        return float("-inf") if low.startswith("-") else float("inf")
    if low.endswith(".nan"):
        return float("nan")
    return float(t)
