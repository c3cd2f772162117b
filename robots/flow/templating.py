"""Jinja2 templates in flow values: sandboxed, strict about undefined names, native types for
a value that is one `{{ expression }}` (so `{{ steps.pages.output }}` stays a list)."""

from __future__ import annotations

import contextvars
import functools
import math
import operator
import re
import string
import time
import unicodedata
from collections.abc import Iterable, Iterator, Mapping
from datetime import date, datetime, timedelta
from typing import Any

from jinja2 import StrictUndefined, TemplateSyntaxError, Undefined, nodes, pass_eval_context
from jinja2 import filters as jinja_filters
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

ROOTS = ("vars", "secrets", "steps", "portal", "run", "loop", "env", "now")

#: What one template may compute, so that no flow value can take the machine's memory or hold a run for minutes
#: (a step's arguments are rendered together, within MAX_SECONDS). Python computes `9 ** 99999999` or
#: `'a' * 10**9` in one uninterruptible operation, so these are refused before they start.
MAX_DIGITS = 10_000
MAX_LENGTH = 1_000_000
MAX_SECONDS = 5
_MAX_BITS = math.ceil(MAX_DIGITS * math.log2(10))


class TemplateLimit(SecurityError):
    """A template went over a limit above (raised while it is evaluated)."""


class TemplateRefused(ValueError):
    """A template that validation refuses: it reaches Python internals, or its constant arithmetic is over the
    limits."""


_DEADLINE: contextvars.ContextVar[float | None] = contextvars.ContextVar("template_deadline", default=None)


def _in_time() -> None:
    deadline = _DEADLINE.get()
    if deadline is not None and time.monotonic() > deadline:
        raise TemplateLimit(f"the template ran for more than {MAX_SECONDS} s; "
                            f"templates may run for at most {MAX_SECONDS} s")


def _shown(value: Any) -> str:
    if isinstance(value, int) and not isinstance(value, bool) and value.bit_length() < 64:
        return str(value)
    return type(value).__name__


def _too_long(what: str) -> TemplateLimit:
    return TemplateLimit(f"{what} would give more than {MAX_LENGTH:,} characters; "
                         f"templates may build strings and lists of at most {MAX_LENGTH:,}")


def _binop(op: str, left: Any, right: Any) -> Any:
    """`left op right` for the operators that can make huge values, refused before it starts when the result
    would be over MAX_DIGITS or MAX_LENGTH."""
    def ints(*values: Any) -> bool:
        return all(isinstance(v, int) and not isinstance(v, bool) for v in values)

    too_big = False
    if op == "**" and ints(left, right):
        too_big = right > 0 and abs(left) > 1 and right * math.log10(abs(left)) > MAX_DIGITS
    elif op == "*" and ints(left, right):
        too_big = left.bit_length() + right.bit_length() > _MAX_BITS + 1
    elif op in ("*", "+"):
        seq, n = (left, right) if isinstance(left, str | list | tuple) else (right, left)
        if isinstance(seq, str | list | tuple) and op == "*" and ints(n) and len(seq) * n > MAX_LENGTH:
            raise _arithmetic(op, left, right, "more than {:,} characters or items")
        if op == "+" and isinstance(left, str | list | tuple) and isinstance(right, str | list | tuple) \
                and len(left) + len(right) > MAX_LENGTH:
            raise _arithmetic(op, left, right, "more than {:,} characters or items")
    elif op == "%" and isinstance(left, str):
        _check_printf(left, right)
    if too_big:
        raise TemplateLimit(f"template arithmetic {_shown(left)} {op} {_shown(right)} gives a number of more than "
                            f"{MAX_DIGITS:,} digits; templates may compute numbers of at most {MAX_DIGITS:,} digits")
    return _BINOPS[op](left, right)


def _arithmetic(op: str, left: Any, right: Any, gives: str) -> TemplateLimit:
    return TemplateLimit(f"template arithmetic {_shown(left)} {op} {_shown(right)} gives {gives.format(MAX_LENGTH)}; "
                         f"templates may build strings and lists of at most {MAX_LENGTH:,}")


_BINOPS = {"**": operator.pow, "*": operator.mul, "+": operator.add, "%": operator.mod}
_PRINTF = re.compile(r"%(?:\([^)]*\))?[#0\- +]*(\*|\d+)?(?:\.(\*|\d+))?")


def _check_printf(fmt: str, args: Any) -> None:
    """`'%09d' % n`: a width or precision over MAX_LENGTH (written, or given by `*`) is refused."""
    given = args if isinstance(args, tuple) else (args,)
    for m in _PRINTF.finditer(fmt):
        for width in m.groups():
            if width == "*":
                width = max((a for a in given if isinstance(a, int)), default=0)
            if width is not None and int(width) > MAX_LENGTH:
                raise _too_long(f"a format width of {int(width)}")


def _check_format(fmt: str) -> None:
    """`'{:>9}'.format(x)`: the same for str.format's specs (a width from a nested field is not allowed)."""
    for _, _, spec, _ in string.Formatter().parse(fmt):
        if spec and "{" in spec:
            raise TemplateLimit("a format spec taken from a nested field ({:{}}) is not allowed in templates")
        for width in re.findall(r"\d+", spec or ""):
            if int(width) > MAX_LENGTH:
                raise _too_long(f"a format width of {int(width)}")


_PADDING = {"ljust", "rjust", "center", "zfill", "expandtabs"}


def _check_call(func: Any, args: tuple, kwargs: dict) -> None:
    """str methods whose result grows with an argument: padding to a width, replace, join."""
    owner = getattr(func, "__self__", None)
    if not isinstance(owner, str):
        return
    name = getattr(func, "__name__", "")
    if name in _PADDING:
        width = next(iter([*args, *kwargs.values()]), 0)
        if isinstance(width, int) and width * (len(owner) if name == "expandtabs" else 1) > MAX_LENGTH:
            raise _too_long(f"{name}({width})")
    elif name == "replace" and len(args) >= 2 and isinstance(args[0], str) and isinstance(args[1], str):
        _check_replace(owner, args[0], args[1])
    elif name == "join" and args and isinstance(args[0], list | tuple):
        if len(owner) * len(args[0]) > MAX_LENGTH:
            raise _too_long(f"join of {len(args[0])} items")


def _check_replace(text: str, old: str, new: str) -> None:
    hits = text.count(old) if old else len(text) + 1
    if len(text) + hits * len(new) > MAX_LENGTH:
        raise _too_long(f"replace({_shown(old)}, {_shown(new)}) on {len(text):,} characters")


def _bounded_loop(iterable: Iterable[Any]) -> Iterator[Any]:
    """What every `{% for %}` iterates (put there when a template is compiled): it checks the time at each
    item, since a loop over data (`{% for a in s %}{% for b in s %}...`) runs without calling anything."""
    for item in iterable:
        _in_time()
        yield item


class _Environment(ImmutableSandboxedEnvironment):
    """`a.b` on a mapping reads its key `b` first (Jinja tries the attribute first): a step id, var or output
    named `items`, `keys` or `get` must give its value, not the dict's method.

    Bounded (see MAX_DIGITS, MAX_LENGTH, MAX_SECONDS): the operators that can make huge values go through
    `_binop`, str methods and filters that pad or replace are checked first, and every attribute read, call,
    operator and loop item checks the render's deadline."""

    intercepted_binops = frozenset(_BINOPS)

    def getattr(self, obj: Any, attribute: str) -> Any:
        _in_time()
        if isinstance(obj, Mapping) and attribute in obj:
            return obj[attribute]
        return super().getattr(obj, attribute)

    def getitem(self, obj: Any, argument: Any) -> Any:
        _in_time()
        return super().getitem(obj, argument)

    def call_binop(self, context: Any, operator: str, left: Any, right: Any) -> Any:
        _in_time()
        return _binop(operator, left, right)

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805 - as Jinja's
        _in_time()
        _check_call(__obj, args, kwargs)
        return super().call(__context, __obj, *args, **kwargs)

    def wrap_str_format(self, value: Any) -> Any:
        wrapped = super().wrap_str_format(value)
        if wrapped is not None:
            _check_format(value.__self__)
        return wrapped

    def _generate(self, source: nodes.Template, name: str | None, filename: str | None,
                  defer_init: bool = False) -> str:
        for loop in source.find_all(nodes.For):
            loop.iter = nodes.Filter(loop.iter, "_bounded_loop", [], [], None, None, lineno=loop.iter.lineno)
        return super()._generate(source, name, filename, defer_init)


# optimized=False: Jinja's optimizer evaluates constant expressions while compiling, outside these bounds.
_ENV = _Environment(undefined=StrictUndefined, autoescape=False, keep_trailing_newline=True, optimized=False)
_ENV.globals.pop("lipsum", None)  # lipsum(n) takes unbounded time; templates read only ROOTS anyway


def _center(value: Any, width: int = 80) -> str:
    if isinstance(width, int) and width > MAX_LENGTH:
        raise _too_long(f"center({width})")
    return jinja_filters.do_center(value, width)


def _indent(s: Any, width: int | str = 4, first: bool = False, blank: bool = False) -> str:
    size = width if isinstance(width, int) else len(str(width))
    if size * (str(s).count("\n") + 1) > MAX_LENGTH:
        raise _too_long(f"indent({width if isinstance(width, int) else _shown(width)})")
    return jinja_filters.do_indent(s, width, first, blank)


def _format(value: str, *args: Any, **kwargs: Any) -> str:
    _check_printf(value, kwargs or args)
    return jinja_filters.do_format(value, *args, **kwargs)


@pass_eval_context
def _replace(eval_ctx: Any, s: str, old: str, new: str, count: int | None = None) -> str:
    _check_replace(str(s), str(old), str(new))
    return jinja_filters.do_replace(eval_ctx, s, old, new, count)


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


_ENV.filters.update({"date": _date, "money": _money, "slug": _slug, "days_ago": _days_ago,
                     "center": _center, "indent": _indent, "format": _format, "replace": _replace,
                     "_bounded_loop": _bounded_loop})
_SINGLE = re.compile(r"^\s*\{\{(?P<expr>(?:(?!\}\}).)*)\}\}\s*$", re.S)


def is_template(value: str) -> bool:
    return "{{" in value or "{%" in value


def render(value: Any, context: Mapping[str, Any]) -> Any:
    """Render every template string inside `value` (strings, lists, dicts), keeping native types; all of them
    within MAX_SECONDS (TemplateLimit past it)."""
    if _DEADLINE.get() is not None:
        return _render(value, context)
    token = _DEADLINE.set(time.monotonic() + MAX_SECONDS)
    try:
        return _render(value, context)
    finally:
        _DEADLINE.reset(token)


def _render(value: Any, context: Mapping[str, Any]) -> Any:
    if isinstance(value, str):
        if not is_template(value):
            return value
        m = _SINGLE.match(value)
        if m:
            return _defined(_ENV.compile_expression(m.group("expr"), undefined_to_none=False)(**context))
        return _ENV.from_string(value).render(**context)
    if isinstance(value, list):
        return [_render(v, context) for v in value]
    if isinstance(value, dict):
        return {k: _render(v, context) for k, v in value.items()}
    return value


def _defined(value: Any) -> Any:
    """A single expression's value, refused (jinja2.UndefinedError, as any other use of it would be) when it is, or
    directly holds, an undefined name (`{{ steps.x.output.numbr }}`): passed on, it would fail far from its
    template, when the output is saved."""
    items = value.values() if isinstance(value, dict) else value if isinstance(value, list | tuple) else (value,)
    for item in items:
        if isinstance(item, Undefined):
            item._fail_with_undefined_error()
    return value


@functools.lru_cache(maxsize=4096)
def parse(value: str) -> nodes.Template:
    """A template's syntax tree (not to be changed: it is shared). Raises jinja2.TemplateSyntaxError."""
    return _ENV.parse(value)


def expression(value: str) -> nodes.Expr | None:
    """The expression of a value that is one `{{ expression }}` (rendered to its native value), else None (a value
    that mixes text and templates renders to text)."""
    if _SINGLE.match(value) is None:
        return None
    outputs = parse(value).body
    if len(outputs) != 1 or not isinstance(outputs[0], nodes.Output):
        return None
    exprs = [n for n in outputs[0].nodes if not (isinstance(n, nodes.TemplateData) and not n.data.strip())]
    return exprs[0] if len(exprs) == 1 else None


@functools.lru_cache(maxsize=4096)  # flows repeat their templates ("{{ secrets.x_username }}"); parsing is costly
def references(value: str) -> tuple[tuple[str, str | None], ...]:
    """The (root, attribute) names a template reads, e.g. (('vars', 'q'), ('steps', 'pages')).

    Raises jinja2.TemplateSyntaxError for a malformed template, TemplateRefused for one that reaches Python
    internals or whose constant arithmetic is over the limits."""
    ast = parse(value)
    _refuse(ast)
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


class _NotConstant(Exception):
    pass


def _constant(node: nodes.Node) -> Any:
    """The value of a constant expression, computed with the bounded operators (_NotConstant otherwise)."""
    if isinstance(node, nodes.Const):
        return node.value
    if isinstance(node, nodes.Neg | nodes.Pos):
        value = _constant(node.node)
        return -value if isinstance(node, nodes.Neg) else value
    if isinstance(node, nodes.BinExpr) and node.operator in _BINOPS:
        return _binop(node.operator, _constant(node.left), _constant(node.right))
    if isinstance(node, nodes.Tuple | nodes.List):
        return tuple(_constant(item) for item in node.items)
    raise _NotConstant


def _internal(node: nodes.Node) -> str | None:
    """The first `__name` read, in the order the template reads them (`''.__class__.__mro__`: '__class__')."""
    for child in node.iter_child_nodes():
        found = _internal(child)
        if found is not None:
            return found
    name = node.attr if isinstance(node, nodes.Getattr) else (
        node.arg.value if isinstance(node, nodes.Getitem) and isinstance(node.arg, nodes.Const) else None)
    return name if isinstance(name, str) and name.startswith("__") else None


def _refuse(ast: nodes.Template) -> None:
    """What validation refuses: an attribute or key starting with `__` (`''.__class__.__mro__`, the way out of
    the sandbox, which refuses it at run time too), and constant arithmetic over the limits (`9 ** 99999999`)."""
    name = _internal(ast)
    if name is not None:
        raise TemplateRefused(f"template uses '{name}', which templates may not reach")
    for node in ast.find_all(nodes.BinExpr):
        try:
            _constant(node)
        except TemplateLimit as e:
            raise TemplateRefused(e.message) from None
        except Exception:  # noqa: BLE001 - not constant, or an error the run reports (1 / 0)
            continue


__all__ = ["MAX_DIGITS", "MAX_LENGTH", "MAX_SECONDS", "ROOTS", "TemplateLimit", "TemplateRefused",
           "TemplateSyntaxError", "expression", "is_template", "parse", "references", "render"]
