"""A flow's variables: the values a run gets (given ones coerced to their declared type, over the defaults),
checked against `choices`; and the top-level step range that --from-step/--to-step select."""

from __future__ import annotations

from typing import Any

from robots.errors import InputError, suggest
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


def resolve_vars(flow: Flow, given: dict[str, Any]) -> dict[str, Any]:
    """The flow's vars: given values (coerced to the declared type) over defaults; unknown or missing
    required ones are input errors."""
    unknown = [k for k in given if k not in flow.vars]
    if unknown:
        k = unknown[0]
        raise InputError(f"{flow.path}: unknown var '{k}'{suggest(k, list(flow.vars))}; "
                         f"the flow declares: {', '.join(flow.vars) or 'none'}")
    out: dict[str, Any] = {}
    for name, spec in flow.vars.items():
        if name in given:
            out[name] = _coerce(name, given[name], spec.type or _type_of(spec.default), flow)
            if spec.choices is not None:
                _check_choice(name, out[name], spec, flow)
        elif spec.required:
            raise InputError(f"{flow.path}: var '{name}' is required; pass --var {name}=VALUE")
        else:
            out[name] = spec.default
    return out


def _check_choice(name: str, value: Any, spec: VarSpec, flow: Flow) -> None:
    """A given value of a var with `choices`: one of them, or its default."""
    assert spec.choices is not None
    allowed = [*spec.choices, *([] if spec.default is None else [spec.default])]
    if any(value == c and isinstance(value, bool) == isinstance(c, bool) for c in allowed):
        return
    shown = ", ".join(str(c) for c in spec.choices)
    default = f" (or the default {spec.default!r})" if spec.default is not None and spec.default not in spec.choices \
        else ""
    hint = suggest(value, [str(c) for c in spec.choices]) if isinstance(value, str) else ""
    raise InputError(f"{flow.path}: var '{name}' must be one of {shown}{default}; got {value!r}{hint}")


def _type_of(value: Any) -> str | None:
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    return None


def _coerce(name: str, value: Any, kind: str | None, flow: Flow) -> Any:
    if not isinstance(value, str) or kind in (None, "string"):
        return value
    try:
        if kind == "integer":
            return int(value)
        if kind == "number":
            return float(value)
        if kind == "boolean":
            if value.lower() in ("true", "yes", "1", "on"):
                return True
            if value.lower() in ("false", "no", "0", "off"):
                return False
            raise ValueError
    except ValueError:
        raise InputError(f"{flow.path}: var '{name}' must be {'an' if kind == 'integer' else 'a'} {kind}, "
                         f"got {value!r}") from None
    return value


__all__ = ["resolve_vars", "step_range"]
