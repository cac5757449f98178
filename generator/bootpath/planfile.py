"""The precompiled plan: a full compile's result and the fingerprint of everything it read.

Written by the generator into its output directory (`.ccgen-plan`, root-only),
kept by ccgen-apply as /var/lib/ccgen/plan, and replayed by the generator
(replay.py) when every recorded read gives the same answer again.  The format
is marshal, which the interpreter has built in: no import, no parsing code.
The file is MAGIC, the SHA-256 of the rest, then the marshalled plan: a plan whose
digest does not hold, from another ccgen or Python version, of any other shape
(a path that could leave the output directory included), or whose fingerprint
differs in any byte is ignored, and the full pipeline runs.
On the replay path: no `from __future__`, nothing imported at the top but marshal
and digest.py (the interpreter's own SHA-256, not hashlib).
"""

import marshal
import sys

from ccgen import __version__

from .digest import sha256

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

    from ccgen.base.diag import Diagnostic
    from ccgen.read.inputs import Reader, Seen

    from .plan import Plan

    Fingerprint = tuple[tuple[str, str, Seen], ...]
    Entries = tuple[tuple[str, str, str, int], ...]
    Lines = tuple[tuple[int, str], ...]  # (severity, the message as logged)
    Stored = tuple[Fingerprint, Entries, Lines, str]

MAGIC = b"ccgen-plan\n"
FORMAT = 4
DIGEST = 32  # bytes of SHA-256 after MAGIC
MAX_NAME = 255  # bytes in one path component, as the file system allows
MAX_TARGET = 4095  # a symlink's target, PATH_MAX less the NUL


def header() -> "tuple[int, str, tuple[int, int]]":
    return (FORMAT, __version__, (sys.version_info[0], sys.version_info[1]))


def dump(reader: "Reader", plan: "Plan", found: "list[Diagnostic]", record: str) -> bytes:
    from .write import entries_of

    fingerprint = tuple((kind, key, seen) for (kind, key), seen in sorted(reader.seen.items()))
    lines = tuple((int(d.severity), d.format()) for d in found)
    body = marshal.dumps((header(), fingerprint, tuple(entries_of(plan)), lines, record))
    return MAGIC + sha256(body).digest() + body


def load(data: "bytes | None") -> "Stored | None":
    """The stored plan, or None when it is missing, damaged, from another version, or holds
    anything the compile would not have written."""
    start = len(MAGIC) + DIGEST
    if not data or not data.startswith(MAGIC) or len(data) <= start:
        return None
    body = data[start:]
    if sha256(body).digest() != data[len(MAGIC) : start]:
        return None
    try:
        value: "Any" = marshal.loads(body)
        head, fingerprint, entries, lines, record = value
    except Exception:  # marshal's ValueError, EOFError, TypeError; a wrong shape
        return None
    if head != header() or type(record) is not str:
        return None
    if not (_fingerprint_ok(fingerprint) and _lines_ok(lines) and _entries_ok(entries)):
        return None
    return fingerprint, entries, lines, record


def _fingerprint_ok(fingerprint: "Any") -> bool:
    return type(fingerprint) is tuple and all(
        type(f) is tuple and len(f) == 3 and type(f[0]) is str and type(f[1]) is str for f in fingerprint
    )


def _lines_ok(lines: "Any") -> bool:
    return type(lines) is tuple and all(
        type(ln) is tuple and len(ln) == 2 and type(ln[0]) is int and type(ln[1]) is str for ln in lines
    )


def _entries_ok(entries: "Any") -> bool:
    if type(entries) is not tuple:
        return False
    for e in entries:
        if type(e) is not tuple or len(e) != 4:
            return False
        kind, path, body, mode = e
        if type(mode) is not int or not 0 <= mode <= 0o777 or not path_ok(path):
            return False
        if kind == "f":
            if type(body) is not str and type(body) is not bytes:
                return False
        elif kind != "l" or type(body) is not str or not 0 < len(body) <= MAX_TARGET or "\0" in body:
            return False
    return True


def path_ok(path: "Any") -> bool:
    """A path the compile writes: a name, or one directory and a name (`X.wants/U`, `U.d/C`),
    none of them empty, `.` or `..`, none with a control character or too long: nothing
    that is absolute or can reach outside the output directory."""
    if type(path) is not str:
        return False
    parts = path.split("/")
    if len(parts) > 2:
        return False
    for part in parts:
        # isprintable: no control character (nor a line or paragraph separator), at C speed.
        if part in ("", ".", "..") or not part.isprintable():
            return False
        if len(part.encode("utf-8", "surrogatepass")) > MAX_NAME:
            return False
    return True


def matches(fingerprint: "Fingerprint", root: str, environ: "dict[str, str]", argv0: str) -> bool:
    """Every recorded read answers as it did, byte for byte."""
    from .fingerprint import answer

    return all(answer(kind, key, root, environ, argv0, {}) == seen for kind, key, seen in fingerprint)
