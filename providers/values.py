"""The values a platform hands over, checked before they reach the cache and /run/metadata.

Every metadata value becomes one KEY=VALUE line in files that shells and
systemd's EnvironmentFile= read, so a value is kept only when it is one plain
word; anything else is dropped rather than quoted.
"""

from __future__ import annotations

from .base import FetchError

# Printable ASCII without spaces, quotes, backslashes, `$` or backticks: safe unquoted anywhere.
_WORD = frozenset(chr(c) for c in range(0x21, 0x7F)) - set("\"'\\$`")
MAX_TEXT = 255


def text(value: object, limit: int = MAX_TEXT) -> str:
    """A string or a number as one plain word; "" for anything else."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        value = str(value)
    if not isinstance(value, str):
        return ""
    value = value.strip()
    return value if len(value) <= limit and _WORD.issuperset(value) else ""


def _address(value: object, version: int) -> str:
    import ipaddress

    word = text(value)
    if not word:
        return ""
    try:
        ip = ipaddress.ip_address(word)
    except ValueError:
        return ""
    return str(ip) if ip.version == version else ""


def ipv4(value: object) -> str:
    return _address(value, 4)


def ipv6(value: object) -> str:
    """An IPv6 address in its short form ("" when the value is not one)."""
    return _address(value, 6)


def dig(doc: object, *path: str | int) -> object:
    """doc[path[0]][path[1]]..., or None where the shape does not match."""
    for step in path:
        if isinstance(step, int):
            if not isinstance(doc, list) or not -len(doc) <= step < len(doc):
                return None
            doc = doc[step]
        else:
            if not isinstance(doc, dict):
                return None
            doc = doc.get(step)
    return doc


def json_object(raw: bytes, what: str) -> dict[str, object]:
    """A JSON object, or FetchError: half-understood metadata must not replace the cache."""
    from ccgen.nesting import loads

    try:
        doc = loads(raw)
    except ValueError as e:
        raise FetchError(f"{what} is not valid JSON: {e}") from None
    if not isinstance(doc, dict):
        raise FetchError(f"{what} is not a JSON object")
    return doc


def base64_bytes(data: str | bytes, what: str) -> bytes:
    """Standard base64, whitespace inside allowed (Azure wraps it); FetchError when invalid."""
    import base64
    import binascii

    if isinstance(data, str):
        data = data.encode("ascii", "replace")
    try:
        return base64.b64decode(b"".join(data.split()), validate=True)
    except (binascii.Error, ValueError):
        raise FetchError(f"{what} is not valid base64") from None


def gunzip(data: bytes, what: str, limit: int = 16 * 1024 * 1024) -> bytes:
    """gzip-compressed data, unpacked with a cap so that a small bomb cannot fill memory."""
    from ccgen import rules

    try:
        return rules.gunzip(data, limit)
    except rules.DecodeError as e:
        raise FetchError(f"{what}: {e}") from None
