"""A flow's `steps:` list to validated step calls: each step's name looked up in the registry, its arguments
validated by the step's model (a templated argument checked once rendered), its selectors resolved in the
flow's catalog and its step id kept unique; every problem located."""

from __future__ import annotations

import typing
from typing import Any

from pydantic import ValidationError

from robots.errors import FlowIssue, suggest
from robots.flow import templating
from robots.flow.issues import describe, pydantic_issues
from robots.flow.model import StepCall
from robots.flow.schema import selector_fields
from robots.flow.yamlsrc import Located
from robots.locators import looks_like_locator, syntax_problem
from robots.selectors_catalog import SelectorCatalog
from robots.steps import REGISTRY
from robots.steps.base import StepArgs


class StepParser:
    def __init__(self, located: Located, catalog: SelectorCatalog):
        self.located = located
        self.catalog = catalog
        self.issues: list[FlowIssue] = []
        self.ids: dict[str, str] = {}

    def parse_list(self, items: Any, base: tuple, wh: str) -> tuple[StepCall, ...]:
        if not isinstance(items, list):
            self.issues.append(self.located.issue(base, wh, f"expected a list of steps, got {describe(items)}"))
            return ()
        calls = []
        for i, item in enumerate(items):
            call = self.parse_one(item, base + (i,), f"{wh}[{i}]")
            if call is not None:
                calls.append(call)
        return tuple(calls)

    def parse_one(self, item: Any, path: tuple, wh: str) -> StepCall | None:
        loc = self.located
        named = self._named(item, path, wh)
        if named is None:
            return None
        kind, raw, arg_path = named
        sdef = REGISTRY[kind]
        data = self._arguments(sdef.args, raw, arg_path, f"{wh}.{kind}")
        if data is None:
            return None
        where_step = f"{wh}.{kind}"
        try:
            args = _validate_args(sdef.args, data)
        except ValidationError as e:
            self.issues += pydantic_issues(loc, e, arg_path, where_step, sdef.args, "argument")
            bad = {str(err["loc"][0]) for err in e.errors() if err["loc"]}
            self._check_selectors(_raw_selector_refs(sdef.args, data, bad), arg_path, where_step)
            for block in sdef.blocks:  # report the inner steps' problems too
                if isinstance(data.get(block), list):
                    self.parse_list(data[block], arg_path + (block,), f"{where_step}.{block}")
            return None
        line, col = loc.pos(path)
        self._check_id_and_selectors(args, arg_path, where_step, line)
        blocks = {block: self.parse_list(data.get(block) or [], arg_path + (block,), f"{where_step}.{block}")
                  for block in sdef.blocks}
        return StepCall(kind, args, blocks, wh, line, col)

    def _named(self, item: Any, path: tuple, wh: str) -> tuple[str, Any, tuple] | None:
        """(step name, raw arguments, the arguments' path) of a list item that names a registered step, else
        None with the problem noted."""
        loc = self.located
        if isinstance(item, str):
            kind, raw, arg_path = item, None, path
        elif isinstance(item, dict) and len(item) == 1:
            kind, raw = next(iter(item.items()))
            arg_path = path + (kind,)
        elif isinstance(item, dict) and item:
            steps_here = [k for k in item if k in REGISTRY]
            if len(steps_here) == 1:
                msg = (f"the arguments of '{steps_here[0]}' must be indented under it "
                       f"(found {', '.join(repr(k) for k in item if k != steps_here[0])} beside it)")
            else:
                msg = ("a step is a mapping with one key, the step's name; found keys "
                       + ", ".join(f"'{k}'" for k in item))
            self.issues.append(loc.issue(path, wh, msg))
            return None
        else:
            self.issues.append(loc.issue(path, wh, f"expected a step like '- open: URL', got {describe(item)}"))
            return None
        if kind not in REGISTRY:
            self.issues.append(loc.issue(arg_path, wh, f"unknown step '{kind}'{suggest(kind, sorted(REGISTRY))}",
                                         key=True))
            return None
        return kind, raw, arg_path

    def _arguments(self, model: type[StepArgs], raw: Any, arg_path: tuple, where_step: str) -> Any:
        """The arguments as a mapping (a bare value is the step's main argument), else None with the problem
        noted."""
        if raw is None:
            return {}
        if isinstance(raw, dict):
            return raw
        if model.primary is not None:
            return {model.primary: raw}
        self.issues.append(self.located.issue(arg_path, where_step,
                                              f"expected a mapping of arguments, got {describe(raw)}"))
        return None

    def _check_id_and_selectors(self, args: StepArgs, arg_path: tuple, where_step: str, line: int | None) -> None:
        """A step id is used once in a flow; every selector the arguments name is in the catalog."""
        loc = self.located
        if args.id is not None:
            if args.id in self.ids:
                self.issues.append(loc.issue(arg_path + ("id",), f"{where_step}.id",
                                             f"duplicate step id '{args.id}' (first used at {self.ids[args.id]})"))
            else:
                self.ids[args.id] = f"line {line}"
        self._check_selectors(args.selector_refs(), arg_path, where_step)

    def _check_selectors(self, refs: list[tuple[str, str]], arg_path: tuple, where_step: str) -> None:
        """Every selector named is in the catalog, or is a raw selector that parses."""
        for fname, ref in refs:
            try:
                selector = self.catalog.resolve(ref)
            except (KeyError, ValueError) as e:
                self.issues.append(self.located.issue(arg_path + (fname,), f"{where_step}.{fname}", e.args[0]))
                continue
            problem = syntax_problem(selector.candidates[0]) if looks_like_locator(ref) else None
            if problem is not None:  # a raw `css:` or `xpath:` selector given in the flow
                self.issues.append(self.located.issue(arg_path + (fname,), f"{where_step}.{fname}", problem))


def _raw_selector_refs(model: type[StepArgs], data: dict[str, Any], bad: set[str]) -> list[tuple[str, str]]:
    """(argument, selector) for the selectors of arguments that are not themselves invalid, read from the raw
    arguments of a step whose other arguments are (so that every problem of the step is reported at once)."""
    refs = []
    for fname, marker in selector_fields(model).items():
        value = data.get(fname)
        if fname in bad or value is None:
            continue
        if marker.keys and isinstance(value, dict) or isinstance(value, list):
            refs += [(fname, k) for k in value if isinstance(k, str)]
        elif isinstance(value, str):
            refs.append((fname, value))
    return refs


# Stand-ins that let the rest of a step's arguments be checked while a templated number, flag or list waits
# for run time (the engine validates the rendered arguments with the same model).
_STAND_INS: tuple[Any, ...] = (1, 1.0, True, "x", [], {})


def _validate_args(model: type[StepArgs], data: dict[str, Any]) -> StepArgs:
    """The step's arguments, validated. A `{{ template }}` given for a step's own argument that is not text
    (a number, a flag, a list: `max_pages: "{{ vars.pages }}"`) is kept as written and checked once rendered.
    The options every step takes (`optional`, `timeout`, `write`, ...) are written as literals."""
    try:
        return model.model_validate(data)
    except ValidationError as e:
        templated = {str(err["loc"][0]) for err in e.errors() if len(err["loc"]) >= 1
                     and isinstance(data.get(str(err["loc"][0])), str)
                     and templating.is_template(data[str(err["loc"][0])])
                     and str(err["loc"][0]) not in model.expressions
                     and str(err["loc"][0]) not in StepArgs.model_fields}  # fmt: skip (step options stay literal)
        if not templated:
            raise
        trial = dict(data)
        for name in templated:
            # The first stand-in with which the arguments validate, else the first that the field itself takes
            # (the problems that remain are the arguments' own).
            usable = None
            for stand_in in (*_choices(model, name), *_STAND_INS):
                try:
                    model.model_validate({**trial, name: stand_in})
                except ValidationError as inner:
                    if usable is None and not any(err["loc"][:1] == (name,) for err in inner.errors()):
                        usable = (stand_in,)
                    continue
                usable = (stand_in,)
                break
            if usable is not None:
                trial[name] = usable[0]
        args = model.model_validate(trial)  # raises for the problems that remain
        return args.model_copy(update={name: data[name] for name in templated})


def _choices(model: type[StepArgs], name: str) -> tuple[Any, ...]:
    """The values a `Literal[...]` argument allows (a stand-in for its template), else ()."""
    annotation = model.model_fields[name].annotation
    for option in (annotation, *typing.get_args(annotation)):
        if typing.get_origin(option) is typing.Literal:
            return typing.get_args(option)
    return ()
