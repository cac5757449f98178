"""What a user-data document is, beyond the two kinds source.py knows by their first line.

source.classify decides `#cloud-config` and `#!` itself (the boot path's common
case); everything else comes here: MIME multi-part, `#include` lists, Ignition,
and the formats other tools read that ccgen refuses with a word on what to send
instead.  Prefix tests follow cloud-init's (lower-cased, leading white space
skipped, longest prefix first); docs/compat.md lists every format.
"""

from __future__ import annotations

from . import kinds

# The kinds source.py names too (kinds.py), and the header as bytes.
CLOUD_CONFIG = kinds.CLOUD_CONFIG
SCRIPT = kinds.SCRIPT
IGNITION = kinds.IGNITION
MIME = kinds.MIME
INCLUDE = kinds.INCLUDE
HEADER = kinds.HEADER.encode()

REFUSED = "refused"
UNKNOWN = "unknown"

ACCEPTED = "ccgen reads #cloud-config, #! scripts, MIME multi-part and #include"

# prefix (lower case) -> (what it is, what ccgen accepts instead); longest prefixes first.
_REFUSED = (
    (
        b"#cloud-config-archive",
        "cloud-init's #cloud-config-archive (a YAML list of parts)",
        "send the parts as MIME multi-part user-data (text/cloud-config, text/x-shellscript)",
    ),
    (
        b"#cloud-config-jsonp",
        "cloud-init's #cloud-config-jsonp (a JSON patch)",
        "send a #cloud-config part; in MIME multi-part user-data later parts override earlier ones",
    ),
    (
        b"## template: jinja",
        "a cloud-init Jinja template",
        "render it before handing it over; $public_ipv4 and friends are substituted in #cloud-config",
    ),
    (
        b"#cloud-boothook",
        "a cloud-init boothook",
        "send a #! script: it runs once per instance, after the config is applied",
    ),
    (
        b"#part-handler",
        "a cloud-init part handler (Python)",
        "ccgen runs no handlers; send #cloud-config or #! scripts",
    ),
    (
        b"#upstart-job",
        "an upstart job",
        "send a systemd unit in coreos.units",
    ),
    (
        b"#ps1_sysnative",
        "a PowerShell script for cloudbase-init",
        "ccgen runs #! scripts for a Linux interpreter",
    ),
    (
        b"#ps1_x86",
        "a PowerShell script for cloudbase-init",
        "ccgen runs #! scripts for a Linux interpreter",
    ),
    (
        b"#ps1",
        "a PowerShell script for cloudbase-init",
        "ccgen runs #! scripts for a Linux interpreter",
    ),
)
_WINDOWS_TAGS = (b"<powershell>", b"<script>")
_INCLUDE_PREFIXES = (b"#include-once", b"#include")


class Found:
    """What a document is; for REFUSED, what it is and what to send instead, and where."""

    __slots__ = ("instead", "kind", "line", "what")

    def __init__(self, kind: str, what: str = "", instead: str = "", line: int = 1) -> None:
        self.kind = kind
        self.what = what
        self.instead = instead
        self.line = line


def first_line_kind(data: bytes) -> str | None:
    """source.classify's own rules: `#!` starts a script; an exact `#cloud-config` first line
    (trailing white space allowed) makes a cloud-config."""
    first = data.split(b"\n", 1)[0]
    if first.startswith(b"#!"):
        return SCRIPT
    if first.rstrip() == HEADER:
        return CLOUD_CONFIG
    return None


def looks_like_ignition(data: bytes) -> bool:
    if not data.lstrip().startswith(b"{"):
        return False
    from .nesting import loads

    try:
        doc = loads(data)
    except ValueError:
        return False
    if not isinstance(doc, dict):
        return False
    version = doc.get("ignitionVersion")
    if isinstance(version, int) and not isinstance(version, bool):
        return True
    ign = doc.get("ignition")
    return isinstance(ign, dict) and isinstance(ign.get("version"), str)


HEADER_SCAN = 64 * 1024  # how far the header block of a MIME document is looked at


def _is_field_name(line: bytes) -> bool:
    """`Name:` as RFC 5322 spells a header field: printable ASCII but the colon, then a colon."""
    name, colon, _ = line.partition(b":")
    return bool(colon) and bool(name) and all(33 <= c <= 126 for c in name)


def looks_like_mime(data: bytes) -> bool:
    """A header block first (no blank line before it) that names a Content-Type or a
    MIME-Version: cloud-init looks for `MIME-Version:`, Flatcar for a multipart
    Content-Type on the first line; Karpenter writes MIME-Version first, kops and
    Terraform Content-Type first, so either one is enough."""
    head = data[:HEADER_SCAN]
    lines = head.split(b"\n")
    if not lines or not _is_field_name(lines[0]):
        return False
    for line in lines:
        line = line.rstrip(b"\r")
        if not line:
            break
        lower = line.lower()
        if lower.startswith((b"content-type:", b"mime-version:")):
            return True
    return False


def sniff(data: bytes) -> Found:
    """The kind of a non-empty, already unpacked document."""
    kind = first_line_kind(data)
    if kind is not None:
        return Found(kind)
    if looks_like_ignition(data):
        return Found(IGNITION)
    if looks_like_mime(data):
        return Found(MIME)
    start = data[:256].lstrip().lower()
    if start.startswith(_INCLUDE_PREFIXES):
        return Found(INCLUDE)
    for prefix, what, instead in _REFUSED:
        if start.startswith(prefix):
            return Found(REFUSED, what, instead)
    if start.startswith(b"rem cmd"):
        return Found(REFUSED, "a Windows cmd script for cloudbase-init", "ccgen runs #! scripts")
    lower = data.lower()
    for tag in _WINDOWS_TAGS:
        at = lower.find(tag)
        if at >= 0:
            return Found(
                REFUSED,
                f"EC2 Windows user-data ({tag.decode()})",
                "ccgen runs #! scripts for a Linux interpreter",
                data.count(b"\n", 0, at) + 1,
            )
    return Found(UNKNOWN)


def include_urls(text: str) -> list[tuple[int, str]]:
    """The URLs of an `#include` body, with their 1-based lines: cloud-init's rules.

    A line starting `#include-once` or `#include` drops that word (a URL may follow it on
    the same line); then a line starting `#` is a comment and a blank line is nothing.
    `#include-once` is read as `#include` (docs/compat.md).
    """
    out: list[tuple[int, str]] = []
    for number, raw in enumerate(text.splitlines(), 1):
        line = raw.strip()
        lower = line.lower()
        for prefix in ("#include-once", "#include"):
            if lower.startswith(prefix):
                line = line[len(prefix) :].strip()
                break
        if not line or line.startswith("#"):
            continue
        out.append((number, line))
    return out
