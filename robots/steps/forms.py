"""Form steps: fill and click."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from robots.steps.base import SelectorRef, StepArgs, step

if TYPE_CHECKING:
    from robots.engine import StepContext

class FillArgs(StepArgs):
    target: SelectorRef
    value: str
    clear: bool = True


@step("fill")
def fill(ctx: StepContext, args: FillArgs) -> None:
    """Type a value into a field (cleared first unless `clear: false`)."""
    ctx.browser.fill(ctx.selector(args.target), args.value, ctx.timeout, clear=args.clear)


class ClickArgs(StepArgs):
    primary: ClassVar[str | None] = "target"
    target: SelectorRef


@step("click")
def click(ctx: StepContext, args: ClickArgs) -> None:
    """Click an element once it is visible and enabled."""
    ctx.browser.click(ctx.selector(args.target), ctx.timeout)
