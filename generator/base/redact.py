"""Credentials out of URLs before a URL is shown: in a diagnostic, a kmsg line, a record.

An `#include` may name a URL with a password (`https://user:PASSWORD@host/`) or a
presigned one (S3's `X-Amz-Signature`, Azure's SAS `sig`, a `token`).  The URL
itself is kept where it is needed (the cache is keyed by it); wherever it is
shown, the userinfo and the value of every query parameter that may carry a
secret are replaced by REDACTED.  diag.Diagnostics.add and `ccgen fetch`'s
messages and record call `in_text` on every message that holds a `://`.
"""

from __future__ import annotations

MARK = "REDACTED"
# Query parameters whose values are secrets (compared lower-cased), and parts of names
# that make one: X-Amz-Signature, X-Goog-Credential, access_token, client_secret...
SECRET_NAMES = frozenset(("sig", "key", "apikey", "api-key", "auth", "code", "pass", "pwd", "session"))
SECRET_PARTS = ("signature", "credential", "token", "secret", "password", "passwd", "api_key", "security")
# Characters that end a URL inside a message.
_ENDS = frozenset(" \t\r\n\"'<>`")


def _secret(name: str) -> bool:
    low = name.lower()
    return low in SECRET_NAMES or any(part in low for part in SECRET_PARTS)


def url(text: str) -> str:
    """`text`, a URL, with its userinfo and its secret query values replaced."""
    scheme, sep, rest = text.partition("://")
    if not sep:
        return text
    end = min((i for i in (rest.find("/"), rest.find("?"), rest.find("#")) if i >= 0), default=len(rest))
    authority, tail = rest[:end], rest[end:]
    if "@" in authority:
        authority = MARK + "@" + authority.rpartition("@")[2]
    before, q, query = tail.partition("?")
    if q:
        query, hashmark, fragment = query.partition("#")
        pairs = []
        for pair in query.split("&"):
            name, eq, _ = pair.partition("=")
            pairs.append(f"{name}={MARK}" if eq and _secret(name) else pair)
        tail = before + "?" + "&".join(pairs) + hashmark + fragment
    return f"{scheme}://{authority}{tail}"


def in_text(text: str) -> str:
    """Every URL in a message redacted (a URL runs from its scheme to a space or a quote)."""
    if "://" not in text:
        return text
    out = []
    pos = 0
    while True:
        at = text.find("://", pos)
        if at < 0:
            out.append(text[pos:])
            return "".join(out)
        start = at
        while start > pos and (text[start - 1].isalnum() or text[start - 1] in "+-."):
            start -= 1
        end = at + 3
        while end < len(text) and text[end] not in _ENDS:
            end += 1
        out.append(text[pos:start])
        out.append(url(text[start:end]))
        pos = end
