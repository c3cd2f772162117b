"""Navigation steps."""

from __future__ import annotations

import time
from typing import TYPE_CHECKING, ClassVar

from pydantic import Field, field_validator

from robots.errors import StepTimeout, TechnicalError
from robots.steps.base import SelectorRef, StepArgs, step

if TYPE_CHECKING:
    from robots.steps.context import StepContext

class OpenArgs(StepArgs):
    primary: ClassVar[str | None] = "url"
    example: ClassVar[str | None] = '- open: "{{ portal.url }}/customers"'
    url: str

    @field_validator("url")
    @classmethod
    def _absolute(cls, v: str) -> str:
        if "{{" not in v and not v.startswith(("http://", "https://", "about:", "file:")):
            raise ValueError("the URL must be absolute (http:// or https://); use '{{ portal.url }}/path'")
        return v


@step("open", navigates=True, reopens=True)
def open_(ctx: StepContext, args: OpenArgs) -> str:
    """Open a URL and wait until its document is ready. Output: the URL after redirects."""
    if not args.url.startswith(("http://", "https://", "about:", "file:")):
        raise TechnicalError(f"open: the URL must be absolute, got {args.url!r}")
    ctx.browser.open(args.url)
    return ctx.browser.url


class NoArgs(StepArgs):
    pass


@step("back", navigates=True)
def back(ctx: StepContext, args: NoArgs) -> str:
    """Go back one page in the browser's history. Output: the URL after it."""
    ctx.browser.back()
    return ctx.browser.url


@step("refresh", navigates=True)
def refresh(ctx: StepContext, args: NoArgs) -> str:
    """Reload the current page. Output: its URL."""
    ctx.browser.refresh()
    return ctx.browser.url


class SwitchFrameArgs(StepArgs):
    primary: ClassVar[str | None] = "target"
    target: SelectorRef | None = Field(None, description="the <iframe>; omit (or `top: true`) for the top page")
    top: bool = False


@step("switch_frame")
def switch_frame(ctx: StepContext, args: SwitchFrameArgs) -> None:
    """Work inside an <iframe> (its selector), or back in the top page with `top: true`."""
    if args.top or args.target is None:
        ctx.browser.switch_frame(None, ctx.timeout)
    else:
        ctx.browser.switch_frame(ctx.selector(args.target), ctx.timeout)


class SwitchWindowArgs(StepArgs):
    primary: ClassVar[str | None] = "to"
    to: str = Field("new", description="'new' (the newest other window, waited for), 'main' (the first), "
                                       "or text the window's URL or title contains")
    close_current: bool = False


@step("switch_window")
def switch_window(ctx: StepContext, args: SwitchWindowArgs) -> str:
    """Switch to another browser window or tab (a print preview, a link with target=_blank). Output: its URL."""
    b = ctx.browser
    current = b.current_window()
    deadline = time.monotonic() + ctx.timeout
    while True:
        handles = b.windows()
        target = None
        if args.to == "main":
            target = handles[0]
        elif args.to == "new":
            others = [h for h in handles if h != current]
            target = others[-1] if others else None
        else:
            for h in handles:
                b.switch_window(h)
                if args.to in b.url or args.to in b.title():
                    target = h
                    break
            b.switch_window(current)
        if target is not None:
            break
        if time.monotonic() > deadline:
            raise StepTimeout(f"no window matching {args.to!r} appeared within {ctx.timeout:g} s "
                              f"({len(handles)} open)")
        time.sleep(0.1)  # back-off: polling for a window that a click is opening
    if args.close_current and target != current:
        b.close_window()
    b.switch_window(target)
    return b.url
