"""The paths templates read past a name (`steps.wo.output.work_order.number`, `vars.found.name`, `loop.item.id`),
checked against what the flow's steps give (robots.steps.shapes): a misspelt field with did-you-mean, `outputs` for
`output`, a list read as a record, `loop` read outside a loop. What no step can tell is accepted as it is."""

from __future__ import annotations

import functools
from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any

from jinja2 import nodes

from robots.errors import suggest
from robots.flow import templating
from robots.flow.model import StepCall
from robots.scrape import contracts
from robots.steps import REGISTRY
from robots.steps.shapes import ANY, BOOLEAN, NOTHING, NUMBER, TEXT, Shape, list_of, model_shape, record

if TYPE_CHECKING:
    from robots.flow.model import Flow

#: the steps whose inner steps see `loop` (robots.run.context: loop_item)
LOOPS = ("for_each", "repeat_until")
_RELAXING_FILTERS = ("default", "d")  # `x.y | default('')`: y may be missing
_RELAXING_TESTS = ("defined", "undefined")
Part = str | int
#: the shapes a value of each output type (robots.flow.model.OutputType) may have
_FITS = {"string": ("text",), "integer": ("number",), "number": ("number",), "boolean": ("boolean",),
         "list": ("list",), "mapping": ("record",)}


class FlowShapes:
    """The shapes of one flow's step outputs, `set` vars and outputs (robots.steps.shapes.ShapeSource)."""

    def __init__(self, calls: list[StepCall], declared_vars: set[str], called: Callable[[str], Flow | None]):
        self._by_id = {c.args.id: c for c in calls if c.args.id is not None}
        self._by_where = {c.where: c for c in calls}
        self._declared = declared_vars
        self._called = called
        self._sets: dict[str, list[Any]] = {}
        self._outputs: dict[str, list[Any]] = {}
        for c in calls:
            into = self._sets if c.kind == "set" else self._outputs if c.kind == "set_output" else None
            if into is not None:
                for name, value in c.args.values().items():  # type: ignore[attr-defined]
                    into.setdefault(name, []).append(value)
        self._memo: dict[str, Shape] = {}

    # ---------------------------------------------------------------------------------- ShapeSource
    def output_of(self, step_id: str) -> Shape:
        call = self._by_id.get(step_id)
        return ANY if call is None else self._once(f"steps.{step_id}", lambda: _declared(call, self))

    def record_model(self, name: str) -> Shape:
        try:
            return model_shape(contracts.model(name), name)
        except Exception:  # noqa: BLE001 - an unknown model is reported where it is named
            return ANY

    def flow_outputs(self, target: str) -> Shape:
        sub = self._called(target)
        if sub is None:
            return ANY
        return record({n: sub.output_shapes.get(n, ANY) for n in sub.outputs}, f"the outputs of {target}")

    def value(self, value: Any, scope: Shape | None = None) -> Shape:
        if isinstance(value, str):
            if not templating.is_template(value):
                return TEXT
            try:
                expr = templating.expression(value)
            except templating.TemplateSyntaxError:  # reported where it is written
                return ANY
            return TEXT if expr is None else self._expression(expr, scope)
        if isinstance(value, bool):
            return BOOLEAN
        if isinstance(value, int | float):
            return NUMBER
        if value is None:
            return NOTHING
        if isinstance(value, dict):
            return record({str(k): self.value(v, scope) for k, v in value.items()}, "a mapping")
        if isinstance(value, list):
            return list_of(functools.reduce(Shape.union, (self.value(v, scope) for v in value)) if value else ANY)
        return ANY

    # ---------------------------------------------------------------------------------------- the rest
    def var(self, name: str) -> Shape:
        """A var that only `set` steps give (a declared one takes what the caller gives: ANY)."""
        if name in self._declared or name not in self._sets:
            return ANY
        return self._once(f"vars.{name}", lambda: functools.reduce(
            Shape.union, (self.value(v) for v in self._sets[name])))

    def outputs(self, declared: list[str]) -> dict[str, Shape]:
        """Each declared output's shape: what every `set_output` of it gives, when they agree."""
        return {n: functools.reduce(Shape.union, (self.value(v) for v in self._outputs[n])) if n in self._outputs
                else ANY for n in declared}

    def output_problem(self, name: str, declared: str | None, value: Any) -> str | None:
        """Why `value`, given to the output `name` declared of type `declared`, is known to be of another type."""
        shape = self.value(value)
        if declared is None or shape.kind in ("any", "nothing") or shape.kind in _FITS[declared]:
            return None
        written = value.strip() if isinstance(value, str) else repr(value)
        what = {"record": shape.name or "a mapping", "list": "a list", "text": "text", "number": "a number",
                "boolean": "true or false"}[shape.kind]
        article = "an" if declared == "integer" else "a"
        return f"output '{name}' is declared {article} {declared}, but '{written}' is {what}"

    def loop_scope(self, path: tuple) -> Shape | None:
        """What `loop` holds for a template at `path` in the document: inside a for_each's steps, its item's
        shape and index (inside a repeat_until's steps and its `until`, the round); None outside every loop."""
        for k in range(len(path) - 2, -1, -1):
            kind = path[k]
            inside = (path[k + 1] in REGISTRY[kind].blocks and len(path) > k + 2 and isinstance(path[k + 2], int)
                      if kind in LOOPS or _foreign_container(kind) else False)
            if inside or (kind == "repeat_until" and path[k + 1] == "until"):  # (checked after each round, in it)
                call = self._by_where.get(_where(path[:k]))
                item = ANY
                if call is not None and call.kind == "for_each":
                    items = self.value(call.args.items, self.loop_scope(path[:k]))  # type: ignore[attr-defined]
                    item = items.item or ANY if items.kind == "list" else ANY
                return record({"item": item, "index": NUMBER}, "a loop")
        return None

    def _once(self, key: str, compute: Callable[[], Shape]) -> Shape:
        if key not in self._memo:
            self._memo[key] = ANY  # while it is computed: a step that reads itself gets ANY
            self._memo[key] = compute()
        return self._memo[key]

    def _expression(self, node: nodes.Node, scope: Shape | None) -> Shape:
        if isinstance(node, nodes.Const):
            return self.value(node.value)
        if isinstance(node, nodes.List | nodes.Tuple):
            items = [self._expression(n, scope) for n in node.items]
            return list_of(functools.reduce(Shape.union, items) if items else ANY)
        if isinstance(node, nodes.Dict):
            keys = [p.key.value if isinstance(p.key, nodes.Const) else None for p in node.items]
            if all(isinstance(k, str) for k in keys):
                return record({str(k): self._expression(p.value, scope) for k, p in zip(keys, node.items, strict=True)},
                              "a mapping")
            return ANY
        chain = _chain(node)
        if chain is None or chain[2]:
            return ANY
        root, parts, _ = chain
        shape, start = self._root(root, parts, scope)
        for part in parts[start:]:
            if shape.kind == "record" and isinstance(part, str) and part in shape.fields:
                shape = shape.fields[part]
            elif shape.kind == "list" and isinstance(part, int) and shape.item is not None:
                shape = shape.item
            else:
                return ANY
        return shape

    def _root(self, root: str, parts: tuple[Part, ...], scope: Shape | None) -> tuple[Shape, int]:
        """The shape at the start of a path, and how many of its parts that took."""
        if root == "steps" and parts and parts[0] in self._by_id:
            return record({"output": self.output_of(str(parts[0]))}, "a step"), 1
        if root == "vars" and parts and isinstance(parts[0], str):
            return self.var(parts[0]), 1
        if root == "loop" and scope is not None:
            return scope, 0
        return ANY, len(parts)

    # ------------------------------------------------------------------------------------------ checks
    def problems(self, template: str, path: tuple) -> list[str]:
        """What `template` (at `path` in the document) reads that is not there."""
        ast = templating.parse(template)
        scope = self.loop_scope(path)
        jinja_loop = any(True for _ in ast.find_all(nodes.For))  # its own `loop`, in a {% for %}
        found = []
        for root, parts, open_end in _chains(ast):
            if root == "loop" and scope is None and not jinja_loop and parts and parts[0] in ("item", "index"):
                found.append(f"'{{{{ loop.{parts[0]} }}}}' is read outside the steps of a "
                             f"{' or '.join(LOOPS)}: loop is set only there")
                continue
            if root == "loop" and jinja_loop:
                continue
            shape, start = self._root(root, parts, scope)
            problem = _walk(shape, parts, start, open_end, functools.partial(_shown, root))
            if problem is not None:
                found.append(problem)
        found += self._attribute_problems(ast, scope)
        return found

    def _attribute_problems(self, ast: nodes.Template, scope: Shape | None) -> list[str]:
        """The field a filter reads from each item of a list of records (`| map(attribute='name')`,
        `| selectattr('status', ...)`, `| sort(attribute='created_at')`, ...)."""
        found = []
        for f in ast.find_all(nodes.Filter):
            assert isinstance(f, nodes.Filter)
            attribute = _attribute_of(f)
            if attribute is None or f.node is None:
                continue
            chain = _chain(f.node)
            if chain is None or chain[2]:
                continue
            items = self._expression(f.node, scope)
            if items.kind != "list" or items.item is None:
                continue
            parts: tuple[Part, ...] = tuple(int(p) if p.isdigit() else p for p in attribute.split("."))
            listed = _shown(chain[0], chain[1])
            written = "attribute=" if f.name not in ("selectattr", "rejectattr") else ""

            def shown(ps: tuple[Part, ...], f: nodes.Filter = f, listed: str = listed, written: str = written) -> str:
                if not ps:
                    return f"an item of {listed}"
                return f"{listed} | {f.name}({written}'{'.'.join(str(p) for p in ps)}')"

            problem = _walk(items.item, parts, 0, False, shown)
            if problem is not None:
                found.append(problem)
        return found


def _foreign_container(kind: Any) -> bool:
    """A step with nested steps from outside robots.steps (a plugin's): it may set `loop` for them, as the core's
    loops do (its item is then not known)."""
    sdef = REGISTRY.get(kind) if isinstance(kind, str) else None
    return sdef is not None and bool(sdef.blocks) and not sdef.origin.startswith("module robots.steps.")


def _declared(call: StepCall, shapes: FlowShapes) -> Shape:
    """The output shape a step declares; ANY when its `output_shape` fails (a plugin's step: validation goes on)."""
    try:
        return call.args.output_shape(shapes)
    except Exception:  # noqa: BLE001 - any failure of a step's own code means only that its output is not known
        return ANY


def _walk(shape: Shape, parts: tuple[Part, ...], start: int, open_end: bool,
          shown: Callable[[tuple[Part, ...]], str]) -> str | None:
    """Why the path `parts` is not in `shape` (from part `start` on), else None; `shown(parts)` writes a path as
    the template does."""
    for i in range(start, len(parts)):
        part, last = parts[i], i == len(parts) - 1
        if shape.kind == "record":
            if isinstance(part, str) and part in shape.fields:
                shape = shape.fields[part]
                continue
            if isinstance(part, int) or (last and open_end):
                return None
            known = sorted(shape.fields)
            hint = suggest(part, known)
            if shape.name == "a step":
                return (f"unknown key '{part}' in '{{{{ {shown(parts[:i + 1])} }}}}'"
                        + (hint or f" (a step gives only {shown(parts[:i])}.output)"))
            return (f"unknown field '{part}' in '{{{{ {shown(parts[:i + 1])} }}}}'"
                    + (hint or f" ({shown(parts[:i])} has: {', '.join(known) or 'no fields'})"))
        if shape.kind == "list":
            if isinstance(part, int) and shape.item is not None:
                shape = shape.item
                continue
            if isinstance(part, int) or (last and open_end):
                return None
            return (f"unknown field '{part}' in '{{{{ {shown(parts[:i + 1])} }}}}' "
                    f"({shown(parts[:i])} is a list: read an item with `| first`, `[0]` or a for_each)")
        return None
    return None


#: filters that read a field of every item: by their `attribute=` argument, or their first (selectattr, rejectattr)
_ATTRIBUTE_FILTERS = ("map", "selectattr", "rejectattr", "sort", "groupby", "sum", "min", "max", "unique")


def _attribute_of(f: nodes.Filter) -> str | None:
    """The field a filter reads from every item, when it is written as a constant."""
    if f.name not in _ATTRIBUTE_FILTERS:
        return None
    for kw in f.kwargs:
        if kw.key == "attribute" and isinstance(kw.value, nodes.Const) and isinstance(kw.value.value, str):
            return kw.value.value
    if f.name in ("selectattr", "rejectattr") and f.args and isinstance(f.args[0], nodes.Const) \
            and isinstance(f.args[0].value, str):
        return f.args[0].value
    return None


def _shown(root: str, parts: tuple[Part, ...]) -> str:
    return root + "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in parts)


def _where(path: tuple) -> str:
    """A document path as a step's `where` (steps[2].for_each.steps[0])."""
    out = ""
    for p in path:
        out += f"[{p}]" if isinstance(p, int) else (f".{p}" if out else str(p))
    return out


def _chain(node: nodes.Node) -> tuple[str, tuple[Part, ...], bool] | None:
    """(root name, parts, whether a key is computed after them) of `node` when it is a name read through
    attributes and keys (`steps.rows.output[0].name`); past a computed key (`[vars.k]`) only the parts before it."""
    parts: list[Part] = []
    computed = False
    while isinstance(node, nodes.Getattr | nodes.Getitem):
        if isinstance(node, nodes.Getattr):
            parts.append(node.attr)
        elif isinstance(node.arg, nodes.Const) and isinstance(node.arg.value, str | int) \
                and not isinstance(node.arg.value, bool):
            parts.append(node.arg.value)
        else:
            parts, computed = [], True
        node = node.node
    if not isinstance(node, nodes.Name) or node.ctx != "load":
        return None
    return node.name, tuple(reversed(parts)), computed


def _chains(ast: nodes.Template) -> Iterator[tuple[str, tuple[Part, ...], bool]]:
    """Every longest path a template reads from one of the roots (ROOTS, not a name it assigns itself), and
    whether its last part may be missing (a method called, `| default`, `is defined`)."""
    assigned = {n.name for n in ast.find_all(nodes.Name) if n.ctx in ("store", "param")}
    inner = {id(n.node) for n in ast.find_all((nodes.Getattr, nodes.Getitem))}  # type: ignore[attr-defined]
    open_end = {id(c.node) for c in ast.find_all(nodes.Call)}  # type: ignore[attr-defined]
    open_end |= {id(f.node) for f in ast.find_all(nodes.Filter) if f.name in _RELAXING_FILTERS}  # type: ignore
    open_end |= {id(t.node) for t in ast.find_all(nodes.Test) if t.name in _RELAXING_TESTS}  # type: ignore
    for node in ast.find_all((nodes.Getattr, nodes.Getitem)):
        if id(node) in inner:
            continue
        found = _chain(node)
        if found is None or found[0] not in templating.ROOTS or found[0] in assigned:
            continue
        root, parts, computed = found
        yield root, parts, not computed and id(node) in open_end
