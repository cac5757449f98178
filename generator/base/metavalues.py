"""Metadata values: one strict syntax per kind, for every value that reaches a file a shell
sources (/run/metadata/ccgen, /etc/environment), a unit or a script (`$public_ipv4` & co.).

A hostname is letters, digits, `-`, `_` and dots; an address is an IPv4 dotted quad or an
IPv6 address without a zone id (`%eth0`); an id, a region, a zone or a type is letters,
digits and `._:@+-_`.  None of these characters means anything to a shell or to systemd.
A value that fails is dropped, with a warning, never quoted.  The fetch checks what a
platform says (providers/values.py), and cache.Metadata checks what it holds however it was
made, so a cache written before these rules cannot bring a bad value back; subst.py asks
`valid` before it substitutes.  Here in base/ because all three use it; no imports: the
generator reads the cache at boot.
"""

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


def drop(value: object, kind: str) -> str:
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
    return drop(value, _KINDS.get(attr, (is_word, "an id or a name"))[1])
