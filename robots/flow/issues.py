"""Pydantic's validation errors as located, human messages (file:line:column, where, what was expected, what
was found): shared by the flow loader and the schedule loader."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import BaseModel, ValidationError

from robots.errors import FlowIssue, suggest
from robots.flow.yamlsrc import Located

_PATTERN_RULES = {
    "name": "is not a valid name: use letters, digits, '_', '.' and '-' only",
    "portal": "is not a valid portal name: use lower-case letters, digits, '_' and '-' only",
    "id": "is not a valid step id: use letters, digits and '_', not starting with a digit",
    "grid_url": "is not an http:// or https:// URL",
    "window_size": "is not WIDTHxHEIGHT in pixels, like 1366x900",
}
_EXPECTED = {
    "int_parsing": "an integer", "int_type": "an integer", "int_from_float": "an integer",
    "float_parsing": "a number", "float_type": "a number",
    "bool_parsing": "true or false", "bool_type": "true or false",
    "string_type": "text", "list_type": "a list", "dict_type": "a mapping", "model_type": "a mapping",
    "tuple_type": "a list",
}


def describe(value: Any) -> str:
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "nothing"
    return repr(value)


def pydantic_issues(located: Located, exc: ValidationError, base: tuple, where_prefix: str,
                    model: type[BaseModel], noun: str) -> list[FlowIssue]:
    """Turn pydantic's errors into located, human messages."""
    issues = []
    for err in exc.errors():
        loc = tuple(err["loc"])
        etype = err["type"]
        path = base + loc
        wh = ".".join(str(p) for p in (where_prefix, *loc[:-1]) if p != "")
        if etype == "missing":
            issues.append(located.issue(base + loc[:-1], wh, f"missing required {noun} '{loc[-1]}'"))
        elif etype == "extra_forbidden":
            known = _keys_at(model, loc[:-1])
            issues.append(located.issue(path, wh, f"unknown {noun} '{loc[-1]}'{suggest(str(loc[-1]), known)}",
                                        key=True))
        else:
            field = ".".join(str(p) for p in (where_prefix, *loc) if p != "")
            if etype in _EXPECTED:
                msg = f"expected {_EXPECTED[etype]}, got {describe(err.get('input'))}"
            elif etype == "string_pattern_mismatch":
                rule = _PATTERN_RULES.get(str(loc[-1]), "does not have the expected form")
                msg = f"{describe(err.get('input'))} {rule}"
            elif etype == "value_error" and "error" in err.get("ctx", {}):
                # A rule over several keys (a model's own check) has the whole mapping as its input: not worth naming.
                got = f", got {describe(err.get('input'))}" if loc else ""
                msg = f"{err['ctx']['error']}{got}"
            else:
                msg = f"{err['msg'][0].lower()}{err['msg'][1:]}, got {describe(err.get('input'))}"
            issues.append(located.issue(path, field, msg))
    return issues


def _keys_at(model: type[BaseModel], path: tuple) -> list[str]:
    """The keys of the mapping at `path` inside `model` when a model defines it (for did-you-mean), else []."""
    current: Any = model
    for part in path:
        fields = getattr(current, "model_fields", None)
        if fields is None or part not in fields:
            return []
        annotation = fields[part].annotation
        options = [a for a in (typing.get_args(annotation) or (annotation,))
                   if isinstance(a, type) and issubclass(a, BaseModel)]
        if len(options) != 1:
            return []
        current = options[0]
    return list(current.model_fields)
