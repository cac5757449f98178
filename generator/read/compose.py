"""YAML text in, positioned nodes out: the compiled fast path, or PyYAML events.

The tree is built iteratively from the event stream rather than with PyYAML's
recursive composer, so that a document nested 10,000 levels deep is a
diagnostic and not a RecursionError, and so that alias expansion can be
budgeted (a "billion laughs" document must not take the boot down).
"""

from __future__ import annotations

from ccgen.base.diag import Diagnostics, Span

from . import nodes, yaml11
from .nesting import MAX_DEPTH as MAX_DEPTH  # the JSON readers' bound too: one for every parser

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

# An alias-free document cannot have more nodes than characters, so a budget in
# characters only ever bites when aliases multiply the tree.
MIN_EXPANSION_BUDGET = 200_000
# Whatever the input, at most this many nodes: the ceiling that bounds time and memory
# (docs/limits.md).  A config of 1000 units is about 20,000.
MAX_NODES = 1_000_000
# Aliases share nodes, but every later stage sees each use: the text they expand to is
# budgeted too, or 1 MiB referenced 100,000 times would become 100 GB.
MIN_TEXT_BUDGET = 32 * 1024 * 1024


class Abort(Exception):
    def __init__(self, line: int, column: int, code: str, message: str) -> None:
        super().__init__(message)
        self.line = line
        self.column = column
        self.code = code
        self.message = message


class _Frame:
    __slots__ = ("anchor", "key", "node", "start_count", "start_text")

    def __init__(self, node: nodes.Mapping | nodes.Sequence, anchor: str | None, start: int, start_text: int):
        self.node = node
        self.anchor = anchor
        self.key: nodes.Node | None = None
        self.start_count = start
        self.start_text = start_text


def compose(text: str, filename: str, diags: Diagnostics) -> nodes.Node | None:
    """The first document of `text`, or None when it is empty or broken.

    The compiled fast path (ccgen.ext) takes every document it can build without
    a diagnostic; anything else (a syntax error, a limit, an unknown tag, a second
    document) goes to the reference path below, so both give the same results.
    """
    from ccgen import ext

    if ext.compose is not None:
        done, root = ext.compose(text)
        if done:
            assert not isinstance(root, tuple)
            return root
        if isinstance(root, tuple):
            code, line, column = root
            e = (
                too_many(line, column)
                if code == "yaml-size"
                else bomb(line, column, expansion_budget(text), text_budget(text))
            )
            diags.error(Span(filename, e.line, e.column), e.code, e.message)
            return None
    return compose_reference(text, filename, diags)


def expansion_budget(text: str) -> int:
    return min(MAX_NODES, max(MIN_EXPANSION_BUDGET, len(text)))


def text_budget(text: str) -> int:
    return max(MIN_TEXT_BUDGET, 2 * len(text))


def too_many(line: int, column: int) -> Abort:
    return Abort(line, column, "yaml-size", f"the document has more than {MAX_NODES} YAML nodes")


def bomb(line: int, column: int, nodes_budget: int, text: int) -> Abort:
    return Abort(
        line,
        column,
        "yaml-alias-bomb",
        f"aliases expand the document beyond {nodes_budget} nodes or {text} characters",
    )


def scalar_tag(tag: str | None, plain: bool, value: str) -> str | None:
    """The resolved tag of a scalar; None for an explicit tag ccgen does not know."""
    if tag is None:
        return yaml11.resolve_plain(value) if plain else nodes.STR
    if tag == "!":
        return nodes.STR
    if tag.startswith(yaml11.TAG_PREFIX):
        return yaml11.EXPLICIT_TAGS.get(tag[len(yaml11.TAG_PREFIX) :])
    return None


def _within(text: str, line: int, column: int) -> tuple[int, int]:
    """An error at the end of the input, after its last line end, is reported at the end
    of the file's last line: the line after it does not exist."""
    lines = text.split("\n")
    if text.endswith("\n"):
        lines.pop()
    if lines and line > len(lines):
        return len(lines), len(lines[-1]) + 1
    return line, column


def compose_reference(text: str, filename: str, diags: Diagnostics) -> nodes.Node | None:
    """PyYAML's pure-Python parser: the reference every other path must equal."""
    import yaml

    loader = None
    try:
        # The pure loader reads (and may reject) the whole text in its constructor.
        loader = yaml.SafeLoader(text)
        return _compose(loader, text, filename, diags)
    except Abort as e:
        diags.error(Span(filename, e.line, e.column), e.code, e.message)
        return None
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        line, column = (mark.line + 1, mark.column + 1) if mark is not None else (1, 1)
        line, column = _within(text, line, column)
        # The message is the YAML library's problem, as the original reported it (libyaml's
        # words, which PyYAML shares); what it was doing, and ccgen's hint, are the detail.
        message = e.problem or e.context or "invalid YAML"
        detail = e.context if e.problem and e.context else ""
        if mark is not None and 0 <= mark.index < len(text) and text[mark.index] == "\t":
            message = "found character that cannot start any token"
            detail = "a tab cannot indent YAML; use spaces"
        diags.error(Span(filename, line, column), "yaml-syntax", message, detail)
        return None
    except yaml.YAMLError as e:
        # Reader errors (control characters) carry a character offset, not a mark.
        pos = getattr(e, "position", None)
        line, column = _line_col(text, pos) if isinstance(pos, int) else (1, 1)
        reason = getattr(e, "reason", None) or str(e).splitlines()[0]
        diags.error(Span(filename, line, column), "yaml-syntax", reason, "the text cannot be read as YAML")
        return None
    finally:
        if loader is not None:
            loader.dispose()


def _line_col(text: str, offset: int) -> tuple[int, int]:
    line = text.count("\n", 0, offset) + 1
    column = offset - (text.rfind("\n", 0, offset) + 1) + 1
    return line, column


def _compose(loader: Any, text: str, filename: str, diags: Diagnostics) -> nodes.Node | None:
    import yaml

    budget = expansion_budget(text)
    chars_budget = text_budget(text)
    count = chars = 0
    anchors: dict[str, tuple[nodes.Node, int, int]] = {}
    stack: list[_Frame] = []
    root: nodes.Node | None = None
    done = False

    def attach(node: nodes.Node) -> None:
        nonlocal root
        if not stack:
            root = node
            return
        top = stack[-1]
        if isinstance(top.node, nodes.Sequence):
            top.node.items.append(node)
        elif top.key is None:
            top.key = node
        else:
            top.node.pairs.append((top.key, node))
            top.key = None

    while not done:
        ev = loader.get_event()
        if ev is None:
            break
        mark = ev.start_mark
        line, column = mark.line + 1, mark.column + 1
        if isinstance(ev, yaml.ScalarEvent):
            tag = scalar_tag(ev.tag, not ev.style, ev.value)
            if tag is None:
                diags.warning(
                    Span(filename, line, column),
                    "yaml-tag",
                    f"unknown tag {ev.tag}; the value is read as a string",
                )
                tag = nodes.STR
            node: nodes.Node = nodes.Scalar(tag, ev.value, bool(ev.style), line, column)
            count += 1
            chars += len(ev.value)
            if count > MAX_NODES:
                raise too_many(line, column)
            if ev.anchor is not None:
                anchors[ev.anchor] = (node, 1, len(ev.value))
            attach(node)
        elif isinstance(ev, (yaml.MappingStartEvent, yaml.SequenceStartEvent)):
            if len(stack) >= MAX_DEPTH:
                raise Abort(line, column, "yaml-depth", f"nesting is deeper than {MAX_DEPTH} levels")
            coll: nodes.Mapping | nodes.Sequence
            if isinstance(ev, yaml.MappingStartEvent):
                coll = nodes.Mapping([], line, column)
            else:
                coll = nodes.Sequence([], line, column)
            count += 1
            if count > MAX_NODES:
                raise too_many(line, column)
            if ev.anchor is not None:
                # Registered at the end: an alias to an unfinished node is a cycle.
                anchors.pop(ev.anchor, None)
            stack.append(_Frame(coll, ev.anchor, count, chars))
        elif isinstance(ev, (yaml.MappingEndEvent, yaml.SequenceEndEvent)):
            frame = stack.pop()
            if isinstance(frame.node, nodes.Mapping):
                flatten_merges(frame.node)
            if frame.anchor is not None:
                anchors[frame.anchor] = (frame.node, count - frame.start_count + 1, chars - frame.start_text)
            attach(frame.node)
        elif isinstance(ev, yaml.AliasEvent):
            target = anchors.get(ev.anchor or "")
            if target is None:
                raise Abort(
                    line,
                    column,
                    "yaml-alias",
                    f"alias *{ev.anchor} refers to no finished anchor (undefined or recursive)",
                )
            count += target[1]
            chars += target[2]
            if count > budget or chars > chars_budget:
                raise bomb(line, column, budget, chars_budget)
            attach(target[0])
        elif isinstance(ev, yaml.DocumentEndEvent):
            done = True
    if done:
        try:
            nxt = loader.peek_event()
        except yaml.YAMLError:
            nxt = None
        m = nxt.start_mark if isinstance(nxt, yaml.DocumentStartEvent) else None
        if m is not None:
            diags.info(
                Span(filename, m.line + 1, m.column + 1),
                "yaml-extra-document",
                "only the first YAML document is used; the rest is ignored",
            )
    return root


def flatten_merges(mapping: nodes.Mapping) -> None:
    """Apply `<<` merge keys: explicit keys win, then earlier merge sources."""
    if not any(isinstance(k, nodes.Scalar) and k.tag == nodes.MERGE for k, _ in mapping.pairs):
        return
    explicit: list[tuple[nodes.Node, nodes.Node]] = []
    sources: list[nodes.Mapping] = []
    for key, value in mapping.pairs:
        if isinstance(key, nodes.Scalar) and key.tag == nodes.MERGE:
            if isinstance(value, nodes.Mapping):
                sources.append(value)
            elif isinstance(value, nodes.Sequence) and all(isinstance(v, nodes.Mapping) for v in value.items):
                sources.extend(v for v in value.items if isinstance(v, nodes.Mapping))
            else:
                raise Abort(
                    value.line,
                    value.column,
                    "yaml-merge",
                    "a merge key (<<) needs a mapping or a list of mappings",
                )
        else:
            explicit.append((key, value))
    seen = {(k.tag, k.text) for k, _ in explicit if isinstance(k, nodes.Scalar)}
    merged: list[tuple[nodes.Node, nodes.Node]] = []
    for src in sources:
        for key, value in src.pairs:
            ident = (key.tag, key.text) if isinstance(key, nodes.Scalar) else None
            if ident is None or ident in seen:
                continue
            seen.add(ident)
            merged.append((key, value))
    mapping.pairs = merged + explicit
