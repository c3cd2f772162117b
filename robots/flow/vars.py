"""A flow's variables: the values a run gets (given ones coerced to their declared type, over the defaults),
checked against `choices`; and the top-level step range that --from-step/--to-step select.

Every front end (the command line, schedules, the API, the Gherkin steps, a `call:`) gets its vars through
resolve_vars: text is parsed to the declared type (a list or mapping from JSON or YAML flow syntax), and every
problem is reported at once (robots.errors.VarsError)."""

from __future__ import annotations

import datetime
import json
from collections.abc import Mapping
from typing import Any

from robots.errors import InputError, VarProblem, VarsError, suggest
from robots.flow.model import Flow, VarSpec


def step_range(flow: Flow, from_step: str | None, to_step: str | None) -> tuple[int, int]:
    """The inclusive range of top-level step indices that --from-step/--to-step select."""
    ids = {c.args.id: n for n, c in enumerate(flow.steps) if c.args.id}

    def index(ref: str | None, default: int, option: str) -> int:
        if ref is None:
            return default
        if ref.isdigit() and int(ref) < len(flow.steps):
            return int(ref)
        if ref in ids:
            return ids[ref]
        raise InputError(f"{option} {ref!r} is neither a step number (0 to {len(flow.steps) - 1}) nor a top-level "
                         f"step id{suggest(ref, list(ids))}" + (f" (ids: {', '.join(ids)})" if ids else ""))

    first = index(from_step, 0, "--from-step")
    last = index(to_step, len(flow.steps) - 1, "--to-step")
    if first > last:
        raise InputError(f"--from-step ({first}) comes after --to-step ({last})")
    return first, last


def resolve_vars(flow: Flow, given: Mapping[str, Any]) -> dict[str, Any]:
    """The flow's vars: given values (coerced to the declared type) over defaults. Every unknown, missing or invalid
    one is found before anything is raised: VarsError lists them all (an input error, exit code 2)."""
    problems: list[VarProblem] = []
    for k in given:
        if k not in flow.vars:
            problems.append(VarProblem(k, f"unknown var '{k}'{suggest(k, list(flow.vars))}; "
                                          f"the flow declares: {', '.join(flow.vars) or 'none'}"))
    out: dict[str, Any] = {}
    for name, spec in flow.vars.items():
        if name in given:
            try:
                out[name] = coerce(name, given[name], spec.type or _type_of(spec.default))
                if spec.choices is not None:
                    _check_choice(name, out[name], spec)
            except ValueError as e:
                problems.append(VarProblem(name, str(e)))
        elif spec.required:
            problems.append(VarProblem(name, f"var '{name}' is required", f"; pass --var {name}=VALUE"))
        else:
            out[name] = spec.default
    if problems:
        raise VarsError(str(flow.path), problems)
    return out


def given_problem(name: str, value: Any, spec: VarSpec) -> str | None:
    """Why `value`, given for the var `name` (a `call:`'s literal, checked with the calling flow), does not fit its
    type or its choices, else None."""
    try:
        value = coerce(name, value, spec.type or _type_of(spec.default))
        if spec.choices is not None:
            _check_choice(name, value, spec)
    except ValueError as e:
        return str(e)
    return None


def _check_choice(name: str, value: Any, spec: VarSpec) -> None:
    """A given value of a var with `choices`: one of them, or its default; else ValueError with a did-you-mean."""
    assert spec.choices is not None
    allowed = [*spec.choices, *([] if spec.default is None else [spec.default])]
    if any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in allowed):
        return
    shown = ", ".join(str(c) for c in spec.choices)
    default = f" (or the default {spec.default!r})" if spec.default is not None and spec.default not in spec.choices \
        else ""
    hint = suggest(value, [str(c) for c in spec.choices]) if isinstance(value, str) else ""
    raise ValueError(f"var '{name}' must be one of {shown}{default}; got {value!r}{hint}")


def _type_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return None


#: how a list or mapping var is written as text (the command line, a Gherkin table, a string in a JSON body)
_SYNTAX = {"list": "[a, b] or [{code: DIA-100, quantity: 1}]", "mapping": "{a: 1, b: two}"}


def coerce(name: str, value: Any, kind: str | None) -> Any:
    """`value` as a var of type `kind`: text (the command line, a Gherkin table, a schedule's quoted value) is
    parsed; a value that already has a type must have the declared one. ValueError says what is wrong."""
    if kind is None or value is None:
        return value
    if kind in ("list", "mapping"):
        return _structured(name, value, kind)
    article = "an" if kind == "integer" else "a"
    if isinstance(value, str):
        if kind in ("string", "file"):
            return value
        try:
            if kind == "integer":
                return int(value)
            if kind == "number":
                return float(value)
            if value.lower() in ("true", "yes", "1", "on"):
                return True
            if value.lower() in ("false", "no", "0", "off"):
                return False
        except ValueError:
            pass
        raise ValueError(f"var '{name}' must be {article} {kind}, got {_shown(value)}")
    number = isinstance(value, int | float) and not isinstance(value, bool)
    if kind in ("string", "file") and number:
        return str(value)
    if kind == "integer" and number and float(value).is_integer():
        return int(value)
    if (kind == "number" and number) or (kind == "boolean" and isinstance(value, bool)):
        return value
    raise ValueError(f"var '{name}' must be {article} {kind}, got {_described(value)}")


def _structured(name: str, value: Any, kind: str) -> Any:
    """A list or mapping var: as given (JSON), or parsed from text in JSON or YAML flow syntax."""
    wanted = list if kind == "list" else dict
    if isinstance(value, str):
        text = value
        try:
            value = json.loads(text)
        except ValueError:
            from robots.flow.yamlsrc import load_located

            located, issues = load_located(text, "", "a var's value", empty_ok=True)
            if issues:
                where = f"at column {issues[0].column}: " if issues[0].line == 1 and issues[0].column else ""
                raise ValueError(f"var '{name}' must be a {kind} in JSON or YAML flow syntax, like {_SYNTAX[kind]}; "
                                 f"{_shown(text)} is not: {where}{issues[0].message}") from None
            value = _plain(located.data if located is not None else None)
        if not isinstance(value, wanted):
            reads = "" if isinstance(value, str) else f", which reads as {_described(value)}"
            raise ValueError(f"var '{name}' must be a {kind} in JSON or YAML flow syntax, like {_SYNTAX[kind]}; "
                             f"got {_shown(text)}{reads}")
        return value
    if not isinstance(value, wanted):
        raise ValueError(f"var '{name}' must be a {kind}, got {_described(value)}")
    return value


def _plain(value: Any) -> Any:
    """YAML's dates and times as the text they were written as (ISO 8601), so that a run's inputs stay JSON."""
    if isinstance(value, list):
        return [_plain(v) for v in value]
    if isinstance(value, dict):
        return {k: _plain(v) for k, v in value.items()}
    if isinstance(value, datetime.date):
        return value.isoformat()
    return value


def _shown(value: str) -> str:
    return repr(value) if len(repr(value)) <= 200 else repr(value)[:197] + "..."


def _described(value: Any) -> str:
    """A wrong value in a few words: `a string 'DIA-100'`, `a list`, `a mapping`, `true`, `12`."""
    if isinstance(value, list):
        return "a list"
    if isinstance(value, dict):
        return "a mapping"
    if isinstance(value, bool) or value is None:
        return json.dumps(value)
    if isinstance(value, str):
        return f"a string {_shown(value)}"
    return repr(value)


__all__ = ["coerce", "resolve_vars", "step_range"]
