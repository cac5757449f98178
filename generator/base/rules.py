"""Value rules: predicates and parsers shared by validation, the builder and `ccgen apply`.

Each rule exists once, so that what `ccgen validate` calls an error is exactly
what `ccgen apply` refuses.  No regex engine: this is on the boot path, and
tests/test_rules.py pins each predicate to the original's regex.
"""

from __future__ import annotations

import binascii
import zlib

MAX_BYTES = 16 * 1024 * 1024

_ASCII_DIGITS = frozenset("0123456789")
_OCTAL = frozenset("01234567")
_LOWER = frozenset("abcdefghijklmnopqrstuvwxyz")
_DAYS = frozenset(("sun", "mon", "tue", "wed", "thu", "fri", "sat"))


# Every character str.splitlines() ends a line at, and NUL.  sshd reads authorized_keys a
# line at a time, split at "\n" only; a key holding any of these could be one line to
# one reader and two to another, so a key holding one is refused everywhere.
KEY_BREAKS = frozenset("\n\r\x0b\x0c\x1c\x1d\x1e\x85\u2028\u2029\0")


def is_key_line(text: str) -> bool:
    """An SSH key that is one line to every reader: no line break of any kind, no NUL,
    and not a comment (the config's keys, the providers' and the cache's alike)."""
    return bool(text) and not text.startswith("#") and KEY_BREAKS.isdisjoint(text)


def is_mode(text: str) -> bool:
    """^0?[0-7]{3,4}$"""
    digits = text[1:] if len(text) == 5 and text[0] == "0" else text
    return 3 <= len(digits) <= 4 and _OCTAL.issuperset(digits)


def is_date(text: str) -> bool:
    """^[0-9]{4}-[0-9]{2}-[0-9]{2}$ (useradd --expiredate's form)"""
    return (
        len(text) == 10
        and text[4] == text[7] == "-"
        and _ASCII_DIGITS.issuperset(text[:4] + text[5:7] + text[8:])
    )


_ZONE = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_+-")
_LOCALE = _ZONE.union("@.") - frozenset("+")


def is_zone_name(text: str) -> bool:
    """^[A-Za-z0-9_+-]+(/[A-Za-z0-9_+-]+)*$: a tz database name, never `..` or absolute"""
    parts = text.split("/")
    return all(p and _ZONE.issuperset(p) for p in parts)


def is_locale(text: str) -> bool:
    """^[A-Za-z0-9_.@-]+$"""
    return bool(text) and _LOCALE.issuperset(text)


_USER_FIRST = frozenset("abcdefghijklmnopqrstuvwxyz_")
_USER_REST = frozenset("abcdefghijklmnopqrstuvwxyz0123456789_.-")


def is_user_name(name: str) -> bool:
    """[a-z_][a-z0-9_.-]{0,31}$?: what useradd accepts by default (shadow's rule)."""
    body = name[:-1] if name.endswith("$") else name
    return 1 <= len(body) <= 32 and body[0] in _USER_FIRST and _USER_REST.issuperset(body)


def parse_mode(text: str) -> int | None:
    """The mode `permissions` names, or None when it does not match is_mode."""
    return int(text, 8) if is_mode(text) else None


def _bounded_number(text: str, most: int) -> bool:
    """0*(one or two digits up to `most`), as the window regex spells it."""
    if not text or not _ASCII_DIGITS.issuperset(text):
        return False
    significant = text.lstrip("0")
    return len(significant) <= 2 and int(significant or "0") <= most


def is_window_start(text: str) -> bool:
    """^((?i:sun|mon|...) )?0*([0-9]|1[0-9]|2[0-3]):0*([0-9]|[1-5][0-9])$ (ASCII day names)."""
    if len(text) > 4 and text[3] == " " and text[:3].lower() in _DAYS:
        text = text[4:]
    hours, sep, minutes = text.partition(":")
    return bool(sep) and _bounded_number(hours, 23) and _bounded_number(minutes, 59)


def is_window_length(text: str) -> bool:
    """^[-+]?([0-9]*(\\.[0-9]*)?[a-z]+)+$: runs of digits, an optional fraction, a unit."""
    i = 1 if text[:1] in ("-", "+") else 0
    if i == len(text):
        return False
    while i < len(text):
        while i < len(text) and text[i] in _ASCII_DIGITS:
            i += 1
        if i < len(text) and text[i] == ".":
            i += 1
            while i < len(text) and text[i] in _ASCII_DIGITS:
                i += 1
        start = i
        while i < len(text) and text[i] in _LOWER:
            i += 1
        if i == start:
            return False
    return True


_LABEL_CHARS = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-")
HOSTNAME_MAX = 253


def is_hostname(text: str) -> bool:
    """RFC 1123 labels of letters, digits and `-` (not at either end), at most 63 each and
    253 in all; one trailing dot allowed.  The one rule for `hostname:` and the
    providers' metadata hostnames."""
    name = text[:-1] if text.endswith(".") else text
    if not name or len(name) > HOSTNAME_MAX:
        return False
    for label in name.split("."):
        if not 1 <= len(label) <= 63 or label[0] == "-" or label[-1] == "-":
            return False
        if not _LABEL_CHARS.issuperset(label):
            return False
    return True


KERNEL_HOSTNAME_MAX = 64


def kernel_hostname(text: str) -> str:
    """What the kernel gets for a valid hostname: the name without a trailing dot, or its
    first label when the whole name is longer than the kernel's 64 bytes."""
    name = text.rstrip(".")
    return name if len(name) <= KERNEL_HOSTNAME_MAX else name.split(".")[0]


STATIC_HOSTNAME_MAX = 64  # systemd's HOST_NAME_MAX
_STATIC_CHARS = frozenset("abcdefghijklmnopqrstuvwxyz0123456789")


def static_hostname(text: str) -> str:
    """The static hostname `hostnamectl set-hostname` derives from a name it cannot take
    as it is (systemd's hostname_cleanup, lower-cased as the CoreOS-era hostnamectl did):
    letters and digits kept, every other character dropped, no `-` or `.` at the start
    or after a `.`, no repeated `.`, at most 64 characters, none of `-.` at the end.
    "" when nothing is left."""
    out: list[str] = []
    dot = hyphen = True
    for ch in text.lower():
        if len(out) >= STATIC_HOSTNAME_MAX:
            break
        if ch == ".":
            if dot or hyphen:
                continue
            dot, hyphen = True, False
        elif ch == "-":
            if dot:
                continue
            dot, hyphen = False, True
        elif ch in _STATIC_CHARS:
            dot = hyphen = False
        else:
            continue
        out.append(ch)
    return "".join(out).rstrip("-.")


def host_names(text: str) -> tuple[str, str]:
    """(static, pretty) for `hostname:`, as `hostnamectl set-hostname` sets them: a valid
    name is the static one (as the kernel takes it) and there is no pretty name; any other
    text is the pretty name as given, and its cleaned form the static one."""
    if is_hostname(text):
        return kernel_hostname(text), ""
    return static_hostname(text), text


TEMPLATE_HINT = "it looks like an unrendered template such as {{NAME}}"


# Placeholders of template engines that real files keep unrendered: $name, ${name},
# <NAME>, {{ ... }}, %name%.
def template_placeholder(text: str) -> bool:
    if "{{" in text and "}}" in text:
        return True
    if text.startswith("<") and text.endswith(">") and len(text) > 2:
        return True
    if "${" in text and "}" in text[text.index("${") :]:
        return True
    i = text.find("$")
    return i >= 0 and text[i + 1 : i + 2].isalpha()


_SCHEME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")


def is_url(text: str) -> bool:
    """An absolute URL (scheme:...) or an absolute path, with no white space."""
    if not text or any(c.isspace() for c in text):
        return False
    if text[0] == "/":
        return True
    scheme, sep, _ = text.partition(":")
    return bool(sep) and scheme[:1].isalpha() and scheme.isascii() and _SCHEME.issuperset(scheme)


def clean_path(path: str) -> str:
    """An absolute path with `.`, `..` and repeated `/` resolved, as Go's path.Clean after
    joining to `/` (the original's rule): "a/../b" is "/b", "/.." is "/"."""
    out: list[str] = []
    for part in path.split("/"):
        if part in ("", "."):
            continue
        if part == "..":
            if out:
                out.pop()
            continue
        out.append(part)
    return "/" + "/".join(out)


def is_read_only(clean: str) -> bool:
    """Whether the file's directory is /usr or under it (its first component is `usr`;
    the original's string prefix also took /usrlocal/x); it runs on the cleaned path."""
    directory = clean.rpartition("/")[0]
    return directory == "/usr" or directory.startswith("/usr/")


class DecodeError(ValueError):
    pass


class TooLarge(DecodeError):
    pass


def gunzip(raw: bytes, limit: int = MAX_BYTES) -> bytes:
    """A whole gzip stream, at most `limit` bytes unpacked; a cut-short stream is an error."""
    d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
    try:
        out = d.decompress(raw, limit + 1)
    except zlib.error as e:
        raise DecodeError(f"not a gzip stream ({e})") from None
    if len(out) > limit or d.unconsumed_tail:
        raise TooLarge(f"unpacks to more than {limit} bytes")
    if not d.eof:
        raise DecodeError("the gzip stream is truncated")
    return out


def decode_content(content: str | bytes, encoding: str) -> bytes:
    """write_files content as bytes, decoded as the original did (a truncated gzip
    stream is an error here; the original wrote whatever it had unpacked)."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    enc = encoding.lower()
    steps = enc.split("+") if enc and enc != "text/plain" else []  # cloud-init's name for none
    if any(s not in ("b64", "base64", "gz", "gzip") for s in steps) or len(steps) > 2:
        raise DecodeError(f'unsupported encoding "{encoding}"')
    if steps and steps[-1] in ("b64", "base64"):
        try:
            raw = binascii.a2b_base64(b"".join(raw.split()), strict_mode=True)
        except (binascii.Error, ValueError) as e:
            raise DecodeError(f"invalid base64 ({e})") from None
        steps = steps[:-1]
    if steps:
        if steps[0] not in ("gz", "gzip"):
            raise DecodeError(f'unsupported encoding "{encoding}"')
        raw = gunzip(raw)
    return raw
