"""The values a platform hands over, checked before they reach the cache and /run/metadata.

Every metadata value becomes one KEY=VALUE line in files that shells source
(/run/metadata/ccgen, /etc/environment) and is put into units and scripts by
`$public_ipv4` & co., so each kind has one strict syntax: a hostname is
letters, digits, `-`, `_` and dots; an address is an IPv4 dotted quad or an
IPv6 address without a zone id (`%eth0`); an id, a region, a zone or a type is
letters, digits and `._:@+-_`.  None of these characters means anything to a
shell or to systemd.  A value that fails is dropped, with a warning, never
quoted.  The syntax of each kind is ccgen.base.metavalues', shared with cache.Metadata
and subst.py; this module turns a platform's answers (JSON, base64, gzip) into values
checked by it.
"""

from __future__ import annotations

from ccgen.base.metavalues import (
    MAX_HOSTNAME,
    MAX_TEXT,
    drop,
    is_hostname,
    is_ipv4,
    is_ipv6,
    is_word,
    take_dropped,
    warn,
)

from .base import FetchError

__all__ = ["MAX_HOSTNAME", "MAX_TEXT", "is_hostname", "is_ipv4", "is_ipv6", "is_word", "take_dropped", "warn"]


def _plain(value: object) -> str:
    """A string or a number as a stripped string; "" for anything else."""
    if isinstance(value, bool):
        return ""
    if isinstance(value, int):
        value = str(value)
    return value.strip() if isinstance(value, str) else ""


def text(value: object, limit: int = MAX_TEXT) -> str:
    """An id, a region, a zone, a type: one word of letters, digits and `._:@+-`; "" (with
    a warning when there was a value) for anything else."""
    word = _plain(value)
    if not word:
        return ""
    return word if len(word) <= limit and is_word(word) else drop(word, "an id or a name")


def hostname(value: object) -> str:
    """A hostname (a trailing dot removed); "" for anything else, with a warning."""
    word = _plain(value)
    if word.endswith(".") and len(word) > 1:
        word = word[:-1]
    if not word:
        return ""
    return word if is_hostname(word) else drop(word, "a hostname")


def _address(value: object, version: int) -> str:
    import ipaddress

    word = _plain(value)
    if not word:
        return ""
    kind = "an IPv4 address" if version == 4 else "an IPv6 address without a zone"
    if not (is_ipv4(word) if version == 4 else is_ipv6(word)):
        return drop(word, kind)
    try:
        ip = ipaddress.ip_address(word)
    except ValueError:
        return drop(word, kind)
    return str(ip) if ip.version == version else drop(word, kind)


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
    from ccgen.read.nesting import loads

    try:
        doc = loads(raw)
    except ValueError as e:
        raise FetchError(f"{what} is not valid JSON: {e}") from None
    except RecursionError:  # Python's parser recurses: a deeply nested document
        raise FetchError(f"{what} is nested too deeply") from None
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
    from ccgen.base import rules

    try:
        return rules.gunzip(data, limit)
    except rules.DecodeError as e:
        raise FetchError(f"{what}: {e}") from None
