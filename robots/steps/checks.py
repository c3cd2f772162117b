"""Checks: a failed check is a business failure."""

from __future__ import annotations

from typing import TYPE_CHECKING, ClassVar

from robots.errors import BusinessFailure
from robots.steps.base import SelectorRef, StepArgs, step

if TYPE_CHECKING:
    from robots.engine import StepContext

class AssertTextArgs(StepArgs):
    primary: ClassVar[str | None] = "text"
    text: str
    target: SelectorRef | None = None
    exact: bool = False
    message: str | None = None


@step("assert_text")
def assert_text(ctx: StepContext, args: AssertTextArgs) -> None:
    """Check that the page (or `target`) contains `text` (or equals it, with `exact: true`)."""
    sel = ctx.selector(args.target) if args.target else None
    found = " ".join(ctx.browser.text(sel, ctx.timeout).split())
    ok = found == args.text if args.exact else args.text in found
    if not ok:
        where = f"'{args.target}'" if args.target else "the page"
        shown = found if len(found) <= 120 else found[:117] + "..."
        raise BusinessFailure(args.message or f"expected {where} to {'be' if args.exact else 'contain'} "
                              f"{args.text!r}, found {shown!r}")
