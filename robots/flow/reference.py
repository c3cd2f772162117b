"""The step reference (`robots steps`), generated from the step registry: each step's description, its
arguments with their types and defaults, the options every step takes, and an example."""

from __future__ import annotations

import textwrap
from typing import Any, Literal

import yaml
from pydantic import BaseModel
from pydantic.fields import FieldInfo

from robots.flow.schema import (
    STEPS_DEF,
    TEMPLATE_VALUE,
    _Builder,
    arg_key,
    example_of,
    primary_key,
    required_args,
    selector_fields,
    step_blocks,
    step_doc,
)
from robots.locators import STRATEGIES
from robots.steps import REGISTRY, StepArgs, StepDef
from robots.steps.plugins import load_plugins

Format = Literal["text", "markdown"]

SELECTOR_PLACEHOLDER = "page.name"
TEXT_PLACEHOLDER = "text"
KEY_PLACEHOLDER = "key"
_WIDTH = 100

INTRO = ("A step is `- name: {arguments}`, `- name: value` for its main argument, or `- name` for a step "
         "that needs no arguments.")
SELECTORS = ("A selector names a catalog entry (`page.name`, from `selectors/<portal>/<page>.yaml`) or is a raw "
             + ", ".join(f"`{s}:`" for s in STRATEGIES[:-1]) + f" or `{STRATEGIES[-1]}:` selector.")


# ------------------------------------------------------------------------------------------ labels
def type_label(s: dict[str, Any], *, selector: bool = False, selector_keys: bool = False) -> str:
    """A short, human name for a JSON Schema type: `selector`, `integer > 0`, `list of text`, ..."""
    if selector:
        return "selector"
    if "$ref" in s:
        name = s["$ref"].rsplit("/", 1)[1]
        return "steps" if name == STEPS_DEF else name
    if "anyOf" in s:
        labels = [type_label(b, selector_keys=selector_keys) for b in s["anyOf"]
                  if b.get("type") != "null" and b != TEMPLATE_VALUE]  # (any such argument may be a template)
        return " or ".join(dict.fromkeys(labels)) or "nothing"
    if "enum" in s:
        return " | ".join(str(v) for v in s["enum"])
    if "const" in s:
        return str(s["const"])
    t = s.get("type")
    if t in ("integer", "number"):
        bound = ""
        if "exclusiveMinimum" in s:
            bound = f" > {s['exclusiveMinimum']}"
        elif "minimum" in s:
            bound = f" ≥ {s['minimum']}"
        return f"{t}{bound}"
    if t == "string":
        return "text"
    if t == "boolean":
        return "true/false"
    if t == "array":
        items = s.get("items")
        return f"list of {type_label(items)}" if items else "list"
    if t == "object":
        values = s.get("additionalProperties")
        keys = "selector" if selector_keys else "name"
        if isinstance(values, dict) and values:
            return f"mapping of {keys} → {type_label(values)}"
        return "mapping"
    return "any"


def _yaml_inline(value: Any) -> str:
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def requirement_label(finfo: FieldInfo, *, main: bool = False) -> str:
    if finfo.is_required():
        label = "required"
    else:
        default = finfo.get_default(call_default_factory=True)
        label = "optional" if default is None else f"default: {_yaml_inline(default)}"
    return f"{label}, main" if main else label


# ---------------------------------------------------------------------------------------- examples
class _IndentedDumper(yaml.SafeDumper):
    """Block lists indented under their key, as flows are written."""

    def increase_indent(self, flow: bool = False, indentless: bool = False) -> None:
        super().increase_indent(flow, False)


class _Block(dict):
    """A step (`- click: page.name`): always block style, whatever its value."""


class _BlockList(list):
    """A list of steps: always block style, even of bare names (`- back`)."""


_IndentedDumper.add_representer(
    _Block, lambda d, data: d.represent_mapping("tag:yaml.org,2002:map", data.items(), flow_style=False))
_IndentedDumper.add_representer(
    _BlockList, lambda d, data: d.represent_sequence("tag:yaml.org,2002:seq", data, flow_style=False))


def _as_step(item: Any) -> Any:
    return _Block(item) if isinstance(item, dict) else item


def _placeholder(s: Any, defs: dict[str, Any], nested: list[Any], *, selector: bool = False,
                 selector_keys: bool = False) -> Any:
    """A value of the right type for schema `s`: the schema's first example if it has one."""
    if not isinstance(s, dict):
        return TEXT_PLACEHOLDER
    if s.get("examples"):
        return s["examples"][0]
    if selector:
        return SELECTOR_PLACEHOLDER
    if "$ref" in s:
        name = s["$ref"].rsplit("/", 1)[1]
        if name == STEPS_DEF:
            return nested
        target = defs[name]
        return {k: _placeholder(target["properties"][k], defs, nested) for k in target.get("required", [])}
    if "anyOf" in s:
        branches = [b for b in s["anyOf"] if b.get("type") != "null"] or s["anyOf"]
        return _placeholder(branches[0], defs, nested, selector_keys=selector_keys)
    if "enum" in s:
        return s["enum"][0]
    if "const" in s:
        return s["const"]
    t = s.get("type")
    if t in ("integer", "number"):
        return _number_placeholder(s)
    if t == "boolean":
        return True
    if t == "array":
        return [_placeholder(s.get("items", {}), defs, nested)] * max(1, s.get("minItems", 1))
    if t == "object":
        values = s.get("additionalProperties")
        key = SELECTOR_PLACEHOLDER if selector_keys else KEY_PLACEHOLDER
        if isinstance(values, dict):
            return {key: _placeholder(values, defs, nested)}
        return {}
    return TEXT_PLACEHOLDER


def _number_placeholder(s: dict[str, Any]) -> Any:
    """The smallest number schema `s` allows (1 when it sets no minimum)."""
    if "minimum" in s:
        return s["minimum"]
    if "exclusiveMinimum" in s:
        low = s["exclusiveMinimum"]
        return int(low) + 1 if float(low).is_integer() else low + 1
    return 1


def _nested_example(steps: dict[str, StepDef]) -> list[Any]:
    """The inner steps shown in a container's example: the first step with a main argument."""
    for name in sorted(steps):
        sdef = steps[name]
        if sdef.args.primary is not None and not step_blocks(sdef):
            return _BlockList([_Block({name: SELECTOR_PLACEHOLDER if primary_key(sdef.args) in
                                       selector_fields(sdef.args) else TEXT_PLACEHOLDER})])
    return _BlockList([sorted(steps)[0]])


def example_data(sdef: StepDef, builder: _Builder, steps: dict[str, StepDef]) -> Any:
    """One list item of a flow's `steps` using this step, derived from its argument model: the main-argument
    shorthand when there is one (and nothing else is required), else a mapping of the required arguments."""
    model = sdef.args
    schema = builder.args_schema(sdef)
    props = schema.get("properties", {})
    selectors = selector_fields(model)
    nested = _nested_example(steps)

    def value(arg: str) -> Any:
        marker = selectors.get(arg)
        return _placeholder(props[arg], builder.defs, nested, selector=bool(marker and not marker.keys),
                            selector_keys=bool(marker and marker.keys))

    required = required_args(model)
    primary = primary_key(model)
    if primary is not None and set(required) <= {primary} and props[primary].get("type") != "object":
        return {sdef.name: value(primary)}
    if required:
        return {sdef.name: {arg: value(arg) for arg in required}}
    if model.model_config.get("extra") == "allow":
        return {sdef.name: {KEY_PLACEHOLDER: TEXT_PLACEHOLDER}}
    return sdef.name


def example_yaml(sdef: StepDef, builder: _Builder | None = None, steps: dict[str, StepDef] | None = None) -> str:
    """The step's example as YAML text (one list item), its own `example` if it has one."""
    own = example_of(sdef.args)
    if own is not None:
        return own.strip("\n")
    steps = REGISTRY if steps is None else steps
    builder = builder or _Builder(steps)
    data = example_data(sdef, builder, steps)
    text = yaml.dump(_BlockList([_as_step(data)]), Dumper=_IndentedDumper, default_flow_style=None, sort_keys=False,
                     allow_unicode=True, width=10**6)
    return text.rstrip("\n")


# ------------------------------------------------------------------------------------------ tables
def _rows(model: type[BaseModel], schema: dict[str, Any], names: list[str],
          primary: str | None = None) -> list[tuple[str, str, str, str]]:
    selectors = selector_fields(model)
    rows = []
    for fname in names:
        finfo = model.model_fields[fname]
        name = arg_key(fname, finfo)
        marker = selectors.get(name)
        rows.append((
            name,
            type_label(schema["properties"][name], selector=bool(marker and not marker.keys),
                       selector_keys=bool(marker and marker.keys)),
            requirement_label(finfo, main=name == primary),
            " ".join((finfo.description or "").split()),
        ))
    if model.model_config.get("extra") == "allow":
        rows.append((f"<{KEY_PLACEHOLDER}>", "any", "any number", "names of your choosing"))
    return rows


def _text_table(rows: list[tuple[str, str, str, str]], indent: str) -> list[str]:
    if not rows:
        return [f"{indent}(no arguments)"]
    w0 = max(len(r[0]) for r in rows)
    w1 = min(max(len(r[1]) for r in rows), 40)  # a longer type (a long enum) pushes only its own line
    out = []
    for name, typ, req, desc in rows:
        out.append(f"{indent}{name:<{w0}}  {typ:<{w1}}  {req}".rstrip())
        if desc:
            out += textwrap.wrap(desc, _WIDTH, initial_indent=indent + "    ", subsequent_indent=indent + "    ")
    return out


def _md_cell(text: str) -> str:
    return text.replace("|", "\\|")


def _md_table(rows: list[tuple[str, str, str, str]]) -> list[str]:
    if not rows:
        return ["No arguments."]
    out = ["| argument | type | required / default | description |", "| --- | --- | --- | --- |"]
    for name, typ, req, desc in rows:
        out.append(f"| `{name}` | {_md_cell(typ)} | {_md_cell(req)} | {_md_cell(desc)} |")
    return out


def _referenced_defs(node: Any, defs: dict[str, Any], seen: dict[str, None]) -> None:
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            name = ref.rsplit("/", 1)[1]
            if name != STEPS_DEF and name in defs and name not in seen:
                seen[name] = None
                _referenced_defs(defs[name], defs, seen)
        for v in node.values():
            _referenced_defs(v, defs, seen)
    elif isinstance(node, list):
        for v in node:
            _referenced_defs(v, defs, seen)


# --------------------------------------------------------------------------------------- reference
def step_section(sdef: StepDef, fmt: Format = "text", *, builder: _Builder | None = None,
                 steps: dict[str, StepDef] | None = None) -> str:
    """One step's entry in the reference."""
    steps = REGISTRY if steps is None else steps
    builder = builder or _Builder(steps)
    model = sdef.args
    own = [n for n in model.model_fields if n not in StepArgs.model_fields]
    rows = _rows(model, builder.args_schema(sdef), own, primary_key(model))
    doc = step_doc(sdef)
    example = example_yaml(sdef, builder, steps)
    if fmt == "markdown":
        out = [f"### `{sdef.name}`", ""]
        if doc:
            out += [doc, ""]
        out += _md_table(rows)
        out += ["", "```yaml", example, "```"]
        return "\n".join(out)
    out = [sdef.name]
    for para in doc.split("\n\n") if doc else []:
        out += textwrap.wrap(para, _WIDTH, initial_indent="    ", subsequent_indent="    ")
    out.append("")
    out += _text_table(rows, "    ")
    out += ["", "    example:"]
    out += [f"        {line}" for line in example.splitlines()]
    return "\n".join(out)


def step_reference(fmt: Format = "text", steps: dict[str, StepDef] | None = None) -> str:
    """The reference of every registered step (or of those given), as plain text or Markdown."""
    if fmt not in ("text", "markdown"):
        raise ValueError(f"unknown format {fmt!r}; use 'text' or 'markdown'")
    if steps is None:
        load_plugins()
        steps = REGISTRY
    builder = _Builder(steps)
    common = [n for n in StepArgs.model_fields]
    common_rows = _rows(StepArgs, StepArgs.model_json_schema(), common)
    sections = [step_section(steps[n], fmt, builder=builder, steps=steps) for n in sorted(steps)]

    types: dict[str, None] = {}
    for name in sorted(steps):
        _referenced_defs(builder.args_schema(steps[name]), builder.defs, types)
    type_sections = []
    for tname in types:
        tschema = builder.defs[tname]
        model = builder.models.get(tname)
        if model is None or "properties" not in tschema:
            continue
        rows = _rows(model, tschema, list(model.model_fields))
        desc = " ".join((tschema.get("description") or "").split())
        if fmt == "markdown":
            type_sections.append("\n".join([f"### `{tname}`", "", *([desc, ""] if desc else []),
                                            *_md_table(rows)]))
        else:
            type_sections.append("\n".join([tname, *textwrap.wrap(desc, _WIDTH, initial_indent="    ",
                                                                  subsequent_indent="    "),
                                            "", *_text_table(rows, "    ")]))

    if fmt == "markdown":
        out = ["# Flow steps", "", INTRO, "", SELECTORS, "", "## Options every step takes", "",
               *_md_table(common_rows), "", f"## Steps ({len(steps)})", ""]
        out += "\n\n".join(sections).splitlines()
        if type_sections:
            out += ["", "## Argument types", ""]
            out += "\n\n".join(type_sections).splitlines()
    else:
        out = ["FLOW STEPS", ""]
        out += [*textwrap.wrap(INTRO, _WIDTH), "", *textwrap.wrap(SELECTORS, _WIDTH)]
        out += ["", "Options every step takes:", ""]
        out += _text_table(common_rows, "    ")
        out += ["", f"STEPS ({len(steps)})", ""]
        out += "\n\n".join(sections).splitlines()
        if type_sections:
            out += ["", "ARGUMENT TYPES", ""]
            out += "\n\n".join(type_sections).splitlines()
    return "\n".join(out) + "\n"
