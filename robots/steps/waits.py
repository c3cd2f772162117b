"""Waits: explicit conditions with a deadline, never sleeps."""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import TYPE_CHECKING, ClassVar, Literal

from pydantic import Field, model_validator

from robots.errors import StepTimeout
from robots.steps.base import SelectorKeys, SelectorRef, StepArgs, step

if TYPE_CHECKING:
    from robots.steps.context import StepContext

class WaitForArgs(StepArgs):
    primary: ClassVar[str | None] = "target"
    target: SelectorRef | None = None
    state: Literal["visible", "present", "clickable", "gone"] = "visible"
    text: str | None = Field(None, description="wait until the element's text contains this")
    count: int | None = Field(None, ge=0, description="wait until exactly this many elements match")
    url: str | None = Field(None, description="wait until the page's URL contains this")
    network_idle: bool = Field(False, description="wait until no fetch/XHR has been pending for 0.5 s")
    changed: SelectorRef | None = Field(None, description="wait until this element shows something else than before "
                                                          "the last action (e.g. the rows after a filter was chosen)")
    fail_on: SelectorKeys = {}

    @model_validator(mode="after")
    def _something(self) -> WaitForArgs:
        if self.target is None and self.url is None and not self.network_idle and self.changed is None:
            raise ValueError("give a 'target', a 'url', 'changed' or 'network_idle: true' to wait for")
        if self.target is None and (self.text is not None or self.count is not None):
            raise ValueError("'text' and 'count' need a 'target'")
        return self


@step("wait_for")
def wait_for(ctx: StepContext, args: WaitForArgs) -> None:
    """Wait until an element is visible (or present, clickable, gone), has a text, or matches `count` times;
    or until the URL contains `url`; or until the network is idle; or, with `changed: TARGET`, until an element shows
    something else than before the last action (than the last read of it before that action saw; an element not
    read before it: until it changed after it), and the page has settled. If an element named in `fail_on` appears
    first, the run fails as a business failure with that message and the element's text, e.g.
    `fail_on: {login.error: "login rejected"}`."""
    b = ctx.browser
    fail_on = [(ctx.selector(k), msg) for k, msg in args.fail_on.items()]
    deadline = time.monotonic() + ctx.timeout
    if args.url is not None:
        part = args.url
        _until(lambda: part in b.url, deadline, lambda: f"the URL to contain {part!r} (it is {b.url})", ctx.timeout,
               lambda: b.check_page(f"the URL to contain {part!r}"))
    if args.network_idle:
        b.wait_network_idle(max(deadline - time.monotonic(), 0.1))
    if args.changed is not None:
        b.wait_changed(ctx.selector(args.changed), max(deadline - time.monotonic(), 0.1), said=ctx.timeout)
    if args.target is None:
        return
    sel = ctx.selector(args.target)
    left = max(deadline - time.monotonic(), 0.1)
    if args.state == "gone":
        b.wait_gone(sel, left)
    elif args.count is not None:
        _until(lambda: b.count(sel) == args.count, deadline,
               lambda: f"{args.count} elements to match '{sel.name}' (found {b.count(sel)})", ctx.timeout,
               lambda: b.check_page(f"{args.count} elements to match '{sel.name}'"))
    elif args.text is not None:
        text = args.text
        b.find(sel, left, args.state, fail_on=fail_on)
        _until(lambda: text in b.text(sel, 1.0), deadline, lambda: f"'{sel.name}' to contain {text!r}", ctx.timeout,
               lambda: b.check_page(f"'{sel.name}' to contain {text!r}"))
    else:
        b.find(sel, left, args.state, fail_on=fail_on)


def _until(check: Callable[[], bool], deadline: float, what: Callable[[], str], timeout: float,
           page_check: Callable[[], None]) -> None:
    while not check():
        page_check()  # what is waited for will never come on the portal's error page: say so now
        if time.monotonic() > deadline:
            raise StepTimeout(f"waited {timeout:g} s for {what()}")
        time.sleep(0.05)  # back-off: polling interval of an explicit wait


class WaitXhrArgs(StepArgs):
    primary: ClassVar[str | None] = "url"
    url: str = Field(description="part of the URL of the request to wait for")


@step("wait_xhr")
def wait_xhr(ctx: StepContext, args: WaitXhrArgs) -> None:
    """Wait until a fetch/XHR whose URL contains `url` has completed on this page (content that a page
    renders from JSON appears only after it)."""
    ctx.browser.wait_request(args.url, ctx.timeout)
