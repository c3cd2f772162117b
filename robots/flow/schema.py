"""A JSON Schema (draft 2020-12) for flow files, generated from FlowDoc and the step registry, for editors
(VS Code's YAML extension: completion, hover docs, squiggles). The loader stays the judge; the schema helps."""

from __future__ import annotations

import copy
import inspect
import re
import typing
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo
from pydantic.json_schema import models_json_schema

from robots.flow.model import FlowDoc, VarSpec
from robots.locators import STRATEGIES
from robots.steps import REGISTRY, StepDef
from robots.steps.base import StepArgs, _SelectorMarker, selector_marker
from robots.steps.plugins import load_plugins

DIALECT = "https://json-schema.org/draft/2020-12/schema"
STEP_DEF = "step"  # $defs key of one step (the oneOf of every registered step)
STEPS_DEF = "steps"  # $defs key of a list of steps: the top-level `steps` and every container's `steps`

_REF = "#/$defs/{model}"
_COMMON = tuple(StepArgs.model_fields)

SELECTOR_NOTE = ("a selector: a catalog entry (`page.name`, e.g. `login.username`) or a raw "
                 + ", ".join(f"`{s}:`" for s in STRATEGIES[:-1]) + f" or `{STRATEGIES[-1]}:` selector")
SELECTOR_KEYS_NOTE = "a mapping whose keys are selectors: catalog entries (`page.name`) or raw `strategy:value` ones"

# Hover text for top-level keys whose Field in model.py has no description (a description there wins).
_TOP_LEVEL_DOCS = {
    "name": "the flow's name: letters, digits, '_', '.' and '-'",
    "description": "what the flow does, for people",
    "version": "the flow's own version, for records",
    "portal": "the portal profile (base URL, tenant, time zone) and the default selector catalog "
              "`selectors/<portal>/`",
    "vars": "inputs (`--var q=smith`): `name: default` or `name: {default, required, type, description}`",
    "secrets": "names of the secrets the flow reads as `{{ secrets.<name> }}` (values come from the environment, "
               "the vault or a command), or `name: {optional, description}`",
    "retry": "retry policy for technical failures of every step: `attempts` (more tries, default 1) and `backoff` "
             "(seconds before the first, doubled each time); not for containers, steps with their own `on_error`, "
             "or writes not marked `idempotent`",
    "session": "this flow signs in: `account` (and `password`) as templates; the runner keeps the session it "
               "leaves, restores it in later runs and signs in again when the portal ends it",
    "outputs": "what a run returns: a list of names, or `name: {type, description}`; set with `set_output`",
    "timeouts": "seconds to wait: `step` (for the page, per step) and `page_load` (per navigation)",
    "browser": "which browser runs the flow: `kind` (chromium, undetected, remote), `headless`, `grid_url`, "
               "`window_size`, `page_load_timeout`, `arguments`, `binary`; ROBOTS_BROWSER / ROBOTS_GRID_URL and "
               "--browser / --grid-url / --headed override it",
    "steps": "the steps, run in order: `- name: {arguments}`, `- name: value` for a step's main argument, "
             "or `- name` for a step without required arguments",
}




def arg_key(name: str, finfo: FieldInfo) -> str:
    """How an argument is written in a flow: its alias if it has one (`else` for a field `else_`)."""
    if isinstance(finfo.validation_alias, str):
        return finfo.validation_alias
    return finfo.alias or name


def written_args(model: type[BaseModel]) -> dict[str, FieldInfo]:
    """The arguments of a model by the key a flow writes them under."""
    return {arg_key(name, f): f for name, f in model.model_fields.items()}


def primary_key(model: type[StepArgs]) -> str | None:
    """The written key of the argument that a scalar shorthand fills."""
    primary = model.primary
    if primary is None:
        return None
    finfo = model.model_fields.get(primary)
    return arg_key(primary, finfo) if finfo is not None else primary


def selector_fields(model: type[BaseModel]) -> dict[str, _SelectorMarker]:
    """The arguments of `model` that name selectors (values, or a mapping's keys), by written key."""
    return {key: m for key, f in written_args(model).items() if (m := selector_marker(f)) is not None}


def step_doc(sdef: StepDef) -> str:
    """The step function's docstring as running text (paragraphs kept, line breaks inside them joined)."""
    text = inspect.cleandoc(sdef.func.__doc__ or "")
    return "\n\n".join(re.sub(r"\s*\n\s*", " ", para) for para in re.split(r"\n\s*\n", text) if para.strip())


def step_blocks(sdef: StepDef) -> tuple[str, ...]:
    """The arguments of a step that hold nested step lists (`steps`, or e.g. `steps` and `else`)."""
    blocks = getattr(sdef, "blocks", None)
    if blocks is None:  # a registry from before StepDef.blocks: `container` means one `steps` block
        return ("steps",) if sdef.container else ()
    return tuple(blocks)


def flow_blocks() -> tuple[str, ...]:
    """The top-level keys of a flow that hold step lists (`steps`, `finally`): FlowDoc's `step_blocks` if it
    declares them, else its fields typed `list[Any]` (how model.py declares a list of raw steps)."""
    declared = getattr(FlowDoc, "step_blocks", None)
    if declared is not None:
        return tuple(declared)
    return tuple(key for key, f in written_args(FlowDoc).items() if f.annotation == list[Any])


def required_args(model: type[BaseModel]) -> list[str]:
    """The written keys of the arguments a step cannot do without."""
    return [key for key, f in written_args(model).items() if f.is_required()]


def example_of(model: type[BaseModel]) -> str | None:
    """A step's own example (YAML text of one list item), when its argument model provides one."""
    value = getattr(model, "example", None)
    return value if isinstance(value, str) else None


#: a templated value where a number, flag or list is expected
TEMPLATE_VALUE = {"type": "string", "pattern": "\\{\\{", "description": "a {{ template }}, checked once rendered"}


def _takes_text(annotation: Any) -> bool:
    """Whether an argument's type admits a plain string (then a template needs no special case)."""
    if annotation is str:
        return True
    return any(_takes_text(a) for a in typing.get_args(annotation))


def _add_note(prop: dict[str, Any], note: str) -> None:
    prop["description"] = f"{prop['description']}; {note}" if prop.get("description") else note


def _shorthand(prop: dict[str, Any]) -> dict[str, Any] | None:
    """The schema of `- step: value` for a primary argument: the argument's own schema minus the forms the
    loader reads otherwise (a mapping is the arguments, nothing is 'no arguments')."""
    s = {k: v for k, v in prop.items() if k not in ("default", "title")}
    if "anyOf" in s:
        s["anyOf"] = [b for b in s["anyOf"] if b.get("type") not in ("null", "object")]
        if not s["anyOf"]:
            return None
        if len(s["anyOf"]) == 1:
            only = s.pop("anyOf")[0]
            s = {**only, **s}
    if s.get("type") in ("null", "object") or "$ref" in s:
        return None  # a mapping-typed main argument cannot be written as a shorthand
    return s


def _collect_models(tp: Any, out: dict[type[BaseModel], None]) -> None:
    """`tp` and every pydantic model its fields use, in a stable order."""
    if isinstance(tp, type) and issubclass(tp, BaseModel):
        if tp in out:
            return
        out[tp] = None
        for f in tp.model_fields.values():
            _collect_models(f.annotation, out)
        return
    for arg in typing.get_args(tp):
        _collect_models(arg, out)


class _Builder:
    def __init__(self, steps: dict[str, StepDef]):
        self.steps = steps
        models: dict[type[BaseModel], None] = {}
        for root in (FlowDoc, VarSpec, *(sdef.args for sdef in steps.values())):
            _collect_models(root, models)
        key_map, top = models_json_schema([(m, "validation") for m in models], ref_template=_REF)
        self.defs: dict[str, Any] = top.get("$defs", {})
        self.ref = {m: key_map[(m, "validation")]["$ref"] for m in models}
        #: the pydantic model behind each $defs entry (FieldSpec, VarSpec, ...)
        self.models = {ref.rsplit("/", 1)[1]: m for m, ref in self.ref.items()}

    def def_of(self, model: type[BaseModel]) -> dict[str, Any]:
        return self.defs[self.ref[model].rsplit("/", 1)[1]]

    def args_schema(self, sdef: StepDef) -> dict[str, Any]:
        """The mapping form of a step's arguments: the model's schema with selector notes and, for a
        container, nested `steps` pointing back at the steps list."""
        s = copy.deepcopy(self.def_of(sdef.args))
        s.pop("title", None)
        props = s.setdefault("properties", {})
        for name, marker in selector_fields(sdef.args).items():
            _add_note(props[name], SELECTOR_KEYS_NOTE if marker.keys else SELECTOR_NOTE)
        blocks = step_blocks(sdef)
        for fname, finfo in sdef.args.model_fields.items():
            key = arg_key(fname, finfo)
            if (fname in StepArgs.model_fields or key in blocks or fname in sdef.args.expressions
                    or key not in props or _takes_text(finfo.annotation)):
                continue
            # A step's own number, flag or list may be a {{ template }} (checked once rendered).
            prop = props[key]
            keep = {k: prop.pop(k) for k in ("title", "description", "default") if k in prop}
            props[key] = {**keep, "anyOf": [prop, TEMPLATE_VALUE]}
        for block in blocks:
            old = props.get(block, {})
            props[block] = {"$ref": f"#/$defs/{STEPS_DEF}",
                            **{k: v for k, v in old.items() if k in ("title", "description", "minItems",
                                                                      "maxItems")}}
        return s

    def step_value(self, sdef: StepDef) -> dict[str, Any]:
        """What may follow `- <step>:` — arguments, the main argument alone, or nothing."""
        args = self.args_schema(sdef)
        forms = [args]
        primary = primary_key(sdef.args)
        if primary is not None and primary in args["properties"]:
            short = _shorthand(args["properties"][primary])
            if short is not None:
                forms.append(short)
        if not required_args(sdef.args):
            forms.append({"type": "null"})
        value = forms[0] if len(forms) == 1 else {"anyOf": forms}
        doc = step_doc(sdef)
        return {"title": sdef.name, **({"description": doc} if doc else {}), **value}

    def build(self) -> dict[str, Any]:
        branches: list[dict[str, Any]] = []
        bare = []
        for name in sorted(self.steps):
            sdef = self.steps[name]
            value = self.step_value(sdef)
            branch = {"type": "object", "title": name, "properties": {name: value}, "required": [name],
                      "additionalProperties": False}
            if "description" in value:
                branch["description"] = value["description"]
            branches.append(branch)
            if not required_args(sdef.args):
                bare.append(name)
        if bare:
            branches.append({"type": "string", "enum": bare,
                             "description": "a step without required arguments, by its name alone"})

        flow = copy.deepcopy(self.def_of(FlowDoc))
        props = flow["properties"]
        # Each use of the steps list adds its own bounds (`steps` needs one step, `finally` may be empty).
        steps_list = {"type": "array", "items": {"$ref": f"#/$defs/{STEP_DEF}"}}
        for block in flow_blocks():
            old = props.get(block, {})
            props[block] = {"$ref": f"#/$defs/{STEPS_DEF}",
                            **{k: v for k, v in old.items() if k in ("title", "description", "minItems",
                                                                      "maxItems")}}
        props["vars"] = {
            **{k: v for k, v in props["vars"].items() if k != "additionalProperties"},
            "additionalProperties": {"anyOf": [
                {"$ref": self.ref[VarSpec]},
                {"type": ["string", "number", "boolean", "array", "null"],
                 "description": "shorthand: the var's default value"},
            ]},
        }
        for key, doc in _TOP_LEVEL_DOCS.items():
            if key in props:
                props[key].setdefault("description", doc)

        defs = {k: v for k, v in self.defs.items() if k != self.ref[FlowDoc].rsplit("/", 1)[1]}
        # The step models are inlined in each step's branch (a container's copy differs); keep only the
        # models that something still refers to (FieldSpec, VarSpec, ...).
        for sdef in self.steps.values():
            key = self.ref[sdef.args].rsplit("/", 1)[1]
            defs.pop(key, None)
        defs[STEP_DEF] = {"oneOf": branches}
        defs[STEPS_DEF] = steps_list
        out = {
            "$schema": DIALECT,
            "title": "robots flow",
            "description": flow.get("description", "A robots flow file."),
            "type": "object",
            "properties": props,
            "required": flow.get("required", []),
            "additionalProperties": False,
            "$defs": dict(sorted(defs.items())),
        }
        _drop_openapi_keywords(out)
        _check_refs(out, out)
        return out


def _drop_openapi_keywords(node: Any) -> None:
    """pydantic marks tagged unions (`kind: maildir | imap | ...`) with OpenAPI's `discriminator`, which
    JSON Schema does not know; `oneOf`/`anyOf` with each branch's `const` tag says the same."""
    if isinstance(node, dict):
        if isinstance(node.get("discriminator"), dict) and "propertyName" in node["discriminator"]:
            del node["discriminator"]
        for v in node.values():
            _drop_openapi_keywords(v)
    elif isinstance(node, list):
        for v in node:
            _drop_openapi_keywords(v)


def _check_refs(node: Any, root: dict[str, Any]) -> None:
    """Every `$ref` points at a definition that is there (a step model that another model refers to would
    have been dropped above; this says so at build time instead of in the editor)."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str):
            key = ref.removeprefix("#/$defs/")
            if key not in root["$defs"]:
                raise ValueError(f"flow schema: dangling $ref {ref}")
        for v in node.values():
            _check_refs(v, root)
    elif isinstance(node, list):
        for v in node:
            _check_refs(v, root)


def flow_schema(steps: dict[str, StepDef] | None = None) -> dict[str, Any]:
    """The JSON Schema of a flow file, for the steps registered now (or those given)."""
    if steps is None:
        load_plugins()
    return _Builder(REGISTRY if steps is None else steps).build()
