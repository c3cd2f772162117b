"""Load a flow file: YAML → located data → validated Flow. Every problem in the file is reported at
once, each with file:line:column, where it is in the document, what was expected and what was found.
A flow with any problem never starts a browser."""

from __future__ import annotations

import hashlib
import json
import os
import re
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from robots.errors import FlowError, FlowIssue, suggest
from robots.flow import templating
from robots.flow.issues import describe, pydantic_issues
from robots.flow.model import Flow, FlowDoc, OutputSpec, StepCall, VarSpec
from robots.flow.paths import FlowShapes
from robots.flow.stepcalls import StepParser
from robots.flow.vars import given_problem
from robots.flow.yamlsrc import Located, load_located, read_source, where
from robots.scrape import contracts
from robots.selectors_catalog import SelectorCatalog
from robots.steps import REGISTRY
from robots.steps.plugins import load_plugins

_VARSPEC_KEYS = set(VarSpec.model_fields)
# The flows loaded in one pass (see `one_pass`), by resolved path.
_PASS: ContextVar[dict[Any, Any] | None] = ContextVar("robots_flow_pass", default=None)
_PORTAL_KEYS = ("url", "tenant", "time_zone", "name")
_RUN_KEYS = ("id", "dir", "started_at")
_LOOP_KEYS = ("item", "index")


def find_catalog_dir(flow_path: Path, portal: str | None, explicit: str | None) -> Path | None:
    if explicit:
        return (flow_path.parent / explicit).resolve()
    if not portal:
        return None
    from robots import packs
    from robots.packs import folder

    candidate = folder.folder_of(portal, flow_path.resolve().parent, "selectors")
    if candidate is not None:
        try:  # shown in messages: relative to the working folder where it can be
            return candidate.relative_to(Path.cwd())
        except ValueError:
            return candidate
    # Else the catalogs an installed portal pack ships (robots.packs): a project's own flows for its portal
    pack = packs.installed().get(portal)
    if pack is not None and pack.selectors_dir is not None and pack.selectors_dir.is_dir():
        return pack.selectors_dir
    return None


def _templates(value: Any, path: tuple):
    """Every template string inside `value` (nested steps included), with its document path."""
    if isinstance(value, str):
        if templating.is_template(value):
            yield path, value
    elif isinstance(value, dict):
        if len(value) == 1:
            kind, args = next(iter(value.items()))
            if kind in REGISTRY and isinstance(args, dict):
                expressions = REGISTRY[kind].args.expressions
                for k, v in args.items():
                    if k in expressions and isinstance(v, str) and not templating.is_template(v):
                        v = "{{ " + v + " }}"  # a bare condition, as the step reads it
                    yield from _templates(v, path + (kind, k))
                return
        for k, v in value.items():
            yield from _templates(v, path + (k,))
    elif isinstance(value, list):
        for i, v in enumerate(value):
            yield from _templates(v, path + (i,))


@contextmanager
def one_pass() -> Iterator[None]:
    """Inside, a flow loaded again (a sub-flow that many flows call, `robots validate` over a folder) is read
    and validated once. Only valid flows are kept, and only until the block ends, so an edit made between two
    passes is always seen."""
    token = _PASS.set({})
    try:
        yield
    finally:
        _PASS.reset(token)


def library() -> dict[Path, str]:
    """The flows the installed portal packs ship (each pack's `flows_dir`), by folder, each with its pack's name:
    any flow may call them, wherever robots is installed (docs/CONTRACTS.md C9)."""
    from robots import packs

    return {pack.flows_dir.resolve(): name for name, pack in sorted(packs.installed().items())
            if pack.flows_dir is not None}


def flow_roots(path: str | Path, extra: tuple[Path, ...] = ()) -> tuple[Path, ...]:
    """The folders a flow run from `path` may call flows in (symlinks resolved): its flows folder, which is the
    nearest folder named `flows` above it (else its own folder), the installed packs' flows (`library()`), and
    any `extra` ones."""
    here = Path(os.path.abspath(path)).parent
    folder = next((p for p in (here, *here.parents) if p.name == "flows"), here)
    roots = [folder.resolve(), *library(), *(p.resolve() for p in extra)]
    return tuple(dict.fromkeys(roots))


def pack_flow(name: str | Path) -> tuple[str, Path] | None:
    """For a name such as `acme/list_customers` (`.yaml` optional) that is no file: the pack it names and where
    that pack's flows folder would hold it. Only a plain relative name inside an installed pack's flows qualifies
    (no `..`, no absolute path), so the name cannot reach outside them."""
    given = Path(name)
    if given.is_absolute() or len(given.parts) < 2 or ".." in given.parts or given.exists():
        return None
    from robots import packs

    pack = packs.installed().get(given.parts[0])
    if pack is None or pack.flows_dir is None:
        return None
    rest = Path(*given.parts[1:])
    return given.parts[0], pack.flows_dir / (rest if rest.suffix in (".yaml", ".yml") else f"{rest}.yaml")


def _missing_pack_flow(shown: str, pack: str, looked: Path) -> FlowError:
    known = sorted(f"{pack}/{p.relative_to(looked.parent).with_suffix('').as_posix()}"
                   for p in looked.parent.rglob("*.yaml")) if looked.parent.is_dir() else []
    why = f"no such flow file (looked for {shown} and, in the portal pack '{pack}', {looked})"
    return FlowError([FlowIssue(shown, None, None, "", why + suggest(shown.removesuffix(".yaml"), known))])


def load_flow(path: str | Path, *, roots: tuple[Path, ...] | None = None, _stack: tuple[Path, ...] = ()) -> Flow:
    """Load and validate a flow file (and the flows it calls). Raises FlowError listing every problem found.
    A `call` may name only flows inside `flow_roots(path, roots)` (`roots`: folders allowed besides the flow's
    own flows folder and the installed packs' flows). A flow given by a person may also be a pack's flow named
    `<pack>/<flow>` (`pack_flow`), as the API names them."""
    if not _stack and (named := pack_flow(path)) is not None:
        if not named[1].is_file():
            raise _missing_pack_flow(str(path), *named)
        path = named[1]
    if not _stack or roots is None:
        roots = flow_roots(path, roots or ())
    load_plugins()  # flow steps that installed distributions and portal packs add
    loaded = _PASS.get()
    # A `record:` names a model of a pack; a project's own (models/<pack>.yaml) is found from the flow's folder.
    with contracts.models_near(Path(os.path.abspath(path)).parent):
        if loaded is None:
            return _load_flow(Path(path), str(path), _stack, roots)
        key = ("flow", Path(path).resolve(), roots)
        if key not in loaded:
            loaded[key] = _load_flow(Path(path), str(path), _stack, roots)
        return loaded[key]


class _NotAFlow(FlowError):
    """A called file that is not a flow at all: the call names it; nothing of its content is shown."""

    def __init__(self, file: str, why: str):
        self.why = why
        super().__init__([FlowIssue(file, None, None, "", why)])


# Quoted text in a YAML parser's message (an alias's or an escape's name): the called file's own words.
_QUOTED = re.compile(r"'[^']{4,}'|\"[^\"]{4,}\"")


def _catalog(flow_path: Path, portal: str | None, selectors: str | None) -> tuple[SelectorCatalog, list[FlowIssue]]:
    """The flow's selector catalog (looked for and read once per folder within a pass)."""
    loaded = _PASS.get()
    key = ("catalog", flow_path.parent, portal, selectors)
    if loaded is not None and key in loaded:
        catalog, issues = loaded[key]
        return catalog, list(issues)
    found = SelectorCatalog.load(find_catalog_dir(flow_path, portal, selectors))
    if loaded is not None:
        loaded[key] = found
    return found[0], list(found[1])


def _load_flow(p: Path, shown: str, _stack: tuple[Path, ...], roots: tuple[Path, ...]) -> Flow:
    text = _read(p, shown, called=bool(_stack))
    located, issues = _located(text, shown, called=bool(_stack))
    try:
        doc = FlowDoc.model_validate(located.data)
    except ValidationError as e:
        issues += pydantic_issues(located, e, (), "", FlowDoc, "key")
        # Go on with the keys that are valid, so that one run reports every problem and a typo in one
        # key does not make every selector or output look unknown.
        doc = _partial_doc(located.data, e)
        raw_steps = located.data.get("steps") if isinstance(located.data.get("steps"), list) else None
    else:
        raw_steps = doc.steps

    vars_ = _vars(located, doc, issues)
    secrets = tuple(doc.secrets)
    specs = {n: spec for n, spec in doc.secrets.items() if spec} if isinstance(doc.secrets, dict) else {}
    optional_secrets = tuple(n for n, spec in specs.items() if spec.optional)
    secret_commands = {n: spec.command for n, spec in specs.items() if spec.command}
    outputs = ({n: OutputSpec() for n in doc.outputs} if isinstance(doc.outputs, list)
               else {n: s or OutputSpec() for n, s in doc.outputs.items()})
    catalog, cat_issues = _catalog(p, doc.portal, doc.selectors)
    issues += cat_issues

    parser = StepParser(located, catalog)
    steps = parser.parse_list(raw_steps, ("steps",), "steps") if raw_steps is not None else ()
    raw_finally = located.data.get("finally")
    if not isinstance(raw_finally, list):
        raw_finally = None
    finally_steps = parser.parse_list(raw_finally, ("finally",), "finally") if raw_finally is not None else ()
    issues += parser.issues
    subflows: dict[str, Flow] = {}
    issues += _load_calls(located, [*steps, *finally_steps], p, (*_stack, p.resolve()), subflows, roots)

    # Vars that steps set (`set`) can be read like declared ones (but are not inputs).
    readable_vars = dict(vars_)
    for call in _walk((*steps, *finally_steps)):
        for name in call.args.declares_vars():
            readable_vars.setdefault(name, VarSpec())
    shapes = FlowShapes(list(_walk((*steps, *finally_steps))), set(vars_),
                        lambda target: subflows.get(str(resolve_call(p, target))))
    names = {"vars": readable_vars, "secrets": secrets, "ids": parser.ids, "env": tuple(doc.env), "shapes": shapes}
    issues += _template_issues(located, raw_steps, raw_finally, names)
    issues += _verifies_issues(located, (*steps, *finally_steps))
    for call in _walk((*steps, *finally_steps)):
        for fname, key, problem in call.args.check_in_flow(outputs=outputs):
            apath = _arg_path(located, call) + (fname, key)
            issues.append(located.issue(apath, f"{call.where}.{call.kind}.{fname}", problem, key=True))
        for name, value in call.args.values().items() if call.kind == "set_output" else ():  # type: ignore
            wrong = shapes.output_problem(name, outputs[name].type if name in outputs else None, value)
            if wrong is not None:
                issues.append(located.issue(_arg_path(located, call) + (name,), f"{call.where}.set_output.{name}",
                                            wrong))
    issues += _setup_issues(located, steps, finally_steps)
    if issues:
        raise FlowError(sorted(issues, key=lambda i: (i.line or 0, i.column or 0)))
    return Flow(
        name=doc.name, description=doc.description, portal=doc.portal, path=p,
        sha256=hashlib.sha256(text.encode()).hexdigest(), vars=vars_, secrets=secrets, outputs=outputs,
        timeouts=doc.timeouts, steps=steps, catalog=catalog, subflows=subflows, finally_steps=finally_steps,
        env=tuple(doc.env), optional_secrets=optional_secrets, session=doc.session, retry=doc.retry,
        secret_commands=secret_commands, browser=doc.browser, output_shapes=shapes.outputs(list(outputs)),
    )


def _read(p: Path, shown: str, *, called: bool) -> str:
    """The flow file's text; a FlowError (a called file: _NotAFlow) when it cannot be read."""
    try:
        return read_source(p, shown)  # a file over the size limit: FlowError before it is read
    except FileNotFoundError:
        raise FlowError([FlowIssue(shown, None, None, "", "no such flow file")]) from None
    except (IsADirectoryError, UnicodeDecodeError, PermissionError) as e:
        if called:
            raise _NotAFlow(shown, f"cannot be read ({type(e).__name__})") from None
        raise FlowError([FlowIssue(shown, None, None, "", f"cannot read the flow file: {e}")]) from None


def _located(text: str, shown: str, *, called: bool) -> tuple[Located, list[FlowIssue]]:
    """The flow's located mapping and the problems found so far; raises FlowError when it is not a mapping (a
    called file that is not a flow: _NotAFlow, which names it but never quotes it)."""
    located, issues = load_located(text, shown)
    if called and (located is None or not isinstance(located.data, dict) or "steps" not in located.data):
        # A called file that is not a flow (notes, keys, any YAML): named, never quoted.
        if located is None:
            at = f" at line {issues[0].line}" if issues and issues[0].line else ""
            reason = _QUOTED.sub("(text not shown)", issues[0].message) if issues else "YAML syntax error"
            raise _NotAFlow(shown, f"not valid YAML{at}: {reason.removeprefix('YAML syntax error: ')}")
        raise _NotAFlow(shown, "not a flow (a flow is a mapping with 'name' and 'steps'; the file's content is not "
                               "shown)")
    if located is None:
        raise FlowError(issues)
    if not isinstance(located.data, dict):
        raise FlowError(issues + [located.issue((), "", f"a flow must be a mapping, got {describe(located.data)}")])
    return located, issues


def _vars(located: Located, doc: FlowDoc, issues: list[FlowIssue]) -> dict[str, VarSpec]:
    """The flow's declared vars: a mapping of VarSpec keys is a spec, any other value a default."""
    vars_: dict[str, VarSpec] = {}
    for name, spec in doc.vars.items():
        if isinstance(spec, dict) and spec and set(spec) <= _VARSPEC_KEYS:
            try:
                vars_[name] = VarSpec.model_validate(spec)
            except ValidationError as e:
                issues += pydantic_issues(located, e, ("vars", name), f"vars.{name}", VarSpec, "key")
                vars_[name] = VarSpec()  # declared all the same: its uses are not reported as unknown too
        else:
            vars_[name] = VarSpec(default=spec)
    return vars_


def _template_issues(located: Located, raw_steps: Any, raw_finally: Any, names: dict[str, Any]) -> list[FlowIssue]:
    """Templates: each must parse, every name they read must exist (`names`: the flow's vars, secrets, step ids
    and env), and so must every field they read past it (`names["shapes"]`: what the steps give)."""
    issues: list[FlowIssue] = []
    for tpath, tmpl in [*(_templates(raw_steps, ("steps",)) if raw_steps is not None else ()),
                        *(_templates(raw_finally, ("finally",)) if raw_finally is not None else ())]:
        wh = where(tpath)
        try:
            refs = templating.references(tmpl)
        except templating.TemplateRefused as e:  # Python internals, or arithmetic over the limits
            issues.append(located.issue(tpath, wh, str(e)))
            continue
        except templating.TemplateSyntaxError as e:
            issues.append(located.issue(tpath, wh, f"template syntax error: {e.message}"))
            continue
        for root, attr in refs:
            problem = _check_ref(root, attr, names["vars"], names["secrets"], names["ids"], names["env"])
            if problem:
                issues.append(located.issue(tpath, wh, problem))
        issues += [located.issue(tpath, wh, problem) for problem in names["shapes"].problems(tmpl, tpath)]
    return issues


def _setup_issues(located: Any, steps: tuple[StepCall, ...], finally_steps: tuple[StepCall, ...]) -> list[FlowIssue]:
    """`setup: true` is for the top-level steps of `steps:` (--from-step runs them before the range it selects);
    anywhere else it would promise what no run does."""
    top = {id(c) for c in steps}
    rule = ("only a top-level step of `steps:` can be marked `setup: true` (--from-step runs it before the steps it "
            "selects)")
    return [located.issue(_arg_path(located, call) + ("setup",), f"{call.where}.{call.kind}.setup",
                          rule + ("; `finally` steps always run" if call.where.startswith("finally")
                                  else "; mark the top-level step that holds this one"), key=True)
            for call in _walk((*steps, *finally_steps)) if call.args.setup and id(call) not in top]


def resolve_call(flow_path: Path, target: str) -> Path:
    """A called flow's path: relative to the calling flow's folder."""
    return (flow_path.parent / target).resolve()


def _outside(target: str, resolved: Path, roots: tuple[Path, ...]) -> str | None:
    """Why a call of `target` may not run (it resolves outside every root), else None. Symlinks are followed
    first: a link inside the flows folder to a file elsewhere is outside."""
    if any(resolved.is_relative_to(root) for root in roots):
        return None
    packs = library()
    others = [f"the flows of the portal pack '{packs[r]}' ({r})" if r in packs else str(r)
              for r in roots[1:] if r != roots[0]]
    return (f"'{target}' is outside the flows folder {roots[0]}; a flow may call only flows in that folder (and "
            f"its subfolders)" + (f" or {' or '.join(others)}" if others else ""))


def _load_calls(located: Located, steps: list[StepCall], flow_path: Path, stack: tuple[Path, ...],
                subflows: dict[str, Flow], roots: tuple[Path, ...]) -> list[FlowIssue]:
    """Load every flow that a `call` step names (only inside `roots`); check cycles and the vars passed."""
    issues: list[FlowIssue] = []
    for call in _walk(tuple(steps)):
        if call.kind != "call":
            continue
        target = call.args.flow  # type: ignore[attr-defined]
        where = f"{call.where}.call.flow"
        apath = _arg_path(located, call) + ("flow",)
        resolved = resolve_call(flow_path, target)
        outside = _outside(target, resolved, roots)
        if outside is not None:  # checked before the file is looked at: not even whether it exists is told
            issues.append(located.issue(apath, where, outside))
            continue
        if resolved in stack:
            chain = " → ".join(p.name for p in (*stack[stack.index(resolved):], resolved))
            issues.append(located.issue(apath, where, f"call cycle: {chain}"))
            continue
        if not resolved.is_file():
            issues.append(located.issue(apath, where, f"no flow file '{target}' (looked for {resolved})"))
            continue
        key = str(resolved)
        if key not in subflows:
            try:
                subflows[key] = load_flow(resolved, roots=roots, _stack=stack)
            except _NotAFlow as e:
                issues.append(located.issue(apath, where, f"the called file '{target}' is {e.why}"))
                continue
            except FlowError as e:
                n = len(e.issues)
                issues.append(located.issue(apath, where, f"the called flow '{target}' is invalid "
                                                          f"({n} problem{'s' if n != 1 else ''}, listed with it)"))
                issues += e.issues
                continue
        sub = subflows[key]
        given = call.args.vars  # type: ignore[attr-defined]
        for name, value in given.items():
            if name not in sub.vars:
                issues.append(located.issue(_arg_path(located, call) + ("vars", name), f"{call.where}.call.vars",
                                            f"'{target}' has no var '{name}'{suggest(name, list(sub.vars))}",
                                            key=True))
            elif not templating.is_template(json.dumps(value, default=str)):  # a template: checked once rendered
                problem = given_problem(name, value, sub.vars[name])
                if problem is not None:
                    issues.append(located.issue(_arg_path(located, call) + ("vars", name),
                                                f"{call.where}.call.vars.{name}", problem))
        missing = [n for n, spec in sub.vars.items() if spec.required and n not in given]
        if missing:
            issues.append(located.issue(_arg_path(located, call), f"{call.where}.call",
                                        f"'{target}' needs var {', '.join(repr(m) for m in missing)}; "
                                        "pass it under 'vars:'"))
    return issues


def _partial_doc(data: dict, error: ValidationError) -> FlowDoc:
    """The top level with its invalid keys dropped (and placeholders for missing required ones)."""
    bad = {err["loc"][0] for err in error.errors() if err["loc"]}
    good = {k: v for k, v in data.items() if k in FlowDoc.model_fields and k not in bad}
    good.setdefault("name", "invalid")
    good["steps"] = [None]  # the steps are parsed separately, from the raw data
    try:
        return FlowDoc.model_validate(good)
    except ValidationError:
        return FlowDoc.model_validate({"name": "invalid", "steps": [None]})


def _check_ref(root: str, attr: str | None, vars_: dict, secrets: tuple, ids: dict, env: tuple) -> str | None:
    if root not in templating.ROOTS:
        return (f"unknown name '{root}' in template{suggest(root, list(templating.ROOTS))}; "
                f"templates can read {', '.join(templating.ROOTS)}")
    if attr is None or root == "now":
        return None
    table = {"vars": list(vars_), "secrets": list(secrets), "steps": list(ids), "env": list(env),
             "portal": list(_PORTAL_KEYS), "run": list(_RUN_KEYS), "loop": list(_LOOP_KEYS)}[root]
    if attr not in table:
        what = {"vars": "var", "secrets": "secret", "steps": "step id", "portal": "portal field",
                "run": "run field", "loop": "loop field", "env": "environment variable"}[root]
        hint = suggest(attr, table)
        if not hint and root in ("vars", "secrets", "env"):
            hint = f" (declare it under '{root}:')"
        return f"unknown {what} '{attr}' in '{{{{ {root}.{attr} }}}}'{hint}"
    return None


def _verifies_issues(located: Located, calls: tuple[StepCall, ...]) -> list[FlowIssue]:
    """`verifies:` names the id of a write step of the same flow (one marked `write: true`, or a write step)."""
    by_id = {c.args.id: c for c in _walk(calls) if c.args.id is not None}
    writes = [i for i, c in by_id.items() if c.args.write or REGISTRY[c.kind].writes]
    issues = []
    for call in _walk(calls):
        target = call.args.verifies
        if target is None or target in writes:
            continue
        if target in by_id:
            problem = (f"'{target}' is the id of a '{by_id[target].kind}' step, which submits nothing; verifies "
                       f"names a write step (one marked write: true)")
        else:
            known = f" (write steps with an id: {', '.join(writes)})" if writes else " (no write step has an id)"
            problem = f"no write step has the id '{target}'{suggest(target, writes) or known}"
        where = f"{call.where}.{call.kind}.verifies"
        issues.append(located.issue(_arg_path(located, call) + ("verifies",), where, problem))
    return issues


def _walk(calls: tuple[StepCall, ...]):
    for c in calls:
        yield c
        yield from _walk(c.children)


def _arg_path(located: Located, call: StepCall) -> tuple:
    """The document path of a step's arguments, from its `where` string (e.g. steps[4].paginate.steps[1])."""
    path: list[str | int] = []
    for part in call.where.replace("]", "").replace("[", ".").split("."):
        path.append(int(part) if part.isdigit() else part)
    return tuple(path) + (call.kind,)
