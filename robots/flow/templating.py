"""Jinja2 templates in flow values: sandboxed, strict about undefined names, native types for
a value that is one `{{ expression }}` (so `{{ steps.pages.output }}` stays a list)."""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Mapping
from datetime import date, datetime, timedelta
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, nodes
from jinja2.sandbox import ImmutableSandboxedEnvironment

ROOTS = ("vars", "secrets", "steps", "portal", "run", "loop", "env", "now")

class _Environment(ImmutableSandboxedEnvironment):
    """`a.b` on a mapping reads its key `b` first (Jinja tries the attribute first): a step id, var or output
    named `items`, `keys` or `get` must give its value, not the dict's method."""

    def getattr(self, obj: Any, attribute: str) -> Any:
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)


_ENV = _Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True)


def _date(value: Any, fmt: str = "%Y-%m-%d") -> str:
    """`{{ now | date('%m/%d/%Y') }}`, also for ISO strings ('2025-03-14', '2025-03-14T19:05:00Z')."""
    if isinstance(value, str):
        value = datetime.fromisoformat(value.replace("Z", "+00:00"))
    if isinstance(value, date):
        return value.strftime(fmt)
    raise TypeError(f"date: expected a date, got {type(value).__name__}")


def _days_ago(value: datetime, days: int) -> datetime:
    return value - timedelta(days=days)


def _money(cents: Any, symbol: str = "$") -> str:
    """`{{ 123450 | money }}` -> '$1,234.50'."""
    n = int(cents)
    return f"{'-' if n < 0 else ''}{symbol}{abs(n) // 100:,}.{abs(n) % 100:02d}"


def _slug(value: Any) -> str:
    """`{{ 'Zoë O'Brien' | slug }}` -> 'zoe-o-brien'."""
    text = unicodedata.normalize("NFKD", str(value)).encode("ascii", "ignore").decode()
    return re.sub(r"[^a-z0-9]+", "-", text.lower()).strip("-")


_ENV.filters.update({"date": _date, "money": _money, "slug": _slug, "days_ago": _days_ago})
_SINGLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}).)*)\}\}\s*$", re.S)


def is_template(value: str) -> bool:
    return "{{" in value or "{%" in value


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every template string inside `value` (strings, lists, dicts), keeping native types."""
    if isinstance(value, str):
        if not is_template(value):
            return value
        m = _SINGLE.match(value)
        if m:
            return _ENV.compile_expression(m.group("expr"), undefined_to_none=False)(**context)
        return _ENV.from_string(value).render(**context)
    if isinstance(value, list):
        return [render(v, context) for v in value]
    if isinstance(value, dict):
        return {k: render(v, context) for k, v in value.items()}
    return value


@functools.lru_cache(maxsize=4096)  # flows repeat their templates ("{{ secrets.sera_username }}"); parsing is costly
def references(value: str) -> tuple[tuple[str, str | None], ...]:
    """The (root, attribute) names a template reads, e.g. (('vars', 'q'), ('steps', 'pages')).

    Raises jinja2.TemplateSyntaxError for a malformed template."""
    ast = _ENV.parse(value)
    # What parsing does not find and compiling would (at several times the cost): unknown filters and tests.
    for f in ast.find_all(nodes.Filter):
        if f.name not in _ENV.filters:
            raise TemplateSyntaxError(f"No filter named '{f.name}'.", f.lineno)
    for t in ast.find_all(nodes.Test):
        if t.name not in _ENV.tests:
            raise TemplateSyntaxError(f"No test named '{t.name}'.", t.lineno)
    found: list[tuple[str, str | None]] = []
    seen_names: set[int] = set()
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        assert isinstance(node, nodes.Getattr | nodes.Getitem)
        if isinstance(node.node, nodes.Name) and node.node.ctx == "load":
            attr: str | None
            if isinstance(node, nodes.Getattr):
                attr = node.attr
            elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str):
                attr = node.arg.value
            else:
                attr = None
            found.append((node.node.name, attr))
            seen_names.add(id(node.node))
    assigned = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    for name in ast.find_all(nodes.Name):
        assert isinstance(name, nodes.Name)
        if name.ctx == "load" and id(name) not in seen_names and name.name not in assigned:
            found.append((name.name, None))
    return tuple(found)


__all__ = ["ROOTS", "TemplateSyntaxError", "is_template", "references", "render"]
