# cython: language_level=3
"""libyaml's events straight into ccgen's node tree, without PyYAML.

Equality with the reference path (ccgen.read.compose.compose_reference) is kept by
construction: the node classes, YAML 1.1 typing (scalar_tag), merge keys
(flatten_merges) and limits are the reference's own Python code, and this
module never produces a diagnostic.  Whenever the reference would say
something (a syntax error, an unknown tag, a second document), the whole
document is handed back to it.  A document over a size limit is the exception:
the reference would spend many seconds reaching the same node, so this module
names the limit and its position, and compose.py reports it as the reference
does.
"""

from ccgen.read import compose as _compose
from ccgen.read import nodes as _nodes

cdef extern from "yaml.h":
    ctypedef enum yaml_event_type_t:
        YAML_NO_EVENT
        YAML_STREAM_START_EVENT
        YAML_STREAM_END_EVENT
        YAML_DOCUMENT_START_EVENT
        YAML_DOCUMENT_END_EVENT
        YAML_ALIAS_EVENT
        YAML_SCALAR_EVENT
        YAML_SEQUENCE_START_EVENT
        YAML_SEQUENCE_END_EVENT
        YAML_MAPPING_START_EVENT
        YAML_MAPPING_END_EVENT
    ctypedef enum yaml_scalar_style_t:
        YAML_ANY_SCALAR_STYLE
        YAML_PLAIN_SCALAR_STYLE
        YAML_SINGLE_QUOTED_SCALAR_STYLE
        YAML_DOUBLE_QUOTED_SCALAR_STYLE
        YAML_LITERAL_SCALAR_STYLE
        YAML_FOLDED_SCALAR_STYLE
    ctypedef struct yaml_mark_t:
        size_t index
        size_t line
        size_t column
    ctypedef struct _alias_data:
        unsigned char *anchor
    ctypedef struct _scalar_data:
        unsigned char *anchor
        unsigned char *tag
        unsigned char *value
        size_t length
        yaml_scalar_style_t style
    ctypedef struct _collection_data:
        unsigned char *anchor
        unsigned char *tag
    ctypedef union _event_data:
        _alias_data alias
        _scalar_data scalar
        _collection_data sequence_start
        _collection_data mapping_start
    ctypedef struct yaml_event_t:
        yaml_event_type_t type
        _event_data data
        yaml_mark_t start_mark
        yaml_mark_t end_mark
    ctypedef struct yaml_parser_t:
        pass
    int yaml_parser_initialize(yaml_parser_t *parser)
    void yaml_parser_delete(yaml_parser_t *parser)
    void yaml_parser_set_input_string(yaml_parser_t *parser, const unsigned char *input, size_t size)
    int yaml_parser_parse(yaml_parser_t *parser, yaml_event_t *event)
    void yaml_event_delete(yaml_event_t *event)


cdef inline bint _block_header_ok(str text, Py_ssize_t start):
    """PyYAML wants a space or a line break right after a block scalar's indicators
    (`|#` and `|-\t` are errors to it; libyaml takes them)."""
    cdef Py_ssize_t i = start + 1, n = len(text)
    while i < n and text[i] in "+-0123456789":
        i += 1
    return i == n or text[i] in " \r\n\x85\u2028\u2029"


cdef inline object _text(unsigned char *s):
    if s == NULL:
        return None
    return (<bytes>s).decode("utf-8")


cdef class _Frame:
    cdef object node
    cdef object anchor
    cdef object key
    cdef Py_ssize_t start
    cdef Py_ssize_t start_chars
    cdef bint is_map


cdef object _build(yaml_parser_t *parser, str source, Py_ssize_t budget, Py_ssize_t text_budget, list scalars):
    cdef yaml_event_t event
    cdef list stack = []
    cdef dict anchors = {}
    cdef Py_ssize_t count = 0, chars = 0
    cdef Py_ssize_t max_nodes = _compose.MAX_NODES
    cdef Py_ssize_t max_depth = _compose.MAX_DEPTH
    cdef _Frame frame, top
    cdef object root = None, node, tag, anchor, value, target
    cdef bint done = False
    cdef bint block
    cdef int line, column
    Scalar, Mapping, Sequence = _nodes.Scalar, _nodes.Mapping, _nodes.Sequence
    scalar_tag, flatten_merges = _compose.scalar_tag, _compose.flatten_merges
    while not done:
        if not yaml_parser_parse(parser, &event):
            return False, None
        try:
            line = event.start_mark.line + 1
            column = event.start_mark.column + 1
            node = None
            if event.type == YAML_SCALAR_EVENT:
                plain = event.data.scalar.style == YAML_PLAIN_SCALAR_STYLE
                if plain and event.data.scalar.length == 0:
                    # An implied null: libyaml and PyYAML place it differently at times.
                    return False, None
                value = (<bytes>event.data.scalar.value[:event.data.scalar.length]).decode("utf-8")
                tag = scalar_tag(_text(event.data.scalar.tag), plain, value)
                if tag is None:
                    return False, None
                node = Scalar(tag, value, not plain, line, column)
                count += 1
                chars += len(value)
                if count > max_nodes:
                    return False, ("yaml-size", line, column)
                block = (event.data.scalar.style == YAML_LITERAL_SCALAR_STYLE
                         or event.data.scalar.style == YAML_FOLDED_SCALAR_STYLE)
                if block and not _block_header_ok(source, event.start_mark.index):
                    return False, None
                if scalars is not None and not plain:
                    # Quoted scalars, and the lines of block scalars after their header:
                    # PyYAML ends a plain scalar at a tab, and refuses one in a header.
                    scalars.append((event.start_mark.index, event.end_mark.index, block))
                if event.data.scalar.anchor != NULL:
                    anchors[_text(event.data.scalar.anchor)] = (node, 1, len(value))
            elif event.type == YAML_MAPPING_START_EVENT or event.type == YAML_SEQUENCE_START_EVENT:
                if len(stack) >= max_depth:
                    return False, None
                frame = _Frame()
                frame.is_map = event.type == YAML_MAPPING_START_EVENT
                frame.node = Mapping([], line, column) if frame.is_map else Sequence([], line, column)
                anchor = _text(event.data.mapping_start.anchor if frame.is_map else event.data.sequence_start.anchor)
                frame.anchor = anchor
                frame.key = None
                count += 1
                if count > max_nodes:
                    return False, ("yaml-size", line, column)
                frame.start = count
                frame.start_chars = chars
                if anchor is not None:
                    anchors.pop(anchor, None)
                stack.append(frame)
            elif event.type == YAML_MAPPING_END_EVENT or event.type == YAML_SEQUENCE_END_EVENT:
                frame = stack.pop()
                if frame.is_map:
                    try:
                        flatten_merges(frame.node)
                    except _compose.Abort:
                        return False, None
                if frame.anchor is not None:
                    anchors[frame.anchor] = (frame.node, count - frame.start + 1, chars - frame.start_chars)
                node = frame.node
            elif event.type == YAML_ALIAS_EVENT:
                target = anchors.get(_text(event.data.alias.anchor))
                if target is None:
                    return False, None
                count += target[1]
                chars += target[2]
                if count > budget or chars > text_budget:
                    return False, ("yaml-alias-bomb", line, column)
                node = target[0]
            elif event.type == YAML_DOCUMENT_END_EVENT:
                done = True
            elif event.type == YAML_STREAM_END_EVENT:
                return True, root
        finally:
            yaml_event_delete(&event)
        if node is not None:
            if not stack:
                root = node
            else:
                top = stack[-1]
                if not top.is_map:
                    top.node.items.append(node)
                elif top.key is None:
                    top.key = node
                else:
                    top.node.pairs.append((top.key, node))
                    top.key = None
    # The reference reports a second document (info), and an error just after the first
    # (its scanner reads ahead of the document's end); let it.
    if not yaml_parser_parse(parser, &event):
        return False, None
    try:
        if event.type == YAML_DOCUMENT_START_EVENT:
            return False, None
    finally:
        yaml_event_delete(&event)
    return True, root


def _tabs_inside_scalars(str text, list scalars):
    """Every tab lies inside a quoted scalar or a block scalar's lines, where both
    parsers read it as content."""
    cdef Py_ssize_t i = text.find("\t"), j = 0, start, end
    ranges = []
    for start, end, block in scalars:
        if block:
            # The header line ("|-  # comment") is syntax, not content.
            lf, cr = text.find("\n", start, end), text.find("\r", start, end)
            breaks = [b for b in (lf, cr) if b >= 0]
            if not breaks:
                continue
            start = min(breaks)
        ranges.append((start, end))
    ranges.sort()
    while i >= 0:
        while j < len(ranges) and ranges[j][1] <= i:
            j += 1
        if j == len(ranges) or not ranges[j][0] < i:
            return False
        i = text.find("\t", i + 1)
    return True


def compose(str text):
    """(True, root) for a document built without anything to report; else (False, None)."""
    cdef yaml_parser_t parser
    cdef bytes data
    cdef list scalars = None
    if "\t" in text:
        # libyaml and PyYAML disagree about tabs between tokens and in plain scalars;
        # inside quoted and block scalars they agree, so only a tab anywhere else sends
        # the document to the reference.
        scalars = []
    data = text.encode("utf-8", "surrogatepass")
    if not yaml_parser_initialize(&parser):
        return False, None
    try:
        yaml_parser_set_input_string(&parser, <const unsigned char *>data, len(data))
        done, root = _build(&parser, text, _compose.expansion_budget(text), _compose.text_budget(text), scalars)
    finally:
        yaml_parser_delete(&parser)
    if done and scalars is not None and not _tabs_inside_scalars(text, scalars):
        return False, None
    return done, root
