"""Waits: explicit conditions with a deadline, never sleeps."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar, Literal

from robots.steps.base import SelectorKeys, SelectorRef, StepArgs, step

if TYPE_CHECKING:
    from robots.engine import StepContext

class WaitForArgs(StepArgs):
    primary: ClassVar[str | None] = "target"
    target: SelectorRef
    state: Literal["visible", "present", "clickable", "gone"] = "visible"
    fail_on: SelectorKeys = {}


@step("wait_for")
def wait_for(ctx: StepContext, args: WaitForArgs) -> None:
    """Wait until an element is visible (or present, clickable, gone). If an element named in `fail_on`
    appears first, the run fails as a business failure with that message and the element's text, e.g.
    `fail_on: {login.error: "login rejected"}`."""
    sel = ctx.selector(args.target)
    if args.state == "gone":
        ctx.browser.wait_gone(sel, ctx.timeout)
        return
    fail_on = [(ctx.selector(k), msg) for k, msg in args.fail_on.items()]
    ctx.browser.find(sel, ctx.timeout, args.state, fail_on=fail_on)
