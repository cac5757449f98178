"""The original validator's rules that look at values, not types."""

from __future__ import annotations

import binascii
import posixpath
import zlib

from .diag import Diagnostics
from .source import MAX_BYTES
from .validate import Val

_SCHEME = frozenset("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+.-")


def _is_url(text: str) -> bool:
    """An absolute URL (scheme:...) or an absolute path, with no white space."""
    if not text or any(c.isspace() for c in text):
        return False
    if text[0] == "/":
        return True
    scheme, sep, _ = text.partition(":")
    return bool(sep) and scheme[:1].isalpha() and scheme.isascii() and all(c in _SCHEME for c in scheme)


class DecodeError(ValueError):
    pass


def decode_content(content: str | bytes, encoding: str) -> bytes:
    """write_files content as bytes, decoded as the original did."""
    raw = content.encode("utf-8") if isinstance(content, str) else content
    enc = encoding.lower()
    steps = enc.split("+") if enc else []
    if any(s not in ("b64", "base64", "gz", "gzip") for s in steps) or len(steps) > 2:
        raise DecodeError(f'unsupported encoding "{encoding}"')
    if steps and steps[-1] in ("b64", "base64"):
        try:
            raw = binascii.a2b_base64(b"".join(raw.split()), strict_mode=True)
        except (binascii.Error, ValueError) as e:
            raise DecodeError(str(e)) from None
        steps = steps[:-1]
    if steps:
        if steps[0] not in ("gz", "gzip"):
            raise DecodeError(f'unsupported encoding "{encoding}"')
        try:
            d = zlib.decompressobj(wbits=16 + zlib.MAX_WBITS)
            out = d.decompress(raw, MAX_BYTES + 1)
        except zlib.error as e:
            raise DecodeError(str(e)) from None
        if len(out) > MAX_BYTES or d.unconsumed_tail:
            raise DecodeError(f"unpacks to more than {MAX_BYTES} bytes")
        raw = out
    return raw


def _items(top: dict[str, Val], key: str) -> list[dict[str, Val]]:
    v = top.get(key)
    if v is None or not isinstance(v.value, list):
        return []
    return [i.value for i in v.value if isinstance(i.value, dict)]


def check(top: dict[str, Val], diags: Diagnostics) -> None:
    for f in _items(top, "write_files"):
        enc, content, path = f.get("encoding"), f.get("content"), f.get("path")
        if enc is not None and isinstance(enc.value, str) and enc.value:
            body = content.value if content is not None else ""
            if isinstance(body, (str, bytes)):
                try:
                    decode_content(body, enc.value)
                except DecodeError:
                    span = content.span if content is not None else enc.span
                    diags.error(span, "decode", f'content cannot be decoded as "{enc.value}"')
        if (
            path is not None
            and isinstance(path.value, str)
            and posixpath.dirname(path.value).startswith("/usr")
        ):
            diags.error(path.span, "read-only", "file cannot be written to a read-only filesystem")
    coreos = top.get("coreos")
    if coreos is not None and isinstance(coreos.value, dict):
        etcd = coreos.value.get("etcd")
        if etcd is not None and isinstance(etcd.value, dict):
            disc = etcd.value.get("discovery")
            if disc is not None and isinstance(disc.value, str) and disc.value and not _is_url(disc.value):
                diags.warning(disc.span, "url", "discovery URL is not valid")
