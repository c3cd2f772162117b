"""YAML with positions: parse a document into plain values plus the line and column of every node."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import yaml

from robots.errors import FlowIssue

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


def _mark(node: yaml.Node) -> tuple[int, int]:
    return node.start_mark.line + 1, node.start_mark.column + 1


def load_located(text: str, file: str) -> tuple[Located | None, list[FlowIssue]]:
    """Parse `text`; return the located data, or None and the syntax issues."""
    issues: list[FlowIssue] = []
    loader = _Loader(text)
    try:
        try:
            node = loader.get_single_node()
        except yaml.YAMLError:
            if _Loader is yaml.SafeLoader:
                raise
            # Parse again in pure Python for its clearer messages (errors are rare; speed does not matter).
            loader.dispose()
            loader = yaml.SafeLoader(text)
            node = loader.get_single_node()
    except yaml.MarkedYAMLError as e:
        mark = e.problem_mark or e.context_mark
        problem = e.problem or str(e)
        if "'\\t'" in problem:
            problem = "tab character used for indentation; indent with spaces"
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return None, [FlowIssue(file, line, col, "", f"YAML syntax error: {problem}")]
    except yaml.YAMLError as e:  # pragma: no cover - PyYAML raises marked errors for documents
        return None, [FlowIssue(file, None, None, "", f"YAML syntax error: {e}")]
    finally:
        loader.dispose()
    located = Located(file, None)
    if node is None:
        return None, [FlowIssue(file, 1, 1, "", "the file is empty")]

    def scalar(n: yaml.Node) -> Any:
        if n.tag == _STR:  # most of a flow: taken as written, without the constructor's round trip
            return n.value
        return loader.construct_object(n, deep=True)

    def convert(n: yaml.Node, path: Path) -> Any:
        located.values[path] = _mark(n)
        if isinstance(n, yaml.MappingNode):
            out: dict[Any, Any] = {}
            for key_node, value_node in n.value:
                key = scalar(key_node)
                if not isinstance(key, str | int | float | bool) and key is not None:
                    line, col = _mark(key_node)
                    issues.append(FlowIssue(file, line, col, _where(path), "mapping keys must be plain text"))
                    continue
                key = str(key) if not isinstance(key, str) else key
                if key in out:
                    line, col = _mark(key_node)
                    first = located.keys[path + (key,)]
                    issues.append(FlowIssue(file, line, col, _where(path),
                                            f"duplicate key '{key}' (first defined on line {first[0]})"))
                    continue
                located.keys[path + (key,)] = _mark(key_node)
                out[key] = convert(value_node, path + (key,))
            return out
        if isinstance(n, yaml.SequenceNode):
            return [convert(item, path + (i,)) for i, item in enumerate(n.value)]
        return scalar(n)

    try:
        located.data = convert(node, ())
    except yaml.constructor.ConstructorError as e:
        mark = e.problem_mark
        line, col = (mark.line + 1, mark.column + 1) if mark else (None, None)
        return None, [FlowIssue(file, line, col, "", f"YAML error: {e.problem}")]
    return located, issues


def _where(path: Path) -> str:
    out = ""
    for part in path:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


where = _where
