"""The life of one step in a run, as a chain of small wrappers around the call of the step function, outermost
first: the run's guard, the step's record, its failure, what --dry-run did not produce (robots.run.dryrun), its
`when`, its rendered arguments, --dry-run's writes, the write it begins, its output, the portal's throttled page,
retries of technical failures, and the portal session ending under it. Each wrapper is `layer(step, inner)`: it
calls `inner(step)` (the rest of the chain) zero, one or more times."""

from __future__ import annotations

import contextlib
import logging
import time
import traceback
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from robots.errors import (
    BusinessFailure,
    InputError,
    InternalError,
    Interrupted,
    PortalThrottled,
    RobotsError,
    TechnicalError,
)
from robots.flow.model import Flow, StepCall
from robots.records.model import StepRecord, StepStatus
from robots.run import record as _record
from robots.run.context import RunContext
from robots.run.dryrun import dry_run, dry_run_reads
from robots.run.sessions import SessionLost, resume, session_lost
from robots.run.state import RunState, located, render
from robots.run.throttling import backoff, throttle_wait, throttled
from robots.steps import REGISTRY
from robots.steps.base import StepDef

log = logging.getLogger("robots.engine")


@dataclass
class StepRun:
    """One run of one step, as the wrappers see and change it."""

    call: StepCall
    state: RunState
    sdef: StepDef
    index: int = -1
    args: Any = None  # the step's arguments, rendered and validated
    result: Any = None
    status: StepStatus = "passed"
    summary: str | None = None
    error: BaseException | None = None
    attempt: int = 1  # attempts after technical failures (the retry policy)
    attempts: int = 1  # every attempt (retries and repeats after a 429), as recorded
    counted: tuple[int, int] = (0, 0)  # pages and rows before the step: a step run again counts them once
    asked: float | None = None  # what the portal's throttled page asked to wait after the last attempt
    backoff: Any = None  # robots.throttle.Backoff, made at the step's first 429


Inner = Callable[[StepRun], None]
Layer = Callable[[StepRun, Inner], None]


def guarded(step: StepRun, inner: Inner) -> None:
    """Canceled or over max_runtime: no further step starts."""
    if step.state.guard is not None:
        step.state.guard.check()
    inner(step)


def recorded(step: StepRun, inner: Inner) -> None:
    """The step's line in the run record (and the evidence of its failure), whatever happens inside."""
    st, call = step.state, step.call
    step.index = st.next_index()
    st.listener.step_started(call, step.index)
    started = datetime.now(UTC)
    first_match = len(st.browser.matches) if st.browser else 0
    t0 = time.perf_counter()
    try:
        inner(step)
    finally:
        err = step.error
        if (err is not None and (not isinstance(err, Interrupted) or err.keep_evidence)
                and not getattr(err, "_robots_evidence", False)):
            _record.evidence(st, step.index)
            with contextlib.suppress(AttributeError):
                err._robots_evidence = True  # type: ignore[attr-defined]
        matches = st.browser.matches[first_match:] if st.browser else []
        rec = StepRecord(
            index=step.index, step_id=call.args.id, name=f"{st.prefix}{call.where} {call.label}", status=step.status,
            started_at=started, duration_ms=round((time.perf_counter() - t0) * 1000, 3),
            error_class=type(err).__name__ if err else None,
            error_message=st.masker(str(err)) if err else None,
            output_summary=st.masker(step.summary) if step.summary else None,
            selector=str(matches[-1][0].candidates[matches[-1][1]]) if matches else None, attempts=step.attempts,
            drift=_record.drift(matches),
        )
        st.steps.append(rec)
        st.listener.step_finished(rec)
        _save_now_and_then(step)


def _save_now_and_then(step: StepRun) -> None:
    """Crash safety: a killed runner leaves the steps it finished. Every top-level step, write and failure is
    saved at once; the many small steps inside blocks at most every SAVE_EVERY seconds (saving the whole record
    after each of them cost a quarter of a long run's time)."""
    st = step.state
    if (st.depth == 0 or step.status != "passed" or step.call.args.write or step.sdef.writes
            or time.monotonic() - st.saved_at >= _record.SAVE_EVERY):
        _record.save(st, "running")


def failures(step: StepRun, inner: Inner) -> None:
    """A failure's status and error for the record, located at the innermost step it came from (the flow file,
    line and step path); an optional step's failure is recorded and the run goes on; an exception that is no
    RobotsError is an internal error of the step (its traceback logged, shown with -v)."""
    call = step.call
    try:
        inner(step)
    except KeyboardInterrupt:
        step.status, step.error = "errored", Interrupted("interrupted by SIGINT")
        raise
    except Interrupted as e:
        step.status, step.error = "errored", e
        raise
    except RobotsError as e:
        located(e, step.state, call)
        step.status, step.error = ("failed" if isinstance(e, BusinessFailure) else "errored"), e
        if not (call.args.optional or call.args.on_error == "continue"):
            raise
        # An optional step's failure is recorded and the run goes on (no evidence: it was allowed to fail).
        step.status, step.summary = "skipped", f"optional step did not succeed ({type(e).__name__})"
        e._robots_evidence = True  # type: ignore[attr-defined]
    except Exception as e:
        log.info("internal error in step %s:\n%s", call.where, step.state.masker(traceback.format_exc()))
        internal = located(InternalError(f"internal error in step '{call.kind}': {_described(e)}"), step.state, call)
        step.status, step.error = "errored", internal
        raise internal from e


def _described(e: BaseException) -> str:
    """`KeyError: 'id'`: an exception that is no RobotsError, named."""
    return f"{type(e).__name__}: {e}" if str(e) else type(e).__name__


def when(step: StepRun, inner: Inner) -> None:
    """A step whose `when` condition is false is skipped."""
    if step.call.args.when is not None and not render(step.call.args.when, step.state, step.call):
        step.status, step.summary = "skipped", "skipped: its `when` condition was false"
        return
    inner(step)


def rendered(step: StepRun, inner: Inner) -> None:
    """The step's arguments with their templates rendered, then validated (nested steps and the expressions
    the step evaluates itself are passed as written)."""
    call = step.call
    model = type(call.args)
    block_fields = {n: f.alias or n for n, f in model.model_fields.items() if (f.alias or n) in call.blocks}
    kept = {**block_fields, **{n: n for n in model.expressions if n != "when"}}
    raw = call.args.model_dump(exclude_unset=True, exclude={"when", *kept}, by_alias=True, warnings=False)
    values = render(raw, step.state, call)
    for name, key in kept.items():
        values[key] = getattr(call.args, name)
    step.args = _rendered_args(model, values, call)
    inner(step)


def writes_noted(step: StepRun, inner: Inner) -> None:
    """A write that may not be repeated begins: the block it runs in is not repeated after a lost session
    (unless the block is marked idempotent)."""
    st, call = step.state, step.call
    if step.sdef.unrepeatable(call.args) and not st.idempotent_blocks:
        st.writes_begun.append(f"{call.where}.{call.kind}")
    inner(step)


def output_kept(step: StepRun, inner: Inner) -> None:
    """The step's output, for later templates (`steps.ID.output`) and, in a few words, for its record."""
    inner(step)
    if step.call.args.id is not None:
        step.state.step_outputs[step.call.args.id] = {"output": step.result}
    step.summary = _record.summary(step.result, step.state.masker)


def throttle_repeats(step: StepRun, inner: Inner) -> None:
    """When the step (or the page its navigation landed on) meets the portal's throttled page: wait what it
    asked, then repeat: `open` opens its URL again; another step's page is reloaded, and a step that failed on
    it runs again on the page the portal now serves."""
    st, call = step.state, step.call
    step.counted = st.pages, st.rows
    invoke = True
    while True:
        failed = False
        if invoke:
            step.asked = None
            try:
                inner(step)
            except (PortalThrottled, SessionLost):
                raise
            except TechnicalError:
                if step.asked is None:  # an ordinary technical failure, retried (or not) inside
                    raise
                failed = True
        if not failed:  # a navigation that landed on the portal's throttled page (or its reload did)
            step.asked = throttled(st, call) if step.sdef.navigates or not invoke else None
            if step.asked is None:
                return
        _wait_for_the_portal(step)
        invoke = failed or step.sdef.reopens


def _wait_for_the_portal(step: StepRun) -> None:
    st, call = step.state, step.call
    step.backoff = step.backoff or backoff(st, call)
    if step.sdef.unrepeatable(call.args):  # (429 should mean "not done"; still, only writes marked so repeat)
        raise PortalThrottled(f"the portal answered 429 Too many requests to write step {step.backoff.what}; "
                              f"it was not repeated because it is not marked `idempotent: true` (check "
                              f"in the portal whether it went through)", retry_after=step.asked or 1.0)
    throttle_wait(st, step.backoff, step.asked)
    step.attempts += 1
    if not step.sdef.reopens:
        assert st.browser is not None
        st.browser.refresh()


def retried(step: StepRun, inner: Inner) -> None:
    """A technical failure is tried again (the step's `on_error: retry`, or the flow's retry policy), with a
    growing pause; not when the portal's throttled page caused it (throttle_repeats waits for that)."""
    retries, first_pause = retry_policy(step.call, step.sdef, step.state.flow)
    while True:
        try:
            inner(step)
            return
        except (PortalThrottled, SessionLost):  # (repeating a step does not bring a session back)
            raise
        except TechnicalError as e:
            step.asked = throttled(step.state, step.call)
            if step.asked is not None or step.attempt > retries:
                raise
            step.attempt = step.attempts = step.attempt + 1
            pause = first_pause * 2 ** (step.attempt - 2)
            log.warning("%s: attempt %d failed (%s); retrying in %.1f s", step.call.where, step.attempt - 1,
                        step.state.masker(str(e)), pause)
            time.sleep(pause)  # back-off between attempts (on_error: retry, or the retry policy)


def session_kept(step: StepRun, inner: Inner) -> None:
    """For a top-level step of a signed-in run: when the portal ended the session during the step, sign in
    again and run the step once more from where it began."""
    st, call = step.state, step.call
    watched = st.depth == 0 and not st.in_login and st.session is not None and st.browser is not None
    start_url = st.browser.url if watched and st.browser is not None else ""
    writes_before = len(st.writes_begun)
    st.depth += 1
    st.idempotent_blocks += call.args.idempotent  # a block marked idempotent checks its writes itself
    try:
        ended, error = _ended_during(step, inner, watched)
        if not ended:
            return
        resume(st, call, start_url, error, st.writes_begun[writes_before:])
        ended, _ = _ended_during(step, inner, True)
        if ended:
            raise SessionLost(f"the portal ended the session again during {call.where}.{call.kind}; "
                              f"a run signs in again only once")
    finally:
        st.depth -= 1
        st.idempotent_blocks -= call.args.idempotent


def _ended_during(step: StepRun, inner: Inner, watched: bool) -> tuple[bool, BaseException | None]:
    """Run the rest of the chain; whether (when `watched`) the portal ended the session during it, and the
    error the step failed with then. Failures with the session alive are raised."""
    try:
        inner(step)
    except (Interrupted, KeyboardInterrupt, BusinessFailure):
        raise
    except RobotsError as e:
        if not (watched and session_lost(step.state)):
            raise
        return True, e
    return watched and session_lost(step.state), None


def invoke(step: StepRun) -> None:
    """The call of the step function (a step run again counts its pages and rows again: once only)."""
    st = step.state
    st.pages, st.rows = step.counted
    step.result = step.sdef.func(RunContext(st, step.call), step.args)


#: outermost first; `invoke` is inside them all
LAYERS: tuple[Layer, ...] = (guarded, recorded, failures, dry_run_reads, when, rendered, dry_run, writes_noted,
                             output_kept, throttle_repeats, retried, session_kept)


def chain(layers: tuple[Layer, ...], core: Inner) -> Inner:
    """`core` wrapped in `layers` (the first one outermost)."""
    if not layers:
        return core
    outer, rest = layers[0], chain(layers[1:], core)
    return lambda step: outer(step, rest)


_RUN_STEP = chain(LAYERS, invoke)


def execute(call: StepCall, state: RunState) -> None:
    """Run one step (and, through it, the steps nested in it) with its whole life: robots.run's RunState.execute."""
    _RUN_STEP(StepRun(call, state, REGISTRY[call.kind]))


def retry_policy(call: StepCall, sdef: StepDef, flow: Flow) -> tuple[int, float]:
    """How many more attempts a technical failure of this step gets, and the first pause: the step's own
    `on_error: retry`, else the flow's `retry` policy, which leaves out containers (their steps retry
    themselves), steps that said `on_error` themselves, and writes not marked idempotent."""
    if call.args.on_error == "retry":
        return call.args.retries, 0.5
    policy = flow.retry
    if policy is None or not policy.attempts or "on_error" in call.args.model_fields_set:
        return 0, 0.0
    if sdef.container or sdef.unrepeatable(call.args):
        return 0, 0.0
    return policy.attempts, policy.backoff


def _rendered_args(model: type[Any], values: dict[str, Any], call: StepCall) -> Any:
    """A step's arguments after templating, validated; a template that gave a value of the wrong kind (a
    number argument rendered to text) is an input error naming the step and the argument."""
    from pydantic import ValidationError

    try:
        return model.model_validate(values)
    except ValidationError as e:
        problems = []
        for err in e.errors():
            where = ".".join([call.where, call.kind, *(str(p) for p in err["loc"])])
            if err["type"] == "value_error" and not err["loc"]:  # a rule across the arguments: its own words
                problems.append(f"{where}: {err['ctx']['error']}")
            else:
                problems.append(f"{where}: {err['msg'].lower()}, got {err['input']!r} from its template")
        raise InputError("; ".join(problems)) from None


__all__ = ["LAYERS", "StepRun", "chain", "execute", "retry_policy"]
