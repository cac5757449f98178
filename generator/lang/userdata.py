"""User-data beyond one plain file: MIME multi-part, gzip'd scripts and #include.

compile.parse hands over every document that is not a plain `#cloud-config` or an
uncompressed `#!` script.  Each piece (a part, an included document) is compiled
as a document of its own and the pieces are merged in order with model.merge,
later over earlier, exactly as the OEM config and the user's are (docs/units.md).

Positions: every diagnostic points at a line of the input file.  A part sent as
it is keeps its own lines (its nodes are moved down by the lines above it).  A part that had to be decoded
(base64, quoted-printable, gzip) or a document fetched for an #include has lines
of its own that are not in the file: diagnostics inside it point at the part's
header line, or the include's URL line, and say where in the decoded text they
are.  Either way the diagnostic's detail names the part.
"""

from __future__ import annotations

from ccgen.base import cache, rules
from ccgen.base.diag import Diagnostics, Span
from ccgen.bootpath.digest import sha256
from ccgen.read import compose, formats, kinds, nodes, source

from . import build, model, schema, validate
from .model import CloudConfig, Script

TYPE_CHECKING = False
if TYPE_CHECKING:
    from collections.abc import Callable

    from ccgen.read import mime
    from ccgen.read.inputs import Input

    Includes = Callable[[str], "bytes | None"]

MAX_BYTES = rules.MAX_BYTES
MAX_INCLUDE_DEPTH = 4  # an included document may include, this many levels down
MAX_INCLUDES = 32  # URLs followed for one input, at every level together

CLOUD_CONFIG_TYPES = ("text/cloud-config",)
# cloud-init runs text/x-shellscript once per instance, as ccgen runs every script.
SCRIPT_TYPES = ("text/x-shellscript", "text/x-shellscript-per-instance")
SNIFFED_TYPES = ("text/plain", "text/x-not-multipart")
GZIP_TYPES = (
    "application/gzip",
    "application/gzip-compressed",
    "application/gzipped",
    "application/x-compress",
    "application/x-compressed",
    "application/x-gunzip",
    "application/x-gzip",
    "application/x-gzip-compressed",
)
INCLUDE_TYPES = ("text/x-include-url", "text/x-include-once-url")
# cloud-init's other part types: what each is, and what ccgen accepts instead.
UNSUPPORTED = {
    "text/cloud-boothook": ("a cloud-init boothook", "send a text/x-shellscript part"),
    "text/part-handler": ("a cloud-init part handler", "ccgen runs no handlers"),
    "text/jinja2": ("a cloud-init Jinja template", "render it before sending it"),
    "text/cloud-config-archive": ("a cloud-config archive", "send its parts as parts of this document"),
    "text/cloud-config-jsonp": ("a JSON patch", "a later text/cloud-config part overrides earlier ones"),
    "text/x-shellscript-per-boot": (
        "a script for every boot",
        "ccgen runs each script once per instance (text/x-shellscript)",
    ),
    "text/x-shellscript-per-once": (
        "a script for the first boot only",
        "ccgen runs each script once per instance (text/x-shellscript)",
    ),
    "text/upstart-job": ("an upstart job", "send a unit in coreos.units"),
}


class PartSpan(Span):
    """A position in the input file that lies inside a part; `note` names the part and,
    for a decoded one, the position in its decoded text.  Diagnostics.add puts the note
    into the diagnostic's detail."""

    __slots__ = ("note",)

    def __init__(self, file: str, line: int, column: int, note: str) -> None:
        super().__init__(file, line, column)
        self.note = note


class Region:
    """Where a piece's text lies in the text around it.  Without an anchor the piece's
    lines are the surrounding text's lines; with one, the piece is text of its own
    (decoded, unpacked or fetched) reported at the anchor."""

    __slots__ = ("anchor", "label", "parent", "path", "words")

    def __init__(
        self,
        path: str,
        label: str,
        parent: Region | None,
        anchor: tuple[int, int] | None = None,
        words: str = "",
    ) -> None:
        self.path = path
        self.label = label
        self.parent = parent
        self.anchor = anchor
        self.words = words  # what the anchored text is called: "its decoded text"

    def span(self, line: int, column: int) -> Span:
        notes = []
        r: Region | None = self
        while r is not None:
            if r.anchor is None:
                notes.append(f"in {r.label}")
            else:
                notes.append(f"in {r.label}, at line {line}, column {column} of {r.words}")
                line, column = r.anchor
            r = r.parent
        return PartSpan(self.path, line, column, "; ".join(notes))


def _at(region: Region | None, path: str, line: int, column: int) -> Span:
    return Span(path, line, column) if region is None else region.span(line, column)


class _Refused(Exception):
    """A limit refuses the whole user-data (reported where it was found)."""


def _shift(root: nodes.Node | None, lines: int) -> None:
    """Move a composed piece's nodes down to the lines it has in the file (a part sent as it
    is).  Composing the piece alone and moving its nodes, rather than composing it behind
    blank lines, keeps the work proportional to the piece, wherever it sits in the file."""
    if root is None or not lines:
        return
    seen: set[int] = set()
    todo = [root]
    while todo:
        n = todo.pop()
        if id(n) in seen:
            continue  # an alias: one node, reached twice
        seen.add(id(n))
        n.line += lines
        if isinstance(n, nodes.Mapping):
            for k, v in n.pairs:
                todo += (k, v)
        elif isinstance(n, nodes.Sequence):
            todo.extend(n.items)


def _fetchable(url: str) -> bool:
    """What the fetch unit fetches and the generator looks for in the cache."""
    return url.lower().startswith(("http://", "https://")) and rules.is_url(url)


def _codec(charset: str | None) -> str:
    """A part's declared charset as a codec; the fetch unit's include_urls reads parts the same way."""
    return "utf-8" if charset in (None, "utf-8", "utf8", "us-ascii", "ascii") else charset


class _Compiler:
    def __init__(
        self, path: str, diags: Diagnostics, values: dict[str, str] | None, includes: Includes | None
    ) -> None:
        self.path = path
        self.diags = diags
        self.values = values
        self.includes = includes
        self.budget: mime.Budget | None = None  # made by the first MIME document: mime imports email
        self.followed = 0
        self.scripts: dict[str, str] = {}  # digest -> where it was first found

    def transfer(self, sub: Diagnostics, region: Region | None, lines: int = 0) -> None:
        """Diagnostics made for a piece's own text, moved to their place in the input file
        (`lines`: how far down the surrounding text the piece starts)."""
        for d in sub.sorted():
            span = _at(region, self.path, d.span.line + lines, d.span.column)
            self.diags.add(span, d.severity, d.code, d.message, d.detail)

    # Documents

    def document(self, doc: source.Document, region: Region | None, depth: int) -> list[CloudConfig]:
        if doc.kind == kinds.CLOUD_CONFIG:
            return [self.cloud_config(doc.text, region)]
        if doc.kind == kinds.SCRIPT:
            # The whole input (gzip'd) keeps the unit name a plain script has; an included one
            # is named after its digest.
            whole = self.path if region is None else ""
            name = self.path.rpartition("/")[2] if region is None else ""
            found = self.script(doc.data, _at(region, self.path, 1, 1), "this script", whole, name)
            return [found] if found is not None else []
        if doc.kind == kinds.MIME:
            return self.multipart(doc.data, region, depth)
        if doc.kind == kinds.INCLUDE:
            return self.include(doc.data.decode("utf-8", "replace"), region, depth)
        return []

    def fetched(self, url: str, data: bytes, region: Region, depth: int) -> list[CloudConfig]:
        """An included document: any format an input may have, classified on its own."""
        sub = Diagnostics()
        doc = source.classify(url, data, sub)
        self.transfer(sub, region)
        if doc is None or doc.kind == kinds.EMPTY:
            return []
        return self.document(doc, region, depth)

    def cloud_config(self, text: str, region: Region | None, lines: int = 0) -> CloudConfig:
        sub = Diagnostics()
        root = compose.compose(text, self.path, sub)
        self.transfer(sub, region, lines)
        _shift(root, lines)
        if region is None:
            top = validate.check(root, self.path, self.diags)
        else:
            r = region
            top = validate.check(root, self.path, self.diags, lambda f, line, col: r.span(line, col))
        values = self.values if self.values is not None and "$" in text else None
        return build.build(self.path, top, self.diags, values)

    def script(
        self, data: bytes, span: Span, what: str, path: str = "", name: str = ""
    ) -> CloudConfig | None:
        """A script that runs from where ccgen apply writes it; its unit is named after `path`
        (the input, when the script is the whole input), else after its digest, and
        described by `name` (a MIME part's file name)."""
        first = data.split(b"\n", 1)[0]
        if not first.startswith(b"#!"):
            self.diags.error(span, "script", f"{what} must begin with #!", "it is not run")
            return None
        argv = source.interpreter(first, span, self.diags)
        if argv is None:
            return None
        digest = sha256(data).hexdigest()
        earlier = self.scripts.get(digest)
        if earlier is not None:
            self.diags.info(span, "script-repeated", f"the same script as {earlier}", "it runs once")
            return None
        self.scripts[digest] = str(span)
        script = Script(path or cache.script_path(digest), tuple(argv), span, digest, data, name)
        return CloudConfig((self.path,), scripts=(script,))

    # MIME

    def multipart(self, data: bytes, region: Region | None, depth: int) -> list[CloudConfig]:
        from ccgen.read import mime

        if self.budget is None:
            self.budget = mime.Budget(MAX_BYTES)
        parts = mime.split(data, self.diags, lambda line, col: _at(region, self.path, line, col), self.budget)
        if parts is None:
            raise _Refused
        out: list[CloudConfig] = []
        for part in parts:
            out += self.part(part, region, depth)
        return out

    def part(self, p: mime.Part, region: Region | None, depth: int) -> list[CloudConfig]:
        label = p.label()
        whole = Region(self.path, label, region).span(p.line, 1)
        if p.problem:
            self.diags.error(whole, "mime-part", p.problem, "this part is skipped")
            return []
        data, ctype, verbatim = p.payload, p.ctype, p.verbatim
        if ctype in GZIP_TYPES or data[:2] == b"\x1f\x8b":
            unpacked = source.gunzip(data, whole, self.diags, "; this part is skipped")
            if unpacked is None:
                return []
            assert self.budget is not None  # made by multipart(), the only caller
            if not self.budget.take(len(unpacked) - len(data)):
                from ccgen.read import mime  # loaded already: parts come from multipart()

                mime.refuse(self.diags, whole, f"the parts decode to more than {self.budget.total} bytes")
                raise _Refused
            data, verbatim, label = unpacked, False, p.label(gzipped=True)
            whole = Region(self.path, label, region).span(p.line, 1)
        if verbatim:
            content = Region(self.path, label, region)
            offset = p.body_line - 1
        else:
            content = Region(self.path, label, region, (p.line, 1), "its decoded text")
            offset = 0
        kind = self.kind_of(ctype, data, whole)
        if kind == formats.CLOUD_CONFIG:
            text = self.text(data, p.charset, content, offset)
            return [] if text is None else [self.cloud_config(text, content, offset)]
        if kind == formats.SCRIPT:
            span = content.span(p.body_line, 1) if verbatim else whole
            found = self.script(data, span, f"a {ctype} part", name=p.filename.rpartition("/")[2])
            return [found] if found is not None else []
        if kind == formats.INCLUDE:
            text = self.text(data, p.charset, content, offset)
            return [] if text is None else self.include(text, content, depth, offset)
        return []

    def kind_of(self, ctype: str, data: bytes, whole: Span) -> str | None:
        """What to do with a part: its declared type decides, text/plain is sniffed."""
        if ctype in CLOUD_CONFIG_TYPES:
            return formats.CLOUD_CONFIG
        if ctype in SCRIPT_TYPES:
            return formats.SCRIPT
        if ctype in INCLUDE_TYPES:
            return formats.INCLUDE
        if ctype in UNSUPPORTED:
            what, instead = UNSUPPORTED[ctype]
            self.diags.warning(whole, "mime-part", f"{ctype} is {what}, which ccgen does not use", instead)
            return None
        if ctype not in SNIFFED_TYPES and ctype not in GZIP_TYPES:
            self.diags.warning(
                whole, "mime-part", f"ccgen does not use parts of type {ctype}", "this part is skipped"
            )
            return None
        if not data.strip():
            return None
        found = formats.sniff(data)
        if found.kind in (formats.CLOUD_CONFIG, formats.SCRIPT, formats.INCLUDE):
            return found.kind
        if found.kind == formats.IGNITION:
            self.diags.info(whole, "ignition", "an Ignition config is not cloud-config; skipped")
        elif found.kind == formats.REFUSED:
            self.diags.warning(
                whole, "mime-part", f"this part is {found.what}, which ccgen does not use", found.instead
            )
        else:
            self.diags.warning(
                whole,
                "mime-part",
                "this part is neither cloud-config nor a script",
                'its first line is not "#cloud-config", "#!" or "#include"; it is skipped',
            )
        return None

    def text(self, data: bytes, charset: str | None, content: Region, offset: int) -> str | None:
        codec = _codec(charset)
        try:
            return data.decode(codec)
        except LookupError:
            self.diags.error(content.span(offset + 1, 1), "encoding", f'unknown charset "{charset}"')
        except UnicodeDecodeError as e:
            line, column = source.position(data, e.start)
            what = "cloud-config is not valid UTF-8" if codec == "utf-8" else f"the part is not valid {codec}"
            self.diags.error(content.span(offset + line, column), "encoding", what)
        return None

    # #include and text/x-include-url

    def include(self, text: str, region: Region | None, depth: int, lines: int = 0) -> list[CloudConfig]:
        out: list[CloudConfig] = []
        for number, url in formats.include_urls(text):
            line = number + lines
            where = _at(region, self.path, line, 1)
            if not _fetchable(url):
                self.diags.error(
                    where, "include", f"cannot include {url}", "only http:// and https:// URLs are fetched"
                )
                continue
            if depth >= MAX_INCLUDE_DEPTH or self.followed >= MAX_INCLUDES:
                limit = (
                    f"includes nest deeper than {MAX_INCLUDE_DEPTH} levels"
                    if depth >= MAX_INCLUDE_DEPTH
                    else f"more than {MAX_INCLUDES} includes"
                )
                self.diags.warning(where, "include", f"{url} is not included", limit)
                continue
            self.followed += 1
            if self.includes is None:
                self.diags.info(
                    where, "include-unchecked", f"{url} is fetched at boot", "this command does not fetch it"
                )
                continue
            data = self.includes(url)
            if data is None:
                self.diags.warning(
                    where,
                    "include",
                    f"{url} is not in the cache",
                    "the fetch unit has not fetched it (yet); nothing from it is applied",
                )
                continue
            inner = Region(self.path, url, region, (line, 1), "that document")
            out += self.fetched(url, data, inner, depth + 1)
        return out

    def merged(self, found: list[CloudConfig]) -> CloudConfig | None:
        if not found:
            return None
        config = model.merge(found, schema.MERGE_ORDER)
        if config.paths != (self.path,):
            # A fresh record from merge that nobody has seen yet: one input, one path.
            object.__setattr__(config, "paths", (self.path,))
        return config


def parse(
    inp: Input,
    doc: source.Document,
    diags: Diagnostics,
    values: dict[str, str] | None,
    includes: Includes | None,
) -> CloudConfig | None:
    """The model of a MIME, #include or compressed-script document; None when nothing in it
    can be used or a limit refuses it whole."""
    c = _Compiler(inp.path, diags, values, includes)
    try:
        return c.merged(c.document(doc, None, 0))
    except _Refused:
        return None


def include_urls(data: bytes) -> list[str]:
    """Every URL a document includes at its own level (gzip unpacked, MIME parts looked
    into), for the fetch unit; no diagnostics: the generator reports the problems."""
    sub = Diagnostics()
    doc = source.classify("-", data, sub)
    if doc is None:
        return []
    if doc.kind == kinds.INCLUDE:
        texts: list[tuple[bytes, str | None]] = [(doc.data, None)]
    elif doc.kind == kinds.MIME:
        from ccgen.read import mime

        parts = mime.split(doc.data, sub, lambda line, col: Span("-", line, col), mime.Budget(MAX_BYTES))
        texts = []
        for p in parts or []:
            payload = p.payload
            if p.problem:
                continue
            if p.ctype in GZIP_TYPES or payload[:2] == b"\x1f\x8b":
                try:
                    payload = rules.gunzip(payload, MAX_BYTES)
                except rules.DecodeError:
                    continue
            if p.ctype in INCLUDE_TYPES or (
                p.ctype in SNIFFED_TYPES + GZIP_TYPES and formats.sniff(payload).kind == formats.INCLUDE
            ):
                texts.append((payload, p.charset))
    else:
        return []
    urls = []
    for data, charset in texts:
        try:
            text = data.decode(_codec(charset))
        except (LookupError, UnicodeDecodeError):
            continue  # the generator reports it and includes nothing from it: neither does this
        for _, url in formats.include_urls(text):
            if _fetchable(url):
                urls.append(url)
    return list(dict.fromkeys(urls))
