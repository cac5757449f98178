"""The values a platform hands over, checked before they reach the cache and /run/metadata.

Every metadata value becomes one KEY=VALUE line in files that shells source
(/run/metadata/ccgen, /etc/environment) and is put into units and scripts by
`$public_ipv4` & co., so each kind has one strict syntax: a hostname is
letters, digits, `-`, `_` and dots; an address is an IPv4 dotted quad or an
IPv6 address without a zone id (`%eth0`); an id, a region, a zone or a type is
letters, digits and `._:@+-_`.  None of these characters means anything to a
shell or to systemd.  A value that fails is dropped, with a warning, never
quoted.  The generator and `ccgen apply` check what they read from the cache
by the same rules (`valid`, used by cache.Metadata), so a cache written
before these rules cannot bring a bad value back.  No import at the top but
base: cache.py uses `valid` at boot.
"""

from __future__ import annotations

from .base import FetchError

MAX_TEXT = 255
MAX_HOSTNAME = 253
_ALNUM = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789")
_WORD = _ALNUM | set("._:@+-_")
_HOST = _ALNUM | set("-_")
_HEX = frozenset("0123456789abcdefABCDEF")

# What was dropped since the last `take_dropped()`: `ccgen fetch` prints each as a warning.
_dropped: list[str] = []


def take_dropped() -> list[str]:
    out = _dropped[:]
    del _dropped[:]
    return out


def warn(message: str) -> None:
    _dropped.append(message)


def _drop(value: object, kind: str) -> str:
    shown = str(value)
    shown = shown if len(shown) <= 80 else shown[:80] + "..."
    warn(f"metadata value {shown!r} dropped: not {kind}")
    return ""


def is_word(value: str) -> bool:
    return 0 < len(value) <= MAX_TEXT and _WORD.issuperset(value)


def is_hostname(value: str) -> bool:
    if not 0 < len(value) <= MAX_HOSTNAME:
        return False
    return all(0 < len(label) <= 63 and _HOST.issuperset(label) for label in value.split("."))


def is_ipv4(value: str) -> bool:
    parts = value.split(".")
    return len(parts) == 4 and all(
        0 < len(p) <= 3 and p.isascii() and p.isdigit() and int(p) <= 255 and (p == "0" or p[0] != "0")
        for p in parts
    )


def is_ipv6(value: str) -> bool:
    """RFC 4291's text forms: eight groups of 1-4 hex digits, one `::` for a run of zero
    groups, the last two groups as an IPv4 dotted quad allowed; no zone id."""
    if not 2 <= len(value) <= 45:
        return False
    head, double, tail = value.partition("::")
    if "::" in tail:
        return False
    groups = [g for part in (head, tail) if part for g in part.split(":")]
    if groups and "." in groups[-1]:
        if not is_ipv4(groups[-1]):
            return False
        groups[-1:] = ["0", "0"]
    if not all(0 < len(g) <= 4 and _HEX.issuperset(g) for g in groups):
        return False
    return len(groups) < 8 if double else len(groups) == 8


# Metadata attribute -> its syntax (cache.Metadata's fields; others are words).
_KINDS = {
    "hostname": (is_hostname, "a hostname"),
    "local_ipv4": (is_ipv4, "an IPv4 address"),
    "public_ipv4": (is_ipv4, "an IPv4 address"),
    "local_ipv6": (is_ipv6, "an IPv6 address without a zone"),
    "public_ipv6": (is_ipv6, "an IPv6 address without a zone"),
}
UNCHECKED = ("machine_key",)  # compared, never written where a shell or a unit reads it


def valid(attr: str, value: str) -> bool:
    """Whether `value` has the syntax of metadata attribute `attr` ("" is valid: unknown)."""
    if not value or attr in UNCHECKED:
        return True
    check = _KINDS.get(attr, (is_word, ""))[0]
    return check(value)


def checked(attr: str, value: str) -> str:
    """`value` when it has the syntax of metadata attribute `attr`, else "" and a warning:
    what cache.Metadata holds, however it was made (a provider's answer, the cache)."""
    if valid(attr, value):
        return value
    return _drop(value, _KINDS.get(attr, (is_word, "an id or a name"))[1])


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
    return word if len(word) <= limit and is_word(word) else _drop(word, "an id or a name")


def hostname(value: object) -> str:
    """A hostname (a trailing dot removed); "" for anything else, with a warning."""
    word = _plain(value)
    if word.endswith(".") and len(word) > 1:
        word = word[:-1]
    if not word:
        return ""
    return word if is_hostname(word) else _drop(word, "a hostname")


def _address(value: object, version: int) -> str:
    import ipaddress

    word = _plain(value)
    if not word:
        return ""
    kind = "an IPv4 address" if version == 4 else "an IPv6 address without a zone"
    if not (is_ipv4(word) if version == 4 else is_ipv6(word)):
        return _drop(word, kind)
    try:
        ip = ipaddress.ip_address(word)
    except ValueError:
        return _drop(word, kind)
    return str(ip) if ip.version == version else _drop(word, kind)


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
