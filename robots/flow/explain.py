"""`robots explain`: a loaded flow's steps as indented text, with every selector resolved to its ordered
candidates. Templates are shown as written and never rendered, so no secret value can appear."""

from __future__ import annotations

import json
from typing import Any

import yaml

from robots.flow.model import Flow, StepCall
from robots.flow.schema import arg_key, selector_fields
from robots.steps import REGISTRY, StepArgs

INDENT = "  "


def _inline(value: Any) -> str:
    """A value on one line: text as written (quoted only when it would be ambiguous), the rest as YAML."""
    if isinstance(value, str):
        if value == "" or value != value.strip() or "\n" in value:
            return json.dumps(value, ensure_ascii=False)
        return value
    text = yaml.safe_dump(value, default_flow_style=True, allow_unicode=True, width=10**6, sort_keys=False)
    return text.removesuffix("\n").removesuffix("\n...").strip()


def resolved(flow: Flow, ref: str) -> str:
    """`login.username → data-cy:login-username | id:username | ...`; a raw selector stands for itself."""
    try:
        selector = flow.catalog.resolve(ref)
    except (KeyError, ValueError):
        return f"{ref} → (unresolved)"
    candidates = " | ".join(str(c) for c in selector.candidates)
    return candidates if candidates == ref else f"{ref} → {candidates}"


def _called(flow: Flow, value: str) -> Flow | None:
    """The flow that an argument names, when the loader loaded it as a sub-flow of `flow`."""
    subflows = getattr(flow, "subflows", None)
    if not subflows or "{{" in value:
        return None
    return subflows.get(str((flow.path.parent / value).resolve()))


def _blocks(call: StepCall) -> dict[str, tuple[StepCall, ...]]:
    blocks = getattr(call, "blocks", None)
    if blocks is not None:
        return dict(blocks)
    return {"steps": call.children} if call.children else {}


def _step_lines(flow: Flow, call: StepCall, depth: int) -> list[str]:
    pad = INDENT * depth
    at = f"  (line {call.line})" if call.line is not None else ""
    out = [f"{pad}{call.where} {call.kind}{at}"]
    model = type(call.args)
    sdef = REGISTRY.get(call.kind)
    block_names = set(_blocks(call)) | set(getattr(sdef, "blocks", ()) or ())
    selectors = selector_fields(model)
    written = call.args.model_dump(mode="json", by_alias=True, exclude_unset=True, warnings=False)
    own = [arg_key(n, f) for n, f in model.model_fields.items() if n not in StepArgs.model_fields]
    order = ["id", "name", *own, "timeout", "optional", "when"]  # who, what, then how
    keys = [k for k in order if k in written] + [k for k in written if k not in order]
    blocks = _blocks(call)
    for key in keys:
        if key in block_names:
            continue
        value = written[key]
        marker = selectors.get(key)
        if marker is not None and not marker.keys and isinstance(value, str):
            out.append(f"{pad}{INDENT}{key}: {resolved(flow, value)}")
        elif marker is not None and isinstance(value, list):  # a list of selectors (`then:` of login)
            out.append(f"{pad}{INDENT}{key}:")
            out += [f"{pad}{INDENT * 2}- {resolved(flow, v)}" for v in value]
        elif marker is not None and marker.keys and isinstance(value, dict):
            out.append(f"{pad}{INDENT}{key}:")
            out += [f"{pad}{INDENT * 2}{resolved(flow, k)}: {_inline(v)}" for k, v in value.items()]
        elif isinstance(value, dict) and value and any(isinstance(v, dict | list) for v in value.values()):
            out.append(f"{pad}{INDENT}{key}:")
            out += [f"{pad}{INDENT * 2}{k}: {_inline(v)}" for k, v in value.items()]
        elif isinstance(value, str) and (sub := _called(flow, value)) is not None:
            # A called flow (`call: sign_in.yaml`): its steps, resolved against its own catalog.
            out.append(f"{pad}{INDENT}{key}: {value} → flow {sub.name}")
            for child in sub.steps:
                out += _step_lines(sub, child, depth + 2)
        else:
            out.append(f"{pad}{INDENT}{key}: {_inline(value)}")
    for name, children in blocks.items():
        if not children:
            continue
        out.append(f"{pad}{INDENT}{name}:")
        for child in children:
            out += _step_lines(flow, child, depth + 2)
    return out


def explain(flow: Flow) -> str:
    """The flow's header (vars, secrets by name, outputs, timeouts) and its steps, one line per step and
    one per argument, selectors resolved through the flow's catalog."""
    out = [f"flow {flow.name} ({flow.path})"]
    if flow.description:
        out.append(f"{INDENT}{flow.description}")
    if flow.portal:
        out.append(f"{INDENT}portal: {flow.portal}")
    if flow.catalog.root is not None:
        out.append(f"{INDENT}selectors: {flow.catalog.root} ({len(flow.catalog.selectors)} entries)")
    if flow.vars:
        shown = []
        for name, spec in flow.vars.items():
            text = f"{name} (required)" if spec.required else f"{name} = {_inline(spec.default)}"
            shown.append(text + (f" [{spec.type}]" if spec.type else ""))
        out.append(f"{INDENT}vars: {', '.join(shown)}")
    secrets = flow.all_secrets() if hasattr(flow, "all_secrets") else flow.secrets  # with called flows
    if secrets:
        out.append(f"{INDENT}secrets: {', '.join(secrets)}")
    if flow.outputs:
        out.append(f"{INDENT}outputs: "
                   + ", ".join(f"{n} [{s.type}]" if s.type else n for n, s in flow.outputs.items()))
    out.append(f"{INDENT}timeouts: step {flow.timeouts.step:g} s, page load {flow.timeouts.page_load:g} s")
    browser = getattr(flow, "browser", None)
    if browser is not None:
        shown = [browser.kind, "headless" if browser.headless else "headed", f"window {browser.window_size}"]
        shown += [f"grid {browser.grid_url}"] if browser.grid_url else []
        shown += [f"page load {browser.page_load_timeout:g} s"] if browser.page_load_timeout is not None else []
        shown += [f"binary {browser.binary}"] if browser.binary else []
        shown += [f"arguments {' '.join(browser.arguments)}"] if browser.arguments else []
        out.append(f"{INDENT}browser: {', '.join(shown)}")
    out.append("")
    for call in flow.steps:
        out += _step_lines(flow, call, 0)
    final = getattr(flow, "finally_steps", ())
    if final:
        out += ["", "finally:"]
        for call in final:
            out += _step_lines(flow, call, 1)
    return "\n".join(out) + "\n"
