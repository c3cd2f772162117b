"""YAML with positions: parse a document into plain values plus the line and column of every node."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path as FilePath
from typing import Any

import yaml

from robots.errors import FlowError, FlowIssue

Path = tuple[str | int, ...]


@dataclass
class Located:
    """Plain Python data from a YAML file, with 1-based (line, column) of each value and each mapping key."""

    file: str
    data: Any
    values: dict[Path, tuple[int, int]] = field(default_factory=dict)
    keys: dict[Path, tuple[int, int]] = field(default_factory=dict)

    def pos(self, path: Path, *, key: bool = False) -> tuple[int | None, int | None]:
        """The position of `path`, or of its nearest ancestor that has one."""
        table = self.keys if key else self.values
        p = tuple(path)
        while p:
            if p in table:
                return table[p]
            if key and p in self.values:
                return self.values[p]
            p = p[:-1]
        return self.values.get((), (None, None))

    def issue(self, path: Path, where: str, message: str, *, key: bool = False) -> FlowIssue:
        line, col = self.pos(path, key=key)
        return FlowIssue(self.file, line, col, where, message)


# libyaml's parser when PyYAML has it (several times faster; it keeps the marks this module needs).
_Loader = getattr(yaml, "CSafeLoader", yaml.SafeLoader)


_STR = "tag:yaml.org,2002:str"
_MERGE = "tag:yaml.org,2002:merge"

#: Every YAML file robots reads (flows, vars files, schedules, selector catalogs, portal profiles) is bounded, so
#: that a hostile or mistaken file is an input error at once rather than minutes of work and gigabytes of memory.
#: The largest flow in flows/ is 8 KB, 456 nodes and 16 levels deep.
MAX_BYTES = 1_000_000
#: nodes: every key, value and item, with aliases counted as the nodes they repeat
MAX_NODES = 100_000
#: the nodes that aliases (`*name`, and merge keys `<<: *name`) repeat, all together: a "billion laughs" file
#: repeats an alias of an alias ... and expands to billions of nodes from a few hundred bytes
MAX_ALIAS_NODES = 10_000
MAX_DEPTH = 64

FLOW_FILE = "a flow file"


def read_source(path: FilePath | str, shown: str, kind: str = FLOW_FILE) -> str:
    """The text of a YAML file; a file over MAX_BYTES is refused (FlowError) before it is read. OSError and
    UnicodeDecodeError are the caller's to word, as for Path.read_text."""
    with open(path, "rb") as f:
        size = os.fstat(f.fileno()).st_size
        data = f.read(MAX_BYTES + 1) if size <= MAX_BYTES else b""
    if size > MAX_BYTES or len(data) > MAX_BYTES:  # the second: a file that grew, or a device or pipe
        shown_size = f"{size:,} bytes" if size > MAX_BYTES else f"more than {MAX_BYTES:,} bytes"
        raise FlowError([FlowIssue(shown, None, None, "", f"the file is {shown_size}; {kind} may be at most "
                                                          f"{MAX_BYTES:,} bytes ({MAX_BYTES // 1_000_000} MB)")])
    return data.decode("utf-8")


def load_data(path: FilePath | str, kind: str, shown: str | None = None) -> Any:
    """The plain data of a small YAML file (a vars file, a portal profile): None when it is empty. Raises
    FlowError naming the file and line for a file over the limits or not valid YAML."""
    shown = str(path) if shown is None else shown
    located, issues = load_located(read_source(path, shown, kind), shown, kind, empty_ok=True)
    if issues:
        raise FlowError(issues)
    return located.data if located is not None else None


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def _marked(file: str, mark: Any, message: str) -> FlowIssue:
    line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
    return FlowIssue(file, line, col, "", message)


def _syntax_issue(e: yaml.YAMLError, file: str) -> FlowIssue:
    if not isinstance(e, yaml.MarkedYAMLError):  # pragma: no cover - PyYAML raises marked errors for documents
        return FlowIssue(file, None, None, "", f"YAML syntax error: {e}")
    problem = e.problem or str(e)
    if "'\\t'" in problem:
        problem = "tab character used for indentation; indent with spaces"
    return _marked(file, e.problem_mark or e.context_mark, f"YAML syntax error: {problem}")


def _scan(loader: Any, file: str, kind: str) -> FlowIssue | None:
    """Walk the parser's events (nothing is built) and return the first limit the document goes over: too many
    nodes, aliases that repeat too many, an alias inside the node it repeats (a recursive alias, which would
    make the data infinite), nesting too deep. Raises yaml.YAMLError for a syntax error."""
    total = repeated = 0
    sizes: dict[str, int] = {}  # anchor -> the number of nodes its node stands for
    open_: list[list[Any]] = []  # the collections being read: [anchor, nodes so far]
    while loader.check_event():
        event = loader.get_event()
        if isinstance(event, yaml.CollectionEndEvent):
            anchor, n = open_.pop()
            if anchor is not None:
                sizes[anchor] = n
            if open_:
                open_[-1][1] += n
            continue
        if not isinstance(event, yaml.NodeEvent):
            continue
        n = 1
        if isinstance(event, yaml.AliasEvent):
            if any(anchor == event.anchor for anchor, _ in open_):
                return _marked(file, event.start_mark, f"YAML alias '*{event.anchor}' repeats a node that contains "
                                                       f"it (a recursive alias); {kind} may not have one")
            n = sizes.get(event.anchor or "", 1)  # an undefined alias: the composer reports it
            repeated += n
            if repeated > MAX_ALIAS_NODES:
                return _marked(file, event.start_mark,
                               f"YAML aliases expand to more than {MAX_ALIAS_NODES:,} nodes (a \"billion laughs\" "
                               f"file?); {kind} may expand aliases to at most {MAX_ALIAS_NODES:,} nodes")
        total += n
        if total > MAX_NODES:
            return _marked(file, event.start_mark, f"more than {MAX_NODES:,} YAML nodes (keys, values and items); "
                                                   f"{kind} may have at most {MAX_NODES:,}")
        if isinstance(event, yaml.CollectionStartEvent):
            open_.append([event.anchor, 1])
            if len(open_) > MAX_DEPTH:
                return _marked(file, event.start_mark, f"YAML nested more than {MAX_DEPTH} levels deep; "
                                                       f"{kind} may nest at most {MAX_DEPTH} levels")
        elif isinstance(event, yaml.ScalarEvent) and event.anchor is not None:
            sizes[event.anchor] = 1
            if open_:
                open_[-1][1] += 1
        elif open_:
            open_[-1][1] += n
    return None


def _checked(text: str, file: str, kind: str) -> FlowIssue | None:
    """The first limit `text` goes over or its syntax error, from its events, before any node is built."""
    loader = _Loader(text)
    try:
        return _scan(loader, file, kind)
    except yaml.YAMLError as e:
        if _Loader is yaml.SafeLoader:
            return _syntax_issue(e, file)
    finally:
        loader.dispose()
    # Parse again in pure Python for its clearer messages (errors are rare; speed does not matter).
    loader = yaml.SafeLoader(text)
    try:
        return _scan(loader, file, kind)
    except yaml.YAMLError as e:
        return _syntax_issue(e, file)
    finally:
        loader.dispose()


def load_located(text: str, file: str, kind: str = FLOW_FILE, *,
                 empty_ok: bool = False) -> tuple[Located | None, list[FlowIssue]]:
    """Parse `text`; return the located data, or None and the issues (syntax, or over the limits above; `kind`
    names the file in their messages). An empty document is an issue unless `empty_ok` (then None, [])."""
    over = _checked(text, file, kind)
    if over is not None:
        return None, [over]
    try:
        loader, node = _compose(text)
    except yaml.YAMLError as e:
        return None, [_syntax_issue(e, file)]
    if node is None:
        return None, [] if empty_ok else [FlowIssue(file, 1, 1, "", "the file is empty")]
    converter = _Converter(loader, file)
    try:
        converter.located.data = converter.convert(node, ())
    except yaml.constructor.ConstructorError as e:
        return None, [_marked(file, e.problem_mark, f"YAML error: {e.problem}")]
    return converter.located, converter.issues


def _compose(text: str) -> tuple[Any, yaml.Node | None]:
    """The loader and the document's node tree (the fast loader, else the pure Python one when only the latter
    reads it); raises yaml.YAMLError."""
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError:
            if _Loader is yaml.SafeLoader:
                raise
            loader.dispose()
            loader = yaml.SafeLoader(text)
            node = loader.get_single_node()
    finally:
        loader.dispose()
    return loader, node


class _Converter:
    """A node tree to plain data, the position of every value and key recorded in `located`, the problems
    (duplicate keys, keys that are not text, bad merge keys) in `issues`."""

    def __init__(self, loader: Any, file: str):
        self.loader = loader
        self.file = file
        self.located = Located(file, None)
        self.issues: list[FlowIssue] = []

    def scalar(self, n: yaml.Node) -> Any:
        if n.tag == _STR:  # most of a flow: taken as written, without the constructor's round trip
            return n.value
        return self.loader.construct_object(n, deep=True)

    def pairs(self, n: yaml.MappingNode) -> list[tuple[yaml.Node, yaml.Node, bool]]:
        """(key, value, merged) of a mapping, merge keys (`<<: *base`, `<<: [*a, *b]`) expanded before the
        mapping's own keys: its own keys win over merged ones, and the first merged mapping over later ones."""
        merged: list[tuple[yaml.Node, yaml.Node, bool]] = []
        own: list[tuple[yaml.Node, yaml.Node, bool]] = []
        for key_node, value_node in n.value:
            if key_node.tag != _MERGE:
                own.append((key_node, value_node, False))
                continue
            for source in value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]:
                if isinstance(source, yaml.MappingNode):
                    merged += [(k, v, True) for k, v, _ in self.pairs(source)]
                else:
                    line, col = _mark(source)
                    self.issues.append(FlowIssue(self.file, line, col, "", "a merge key '<<' takes a mapping "
                                                                           "(`<<: *name`) or a list of them"))
        return merged + own

    def convert(self, n: yaml.Node, path: Path) -> Any:
        self.located.values[path] = _mark(n)
        if isinstance(n, yaml.MappingNode):
            return self.mapping(n, path)
        if isinstance(n, yaml.SequenceNode):
            return [self.convert(item, path + (i,)) for i, item in enumerate(n.value)]
        return self.scalar(n)

    def mapping(self, n: yaml.MappingNode, path: Path) -> dict[Any, Any]:
        out: dict[Any, Any] = {}
        from_merge: set[str] = set()
        for key_node, value_node, merged in self.pairs(n):
            key = self.scalar(key_node)
            if not isinstance(key, str | int | float | bool) and key is not None:
                line, col = _mark(key_node)
                self.issues.append(FlowIssue(self.file, line, col, _where(path), "mapping keys must be plain text"))
                continue
            key = str(key) if not isinstance(key, str) else key
            if key in out and (merged or key not in from_merge):
                if merged:  # an earlier merged mapping has it
                    continue
                line, col = _mark(key_node)
                first = self.located.keys[path + (key,)]
                self.issues.append(FlowIssue(self.file, line, col, _where(path),
                                             f"duplicate key '{key}' (first defined on line {first[0]})"))
                continue
            if merged:
                from_merge.add(key)
            else:
                from_merge.discard(key)
            self.located.keys[path + (key,)] = _mark(key_node)
            out[key] = self.convert(value_node, path + (key,))
        return out


def _where(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


where = _where
