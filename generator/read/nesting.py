"""The one nesting bound for every parser ccgen runs: YAML (compose.py) and JSON (loads here).

Python's json module recurses once per level and raises RecursionError (not
ValueError) a few hundred levels down, wherever the caller's stack happens to
be, so every JSON document ccgen reads (an Ignition sniff in formats.py, the
providers' answers, `ccgen status`'s records) goes through `loads`: the depth
is counted first, in one linear pass, and a document nested deeper than
MAX_DEPTH is a ValueError like any other invalid JSON (docs/limits.md).
"""

from __future__ import annotations

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

MAX_DEPTH = 256

_BRACKETS = b"[]{}"
_OTHERS = bytes(c for c in range(256) if c not in _BRACKETS)
# +1 for an opening bracket, -1 for a closing one (indexed by the byte).
_STEP = tuple(1 if c in b"[{" else -1 if c in b"]}" else 0 for c in range(256))


class TooDeep(ValueError):
    pass


def json_depth(data: bytes) -> int:
    """How deeply the JSON text's arrays and objects nest (brackets inside strings not
    counted); for invalid text, at least as deep as any parse of it would go."""
    if b'"' in data:
        # Escapes first (a run of backslashes pairs off from its left, as JSON reads it),
        # then every remaining quote opens or closes a string: what lies between the odd
        # and the next even quote is inside one.  Linear, unlike a regex that rescans
        # from each unterminated quote.
        data = data.replace(b"\\\\", b"").replace(b'\\"', b"")
        data = b"".join(data.split(b'"')[::2])
    only = data.translate(None, _OTHERS)
    from itertools import accumulate

    return max(accumulate(map(_STEP.__getitem__, only)), default=0)


def check_json(data: bytes | str) -> None:
    """TooDeep (a ValueError) when the text nests deeper than MAX_DEPTH."""
    raw = data.encode("utf-8", "surrogatepass") if isinstance(data, str) else data
    if json_depth(raw) > MAX_DEPTH:
        raise TooDeep(f"nesting is deeper than {MAX_DEPTH} levels")


def loads(data: bytes | str) -> Any:
    """json.loads with the nesting bound: ValueError for invalid or too deeply nested text."""
    import json

    check_json(data)
    try:
        return json.loads(data)
    except RecursionError:  # not reachable under the bound; a guard should the stack be short
        raise TooDeep(f"nesting is deeper than {MAX_DEPTH} levels") from None
