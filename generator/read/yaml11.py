"""YAML 1.1 implicit typing of plain scalars, as the original go-yaml v1 fork did it.

This table is shared by every loader backend, so that they cannot drift apart.
Differences from PyYAML's resolver are deliberate and follow the original:
`y`/`n` are booleans, `1e3` is a float, and sexagesimal `1:30` is a string.
"""

from __future__ import annotations

from . import nodes

_BOOL_TRUE = frozenset(["y", "Y", "yes", "Yes", "YES", "true", "True", "TRUE", "on", "On", "ON"])
_BOOL_FALSE = frozenset(["n", "N", "no", "No", "NO", "false", "False", "FALSE", "off", "Off", "OFF"])
_NULL = frozenset(("", "~", "null", "Null", "NULL"))
_DIGITS = frozenset("0123456789")
_DIGITS_ = frozenset("0123456789_")
_OCTAL_ = frozenset("01234567_")
_BINARY_ = frozenset("01_")
_HEX_ = frozenset("0123456789abcdefABCDEF_")
_INF = frozenset((".inf", ".Inf", ".INF"))
_NAN = frozenset((".nan", ".NaN", ".NAN"))


def _all(text: str, allowed: frozenset[str]) -> bool:
    return allowed.issuperset(text)


def is_int(text: str) -> bool:
    """[-+]?(0b[01_]+|0x[0-9a-fA-F_]+|0[0-7_]+|0|[1-9][0-9_]*); 0b and 0x need a digit."""
    s = text[1:] if text[:1] in ("-", "+") else text
    if s[:2] == "0b":
        rest, allowed = s[2:], _BINARY_
    elif s[:2] == "0x":
        rest, allowed = s[2:], _HEX_
    elif s == "0":
        return True
    elif s[:1] == "0":
        return _all(s[1:], _OCTAL_)
    else:
        return s[:1] in _DIGITS and _all(s, _DIGITS_)
    # Binary and hex need a digit after the prefix: int("", 2) has no value.
    return bool(rest.replace("_", "")) and _all(rest, allowed)


def is_float(text: str) -> bool:
    """[-+]?([0-9][0-9_]*)?.[0-9_]*([eE][-+]?[0-9]+)?, or [-+]?[0-9][0-9_]*[eE][-+]?[0-9]+,
    or [-+]?.inf or .nan; the mantissa needs a digit."""
    if text in _NAN:
        return True
    s = text[1:] if text[:1] in ("-", "+") else text
    if s in _INF:
        return True
    mantissa, exponent = s, None
    for i, c in enumerate(s):
        if c in "eE":
            mantissa, exponent = s[:i], s[i + 1 :]
            break
    if exponent is not None:
        e = exponent[1:] if exponent[:1] in ("-", "+") else exponent
        if not e or not _all(e, _DIGITS):
            return False
    if "." in mantissa:
        whole, _, fraction = mantissa.partition(".")
        if whole and (whole[0] not in _DIGITS or not _all(whole, _DIGITS_)):
            return False
        return _all(fraction, _DIGITS_) and any(c in _DIGITS for c in mantissa)
    return exponent is not None and mantissa[:1] in _DIGITS and _all(mantissa, _DIGITS_)


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
    if is_int(text):
        # go-yaml tried ParseInt, then ParseUint (64 bits), then ParseFloat: a bigger
        # integer was a string, and so was a float out of range.
        return nodes.INT if in_range(text) else nodes.STR
    if is_float(text):
        return nodes.FLOAT if in_range(text) else nodes.STR
    return nodes.STR


INT_MIN, UINT_MAX = -(2**63), 2**64 - 1
# More digits than this cannot fit in 64 bits in any base (0b needs 64).
_MAX_DIGITS = 70


def in_range(text: str) -> bool:
    """A number text (is_int or is_float) that Go's 64-bit parsers would accept."""
    if is_int(text):
        if len(text.replace("_", "")) > _MAX_DIGITS + 3:
            return False  # before int(): it would refuse 4300 digits, and 10**6 is slow
        return INT_MIN <= to_int(text) <= UINT_MAX
    t = text.replace("_", "").lower()
    if t.endswith((".inf", ".nan")):
        return True
    try:
        return abs(float(t)) != float("inf")
    except (ValueError, OverflowError):
        return False


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
