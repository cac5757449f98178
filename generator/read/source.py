"""User-data bytes in, a classified document out (gzip, size caps, format detection)."""

from __future__ import annotations

from ccgen.base import rules
from ccgen.base.diag import Diagnostics, Span

from .kinds import CLOUD_CONFIG, EMPTY, HEADER, SCRIPT

MAX_BYTES = rules.MAX_BYTES


class Document:
    __slots__ = ("compressed", "data", "interpreter", "kind", "path", "text")

    def __init__(
        self,
        path: str,
        kind: str,
        text: str = "",
        interpreter: tuple[str, ...] = (),
        compressed: bool = False,
        data: bytes = b"",
    ) -> None:
        self.path = path  # as the running system names it, never prefixed with a test root
        self.kind = kind
        self.text = text  # cloud-config only
        self.interpreter = interpreter  # script only
        self.compressed = compressed
        self.data = data  # unpacked: a compressed script, MIME and #include (userdata.py reads them)


def gunzip(data: bytes, span: Span, diags: Diagnostics, then: str = "") -> bytes | None:
    """gzip'd input or part unpacked, or None with an error at `span` (`then`: what follows)."""
    try:
        return rules.gunzip(data, MAX_BYTES)
    except rules.DecodeError as e:
        code = "too-large" if isinstance(e, rules.TooLarge) else "gzip"
        diags.error(span, code, "gzip payload cannot be unpacked", f"{e}{then}")
        return None


def position(data: bytes, offset: int) -> tuple[int, int]:
    """Line and column (in characters) of a byte offset."""
    line = data.count(b"\n", 0, offset) + 1
    start = data.rfind(b"\n", 0, offset) + 1
    return line, len(data[start:offset].decode("utf-8", "replace")) + 1


FALLBACK_INTERPRETER = ("/bin/bash",)


def interpreter(first: bytes, span: Span, diags: Diagnostics) -> tuple[str, ...] | None:
    """What runs a script, from its `#!` line.  A line that names no absolute path
    (`#!bash`) is a warning, and the script runs with bash, as the original ran every one.
    A control character in the line is an error (None): it would reach ExecStart=, and a
    NUL there ends systemd's line, so what follows it would be read as a directive."""
    shebang = first.rstrip(b"\r")
    if any((c < 0x20 and c != 0x09) or c == 0x7F for c in shebang):
        diags.error(
            span,
            "script",
            "a script's #! line holds a control character",
            "NUL, ESC, BEL and the like have no place in an interpreter line",
        )
        return None
    argv = shebang[2:].decode("utf-8", "replace").split()
    if argv and argv[0].startswith("/"):
        return tuple(argv)
    diags.warning(
        span,
        "script",
        "a script's #! line names no absolute interpreter path",
        "it runs with /bin/bash, as the original ran every script",
    )
    return FALLBACK_INTERPRETER


def classify(path: str, data: bytes, diags: Diagnostics) -> Document | None:
    """The document in `data`, or None (with a diagnostic) when it cannot be used."""
    if len(data) > MAX_BYTES:
        diags.error(Span(path, 1, 1), "too-large", f"user-data is larger than {MAX_BYTES} bytes")
        return None
    compressed = data[:2] == b"\x1f\x8b"
    if compressed:
        unpacked = gunzip(data, Span(path, 1, 1), diags)
        if unpacked is None:
            return None
        data = unpacked
    if not data:
        return Document(path, EMPTY)
    first = data.split(b"\n", 1)[0]
    if first.startswith(b"#!"):
        argv = interpreter(first, Span(path, 1, 1), diags)
        if argv is None:
            return None
        return Document(path, SCRIPT, interpreter=argv, compressed=compressed, data=data)
    if first.rstrip() == HEADER.encode():
        try:
            text = data.decode("utf-8")
        except UnicodeDecodeError as e:
            line, column = position(data, e.start)
            diags.error(Span(path, line, column), "encoding", "cloud-config is not valid UTF-8")
            return None
        return Document(path, CLOUD_CONFIG, text=text, compressed=compressed)
    return _other(path, data, compressed, diags)


def _other(path: str, data: bytes, compressed: bool, diags: Diagnostics) -> Document | None:
    """Whatever the first line did not decide: formats.py knows the rest."""
    from . import formats

    found = formats.sniff(data)
    if found.kind == formats.IGNITION:
        diags.info(
            Span(path, 1, 1),
            "ignition",
            "an Ignition config is not cloud-config; skipped",
            "Ignition reads it from the initramfs; " + formats.ACCEPTED,
        )
        return None
    if found.kind in (formats.MIME, formats.INCLUDE):
        return Document(path, found.kind, compressed=compressed, data=data)
    if found.kind == formats.REFUSED:
        diags.error(
            Span(path, found.line, 1),
            "format",
            f"this is {found.what}, which ccgen does not read",
            found.instead,
        )
        return None
    diags.error(Span(path, 1, 1), "header", 'must be "#cloud-config" or begin with "#!"', formats.ACCEPTED)
    return None
