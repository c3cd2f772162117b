"""--dry-run: nothing is submitted to the portal, the steps that depend on what was not submitted are skipped, and
what each write would have submitted is kept for the run's record (`RunRecord.dry_run`), so that a write flow's
dry run passes. The rule (README, "Running flows"):

1. A write (a step marked `write: true`, or a write step) is not run. Its record says `dry run: not submitted`; the
   values its form was given (by the steps that enter one: fill, select, check, uncheck, clear, upload, since the
   page was last opened or the previous write) go to the record's `dry_run.not_submitted`, secrets masked.
2. Inside a step that checks its own writes (`repeat_until`: it repeats until the portal shows them), the round ends
   at that write: the round's later steps do not run, the loop ends after it (its `until` is not evaluated), and
   what its steps produce (the vars they set, the outputs of those with an id: what the loop computes from the
   portal, as it was before the write) counts as not produced.
3. A step that reads, in any of its templates (its `when` too), a step output or a var that the dry run did not
   produce is skipped, and then what it would have produced is not produced either.
4. A step with `verifies: ID` (a read-back or a post-condition probe that reads only the page) is skipped when the
   write with that id was not submitted.

Two layers of the step's life (robots.run.lifecycle): `dry_run_reads` (before `when`: rules 2 to 4) and `dry_run`
(after the arguments are rendered: rule 1)."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from robots.flow import templating
from robots.flow.model import StepCall

if TYPE_CHECKING:
    from robots.masking import Masker
    from robots.records.model import DryRunReport

# (robots.run.lifecycle's StepRun and Inner: that module imports this one)
StepRun = Any
Inner = Callable[[Any], None]

#: the roots of template names whose values a dry run may fail to produce
_PRODUCED_ROOTS = ("steps", "vars")


class RoundEnded(BaseException):  # noqa: N818 - not an error: it ends a round of a loop, like StopIteration
    """The rest of a round of a loop that checks its writes, unwound from the write the dry run did not submit. A
    BaseException, so that no failure handling or retry of the steps it passes through takes it for a failure."""

    def __init__(self, loop: Loop, write: str):
        super().__init__(write)
        self.loop, self.write = loop, write


@dataclass(eq=False)
class Loop:
    """A running step that checks its writes (repeat_until), as the dry run follows it."""

    call: StepCall
    scope: dict[str, Any]  # the step outputs of the flow it runs in (a called flow has its own)
    rounds: int = 0


def reads(call: StepCall) -> tuple[str, ...]:
    """The step outputs and vars a step's own templates read (`steps.ID`, `vars.NAME`), its nested steps left out."""
    exclude = {name for name, f in type(call.args).model_fields.items() if (f.alias or name) in call.blocks}
    dumped = call.args.model_dump(exclude=exclude, warnings=False)
    found: dict[str, None] = {}
    for text in _strings(dumped):
        if templating.is_template(text):
            for root, attr in templating.references(text):
                if root in _PRODUCED_ROOTS and attr is not None:
                    found[f"{root}.{attr}"] = None
    return tuple(found)


def produces(call: StepCall) -> tuple[str, ...]:
    """What a step produces for later templates: its output (`steps.ID`) and the vars it sets."""
    made = [f"steps.{call.args.id}"] if call.args.id is not None else []
    return (*made, *(f"vars.{name}" for name in call.args.declares_vars()))


def _nested(call: StepCall) -> Iterable[StepCall]:
    for child in call.children:
        yield child
        yield from _nested(child)


def _strings(value: Any) -> Iterable[str]:
    if isinstance(value, str):
        yield value
    elif isinstance(value, Mapping):
        for v in value.values():
            yield from _strings(v)
    elif isinstance(value, list | tuple):
        for v in value:
            yield from _strings(v)


class DryRun:
    """What a dry run did not do, as the run goes (one per run, `RunState.dry`)."""

    def __init__(self) -> None:
        #: the writes not submitted: (step, name, target, url, [(target, value), ...])
        self.not_submitted: list[dict[str, Any]] = []
        self.skipped: list[dict[str, str]] = []  # the steps skipped because they depend on a write not submitted
        self.outputs_not_set: list[str] = []
        self.entered: list[tuple[str, Any]] = []  # the values entered into the page's form since it was opened
        self.loops: list[Loop] = []
        # per flow run (keyed by its step outputs' dict, held so that its id stays its own): the names it did not
        # produce -> the write they depend on
        self._missing: dict[int, tuple[dict[str, Any], dict[str, str]]] = {}
        self._reads: dict[int, tuple[StepCall, tuple[str, ...]]] = {}

    # -------------------------------------------------------------------------------------------- the rule
    def missing(self, scope: dict[str, Any]) -> dict[str, str]:
        """The names the flow run whose step outputs are `scope` did not produce -> the write each depends on."""
        held = self._missing.get(id(scope))
        if held is None or held[0] is not scope:
            held = self._missing[id(scope)] = (scope, {})
        return held[1]

    def why_skip(self, scope: dict[str, Any], call: StepCall) -> str | None:
        """Why the dry run skips `call` (rules 3 and 4), else None."""
        missing = self.missing(scope)
        if not missing:
            return None
        verifies = call.args.verifies
        if verifies is not None and f"steps.{verifies}" in missing:
            return f"verifies the write {missing[f'steps.{verifies}']}, which the dry run did not submit"
        for name in self._reads_of(call):
            if name in missing:
                return f"reads {name}, which depends on the write {missing[name]} that the dry run did not submit"
        return None

    def _reads_of(self, call: StepCall) -> tuple[str, ...]:
        held = self._reads.get(id(call))
        if held is None or held[0] is not call:
            held = self._reads[id(call)] = (call, reads(call))
        return held[1]

    def not_produced(self, scope: dict[str, Any], names: Iterable[str], write: str) -> None:
        missing = self.missing(scope)
        for name in names:
            missing.setdefault(name, write)

    def produced(self, scope: dict[str, Any], call: StepCall) -> None:
        """`call` ran: what it produced is there (again)."""
        missing = self.missing(scope)
        for name in produces(call):
            missing.pop(name, None)

    def skip(self, scope: dict[str, Any], call: StepCall, step: str, why: str) -> None:
        """`call` is skipped because of `why` (rules 3 and 4): what it would have produced is not produced."""
        missing = self.missing(scope)
        checked = (f"steps.{call.args.verifies}",) if call.args.verifies is not None else ()
        write = next((missing[n] for n in (*checked, *self._reads_of(call)) if n in missing), "")
        self.not_produced(scope, produces(call), write)
        self.skipped.append({"step": step, "why": why})

    # -------------------------------------------------------------------------------------------- loops (rule 2)
    def round_started(self, call: StepCall) -> None:
        """A step starts: when it is the first of a round of a loop, count the round."""
        for loop in self.loops:
            body = loop.call.blocks.get("steps", ())
            if body and body[0] is call:
                loop.rounds += 1

    def round_ended(self, loop: Loop, write: str) -> None:
        """The loop ends at the round whose write was not submitted: what its steps produce is not produced (also
        what a round did not reach: a probe that found nothing may never set the var the loop waits for)."""
        self.not_produced(loop.scope, [n for c in _nested(loop.call) for n in produces(c)], write)

    # -------------------------------------------------------------------------------------------- writes (rule 1)
    def page_opened(self) -> None:
        self.entered.clear()

    def enter(self, target: str, value: Any) -> None:
        self.entered.append((target, value))

    def not_submit(self, step: str, name: str | None, target: str | None, url: str | None,
                   own: tuple[str, Any] | None) -> None:
        """A write is not submitted: keep what its form was given (and what the write itself enters)."""
        entered = [*self.entered, *([own] if own else [])]
        self.not_submitted.append({"step": step, "name": name, "target": target, "url": url,
                                   "fields": [{"target": t, "value": v} for t, v in entered]})
        self.entered.clear()

    def report(self, masker: Masker) -> DryRunReport:
        from robots.records.model import DryRunReport

        return DryRunReport.model_validate({
            "not_submitted": [{**w, "url": masker(w["url"]) if w["url"] else None, "fields": masker.deep(w["fields"])}
                              for w in self.not_submitted],
            "skipped": [{**s, "why": masker(s["why"])} for s in self.skipped],
            "outputs_not_set": list(self.outputs_not_set)})

    def excuses(self, unset: list[str]) -> list[str]:
        """The declared outputs no step set, less those a dry run that skipped something could not set (kept)."""
        if not (self.not_submitted or self.skipped):
            return unset
        self.outputs_not_set = list(unset)
        return []


# ------------------------------------------------------------------------------------------------ the layers
def dry_run_reads(step: StepRun, inner: Inner) -> None:
    """--dry-run, before the step's `when`: a step that reads what the dry run did not produce, or that verifies a
    write it did not submit, is skipped; a loop that checks its writes ends at the round whose write was not
    submitted."""
    st, call = step.state, step.call
    dry: DryRun | None = st.dry
    if dry is None:
        inner(step)
        return
    where = f"{st.prefix}{call.where}.{call.kind}"
    why = dry.why_skip(st.step_outputs, call)
    if why is not None:
        step.status, step.summary = "skipped", f"dry run: {why}"
        dry.skip(st.step_outputs, call, where, why)
        return
    dry.round_started(call)
    loop = Loop(call, st.step_outputs) if step.sdef.checks_writes else None
    if loop is not None:
        dry.loops.append(loop)
    try:
        inner(step)
    except RoundEnded as ended:
        if ended.loop is not loop:
            step.summary = step.summary or f"dry run: ended at the write {ended.write}, not submitted"
            raise
        dry.round_ended(loop, ended.write)
        step.result = loop.rounds
        step.summary = (f"dry run: ended after round {loop.rounds}, at the write {ended.write} that it did not "
                        f"submit")
        if call.args.id is not None:
            st.step_outputs[call.args.id] = {"output": loop.rounds}
        return
    finally:
        if loop is not None:
            dry.loops.remove(loop)
    if step.status == "passed":
        dry.produced(st.step_outputs, call)


def dry_run(step: StepRun, inner: Inner) -> None:
    """--dry-run, once the step's arguments are rendered: a write is not submitted (what its form was given is kept;
    inside a loop that checks its writes, the round ends here); the values entered into a form are noted."""
    st, call = step.state, step.call
    dry: DryRun | None = st.dry
    if dry is None:
        inner(step)
        return
    if call.args.write or step.sdef.writes:
        where = f"{st.prefix}{call.where}.{call.kind}"
        target = getattr(step.args, "target", None)
        dry.not_submit(where, call.args.name, target if isinstance(target, str) else None,
                       st.browser.url if st.browser is not None else None, step.args.entered())
        dry.not_produced(st.step_outputs, produces(call), where)
        step.status, step.summary = "skipped", "dry run: not submitted"
        if dry.loops:
            loop = dry.loops[-1]
            step.summary += f"; round {loop.rounds} of {loop.call.where}.{loop.call.kind} ends here"
            raise RoundEnded(loop, where)
        return
    inner(step)
    if step.sdef.reopens:
        dry.page_opened()
    entered = step.args.entered()
    if entered is not None:
        dry.enter(*entered)


__all__ = ["DryRun", "Loop", "RoundEnded", "dry_run", "dry_run_reads", "produces", "reads"]
