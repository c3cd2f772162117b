"""Checks: a failed check is a business failure."""

from __future__ import annotations

import re
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field, model_validator

from robots.errors import BusinessFailure
from robots.steps.base import SelectorRef, StepArgs, step

if TYPE_CHECKING:
    from robots.steps.context import StepContext

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
        shown = ctx.shorten(found, 120)  # masked before it is cut: a secret on the page never leaks in part
        raise BusinessFailure(args.message or f"expected {where} to {'be' if args.exact else 'contain'} "
                              f"{args.text!r}, found {shown!r}")


class AssertUrlArgs(StepArgs):
    primary: ClassVar[str | None] = "contains"
    contains: str | None = None
    equals: str | None = None
    matches: str | None = Field(None, description="a regular expression the whole URL must match")
    message: str | None = None

    @model_validator(mode="after")
    def _one(self) -> AssertUrlArgs:
        given = [n for n in ("contains", "equals", "matches") if getattr(self, n) is not None]
        if len(given) != 1:
            raise ValueError("give exactly one of 'contains', 'equals' or 'matches'")
        if self.matches is not None:
            try:
                re.compile(self.matches)
            except re.error as e:
                raise ValueError(f"'matches' is not a valid regular expression: {e}") from None
        return self


@step("assert_url")
def assert_url(ctx: StepContext, args: AssertUrlArgs) -> str:
    """Check the current URL (contains, equals, or matches a regular expression). Output: the URL."""
    url = ctx.browser.url
    if args.contains is not None:
        ok, want = args.contains in url, f"contain {args.contains!r}"
    elif args.equals is not None:
        ok, want = url == args.equals, f"be {args.equals!r}"
    else:
        ok, want = re.fullmatch(args.matches or "", url) is not None, f"match {args.matches!r}"
    if not ok:
        raise BusinessFailure(args.message or f"expected the URL to {want}, it is {url!r}")
    return url


class AssertCountArgs(StepArgs):
    example: ClassVar[str | None] = "- assert_count: {target: customers.row, min: 1, max: 50}"
    target: SelectorRef
    equals: int | None = Field(None, ge=0)
    min: int | None = Field(None, ge=0)
    max: int | None = Field(None, ge=0)
    message: str | None = None

    @model_validator(mode="after")
    def _some(self) -> AssertCountArgs:
        if self.equals is None and self.min is None and self.max is None:
            raise ValueError("give 'equals', or 'min' and/or 'max'")
        return self


@step("assert_count")
def assert_count(ctx: StepContext, args: AssertCountArgs) -> int:
    """Check how many elements match a selector (now, without waiting). Output: the count."""
    n = ctx.browser.count(ctx.selector(args.target))
    bad = ((args.equals is not None and n != args.equals) or (args.min is not None and n < args.min)
           or (args.max is not None and n > args.max))
    if bad:
        want = (f"exactly {args.equals}" if args.equals is not None else
                " and ".join(p for p in (f"at least {args.min}" if args.min is not None else "",
                                         f"at most {args.max}" if args.max is not None else "") if p))
        raise BusinessFailure(args.message or f"expected {want} elements matching '{args.target}', found {n}")
    return n
