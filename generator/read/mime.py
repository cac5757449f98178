"""MIME multi-part user-data: its parts, each with the lines it occupies in the file.

The standard library's email package parses the document; this module bounds the
work (parts, nesting, decoded bytes) and then finds each part in the text, so that
a diagnostic points at a line of the file the user has: the body's own lines for a
part sent as it is (7bit, 8bit, binary), the part's first header line for one
sent base64 or quoted-printable.  Finding a part means looking for its boundary
line from where the previous part ended and checking that the parser's body is
there; when it is not (a malformed document the parser repaired), the part's
header line stands in.  Nothing here decides what a part means: userdata.py does.

The email package ends a line at CR LF, CR or LF alike, so the limits and the search
for parts see the text with every line end as LF (`one_line_end`): the same lines,
the same numbers.  Each search goes forward only, and a boundary not found from
one place is not looked for again further on, so finding the parts is linear in
the document's size whatever its line ends.
"""

from __future__ import annotations

from email import errors
from email.message import Message
from email.parser import BytesParser

from ccgen.base.diag import Diagnostics, Span

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    SpanAt = Callable[[int, int], Span]

MAX_PARTS = 1000
MAX_NESTING = 8  # multipart levels, the outermost included
# Lines starting "--" (delimiter candidates) that make a document too big to parse at all:
# the email package spends about 20 µs per part, and 16 MiB can hold millions of them.
MAX_DELIMITER_LINES = 20 * MAX_PARTS
# The email package reads line by line, about 0.45 µs a line: 16 MiB of empty lines would
# take 7 s.  Real user-data has a few thousand lines (EC2 allows 16 KiB).
MAX_LINES = 1_000_000
HEADER_BLOCK_MAX = 64 * 1024  # a part's header block longer than this has no end
TRANSFER_ENCODINGS = ("7bit", "8bit", "binary", "base64", "quoted-printable")
VERBATIM = ("7bit", "8bit", "binary")
_HEADER_ERRORS = (ValueError, LookupError, TypeError, UnicodeError)
# The email package decodes bad base64 as best it can and records one of these.
_BASE64_DEFECTS = (
    errors.InvalidBase64CharactersDefect,
    errors.InvalidBase64PaddingDefect,
    errors.InvalidBase64LengthDefect,
)


def refuse(diags: Diagnostics, span: Span, message: str, why: str = "") -> None:
    """A limit that refuses the whole user-data: one error, code mime-limit."""
    detail = "nothing in this user-data is applied"
    diags.error(span, "mime-limit", message, f"{why}; {detail}" if why else detail)


class Budget:
    """Decoded bytes left for a whole user-data: every part's payload after its transfer
    encoding, and what gzip adds when a part is unpacked."""

    def __init__(self, total: int) -> None:
        self.total = total
        self.left = total

    def take(self, n: int) -> bool:
        self.left -= n
        return self.left >= 0


class Part:
    """One leaf part, in document order."""

    __slots__ = (
        "body_line",
        "charset",
        "ctype",
        "declared",
        "encoding",
        "filename",
        "line",
        "number",
        "payload",
        "problem",
        "verbatim",
    )

    def __init__(self, number: int, line: int) -> None:
        self.number = number  # 1-based among the leaf parts
        self.line = line  # the part's first header line (its boundary line when it has none)
        self.body_line = line  # where the body starts, when verbatim
        self.ctype = "text/plain"  # as the email package reads it: text/plain when not given
        self.declared = False  # whether the part has a Content-Type header
        self.charset: str | None = None
        self.filename = ""
        self.encoding = "7bit"
        self.payload = b""  # after the transfer encoding
        self.verbatim = False  # payload is the file's bytes from body_line on
        self.problem = ""  # why the payload could not be decoded

    def label(self, gzipped: bool = False) -> str:
        """How messages name the part: `part 2 "config.yaml" (text/cloud-config, base64)`."""
        name = f' "{self.filename}"' if self.filename else ""
        how = [self.ctype if self.declared else f"{self.ctype} by default"]
        if self.encoding not in VERBATIM:
            how.append(self.encoding)
        if gzipped and "gzip" not in self.ctype:
            how.append("gzip")
        return f"part {self.number}{name} ({', '.join(how)})"


def one_line_end(data: bytes) -> bytes:
    """`data` with CR LF and a lone CR each written as LF: what the email package counts as a
    line end, so that lines and line numbers are the parser's."""
    if b"\r" not in data:
        return data
    return data.replace(b"\r\n", b"\n").replace(b"\r", b"\n")


class _Lines:
    """Line numbers of offsets in one text, counted forward from the last question."""

    def __init__(self, data: bytes) -> None:
        self.data = data
        self.offset = 0
        self.line = 1

    def at(self, offset: int) -> int:
        if offset < self.offset:
            self.offset, self.line = 0, 1
        self.line += self.data.count(b"\n", self.offset, offset)
        self.offset = offset
        return self.line


class _Walker:
    def __init__(self, data: bytes, diags: Diagnostics, span: SpanAt, budget: Budget) -> None:
        self.data = data
        self.lines = _Lines(data)
        self.diags = diags
        self.span = span
        self.budget = budget
        self.parts: list[Part] = []
        self.cursor = 0
        # boundary -> an offset from which its next delimiter line was looked for and none
        # found: none is found from any later offset either, so it is not looked for again.
        self.exhausted: dict[str, int] = {}

    def header_end(self, start: int) -> int:
        """The offset after the blank line that ends the header block at `start`; `start`
        itself when there is none (the parser then took the first line that is no header
        as the body's)."""
        data = self.data
        pos = start
        limit = min(len(data), start + HEADER_BLOCK_MAX)
        while pos < limit:
            nl = data.find(b"\n", pos, limit)
            line_end = nl if nl >= 0 else limit
            if data[pos:line_end].rstrip(b"\r") == b"":
                return line_end + 1 if nl >= 0 else line_end
            if nl < 0:
                break
            pos = nl + 1
        return start

    def delimiter(self, boundary: str, start: int) -> tuple[int, int] | None:
        """(line, offset after it) of the next `--boundary` line from `start`."""
        if self.exhausted.get(boundary, len(self.data) + 1) <= start:
            return None
        data = self.data
        mark = b"--" + boundary.encode("ascii", "surrogateescape")
        pos = start
        while True:
            at = data.find(mark, pos)
            if at < 0:
                self.exhausted[boundary] = start
                return None
            pos = at + len(mark)
            if at > 0 and data[at - 1] != 0x0A:
                continue
            # The rest of the line: "--" for the closing delimiter, then white space only.
            end = pos + 2 if data.startswith(b"--", pos) else pos
            while end < len(data) and data[end] in b" \t":
                end += 1
            if end == len(data):
                return self.lines.at(at), end
            if data[end] == 0x0A:
                return self.lines.at(at), end + 1

    def message(self, msg: Message, start: int, line: int, depth: int) -> bool:
        """Walk `msg`, whose header block starts at offset `start` (line `line`); False when a
        limit stops the whole document."""
        end = self.header_end(start)
        if msg.get_content_maintype() == "multipart":
            if depth >= MAX_NESTING:
                refuse(
                    self.diags,
                    self.span(line, 1),
                    f"multipart parts are nested deeper than {MAX_NESTING} levels",
                )
                return False
            return self.container(msg, end, line, depth)
        return self.leaf(msg, start, end, line)

    def container(self, msg: Message, body: int, line: int, depth: int) -> bool:
        boundary = msg.get_boundary()
        children = msg.get_payload()
        if boundary is None or not isinstance(children, list):
            why = (
                "it has no boundary parameter" if boundary is None else f'"--{boundary}" never starts a line'
            )
            self.diags.error(
                self.span(line, 1), "mime", "a multipart document without parts", f"{why}; nothing is used"
            )
            return True
        cursor = body
        for child in children:
            found = self.delimiter(boundary, cursor)
            if found is None:
                child_line, child_start = line, cursor
            else:
                child_line, child_start = found
                if self.header_end(child_start) > child_start + 2:
                    child_line += 1  # point at the first header, not at the boundary
            if not isinstance(child, Message) or not self.message(child, child_start, child_line, depth + 1):
                return False
            cursor = max(cursor, self.cursor)
        if any(isinstance(d, errors.CloseBoundaryNotFoundDefect) for d in msg.defects):
            last = self.data.count(b"\n", 0, len(self.data.rstrip(b"\r\n"))) + 1
            self.diags.warning(
                self.span(last, 1),
                "mime",
                f'the closing boundary "--{boundary}--" is missing',
                "the user-data may have been cut short; the parts found are used",
            )
        return True

    @staticmethod
    def read(msg: Message, part: Part) -> bytes | None:
        """The part's headers into `part`; its payload after the transfer encoding, or None
        when there is none to use."""
        part.ctype = msg.get_content_type()
        part.declared = msg.get("content-type") is not None
        part.charset = msg.get_content_charset()
        part.filename = msg.get_filename() or ""
        if msg.is_multipart():
            return None  # message/rfc822 and the like: a type userdata.py does not use
        part.encoding = str(msg.get("content-transfer-encoding") or "7bit").strip().lower()
        if part.encoding not in TRANSFER_ENCODINGS:
            part.problem = f'unknown Content-Transfer-Encoding "{part.encoding}"'
            return None
        decoded = msg.get_payload(decode=True)  # decode=True never decodes by charset
        return decoded if isinstance(decoded, bytes) else b""

    def leaf(self, msg: Message, start: int, end: int, line: int) -> bool:
        if len(self.parts) >= MAX_PARTS:
            refuse(self.diags, self.span(line, 1), f"more than {MAX_PARTS} MIME parts")
            return False
        part = Part(len(self.parts) + 1, line)
        self.parts.append(part)
        self.cursor = end
        try:
            payload = self.read(msg, part)
        except _HEADER_ERRORS as e:
            # The email package tolerates almost anything, but a header it cannot decode
            # (an RFC 2231 parameter in an unknown charset) can still raise: the part's loss.
            part.problem = f"its headers cannot be read ({type(e).__name__}: {e})"
            return True
        if payload is None:
            return True
        if part.encoding in VERBATIM:
            # Undecoded, the payload is the file's own bytes (a part's body never includes
            # the line break before the next boundary).
            data = self.data
            text = one_line_end(payload)
            # A repaired document's body may lie elsewhere: looked for near the part only.
            near = min(len(data), end + len(text) + HEADER_BLOCK_MAX)
            body = end if data.startswith(text, end) else (data.find(text, start, near) if text else end)
            if body >= 0:
                part.verbatim = True
                part.body_line = self.lines.at(body)
                self.cursor = body + len(text)
        if part.encoding == "base64" and any(isinstance(d, _BASE64_DEFECTS) for d in msg.defects):
            part.problem = "the base64 payload is not valid base64"
            return True
        if not self.budget.take(len(payload)):
            refuse(self.diags, self.span(line, 1), f"the parts decode to more than {self.budget.total} bytes")
            return False
        part.payload = payload
        return True


def split(data: bytes, diags: Diagnostics, span: SpanAt, budget: Budget) -> list[Part] | None:
    """The leaf parts of MIME document `data` in document order, or None (reported) when a
    limit refuses the whole document.  `span` turns a line and column of `data` into
    the Span a diagnostic gets."""
    text = one_line_end(data)
    lines = text.count(b"\n")
    if lines > MAX_LINES:
        refuse(diags, span(1, 1), f"a MIME document of more than {MAX_LINES} lines", f"it has {lines}")
        return None
    candidates = text.count(b"\n--")
    if candidates > MAX_DELIMITER_LINES:
        refuse(diags, span(1, 1), f"more than {MAX_PARTS} MIME parts", f"{candidates} lines start with --")
        return None
    try:
        msg = BytesParser().parsebytes(data)
    except RecursionError:
        refuse(diags, span(1, 1), f"multipart parts are nested deeper than {MAX_NESTING} levels")
        return None
    walker = _Walker(text, diags, span, budget)
    try:
        if not walker.message(msg, 0, 1, 0):
            return None
    except _HEADER_ERRORS as e:  # see leaf(): never seen outside a part's own headers
        diags.error(
            span(1, 1),
            "mime",
            "the MIME structure cannot be read",
            f"{type(e).__name__}: {e}; nothing is used",
        )
        return None
    return walker.parts
