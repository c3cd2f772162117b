"""Which top-level steps a run with --from-step/--to-step runs: those in the range, and before it the steps that
give the range its context - the sign-in (a `call` of a flow that declares `session:`) and the steps marked
`setup: true` - so that debugging from step N starts signed in, on the state the flow sets up."""

from __future__ import annotations

from robots.flow.model import Flow, StepCall


def runs(n: int, call: StepCall, flow: Flow, only: tuple[int, int] | None) -> bool:
    """Whether top-level step `n` runs when the range `only` (inclusive indices; None: every step) is selected."""
    if only is None or only[0] <= n <= only[1]:
        return True
    return n < only[0] and (call.args.setup or signs_in(call, flow))


def signs_in(call: StepCall, flow: Flow) -> bool:
    """A `call` of a sign-in flow (one that declares `session:`)."""
    from robots.flow.loader import resolve_call

    target = getattr(call.args, "flow", None) if call.kind == "call" else None
    if not isinstance(target, str) or "{{" in target:
        return False
    sub = flow.subflows.get(str(resolve_call(flow.path, target)))
    return sub is not None and sub.session is not None


__all__ = ["runs", "signs_in"]
