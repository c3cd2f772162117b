"""Control flow: paginate, if/else, for_each, repeat_until, retry, fail, set; and log, screenshot."""

from __future__ import annotations

import json
import logging
import time
from typing import TYPE_CHECKING, Any, ClassVar, Literal

from pydantic import Field, model_validator

from robots.errors import BusinessFailure, TechnicalError
from robots.locators import Selector, parse_locator
from robots.steps.base import SelectorRef, StepArgs, step
from robots.steps.shapes import ANY, BOOLEAN, NOTHING, NUMBER, TEXT, Shape, ShapeSource, list_of

if TYPE_CHECKING:
    from robots.steps.context import StepContext

log = logging.getLogger("robots.steps.control")

_VOLATILE = ("scraped_at", "source_url")


class PaginateArgs(StepArgs):
    next: SelectorRef = Field(description="the 'next page' control; pagination ends when it is gone or disabled")
    changes: SelectorRef | None = Field(
        None, description="with a next control that redraws the page in place (a single-page app): what shows "
                          "which page is on screen - the rows, or a page indicator; the next page is there when it "
                          "shows something else. Default: the table or list the `collect` step reads, else the page")
    max_pages: int = Field(gt=0, description="hard bound on pages visited")
    collect: str | None = Field(None, description="id of an inner step whose list output is gathered")
    fetch: Literal["browser", "page", "script", "http"] = Field(
        "browser", description="browser: run the inner steps on every page (each recorded); page: one round trip "
                               "per page - the browser navigates, the inner extract steps run on its page source; "
                               "script: the browser fetches each page's HTML from inside the signed-in page "
                               "(its cookies, headers and network, no rendering), one round trip per page; http: "
                               "the hybrid mode - the pages over plain HTTP with the browser's cookies (one "
                               "keep-alive connection). With page, script and http the next link is read from the "
                               "page, and a page on which a selector matches nothing (it needs JavaScript) is read "
                               "the browser way")
    url: str | None = Field(None, description="with fetch: page, script or http, the first page to read (absolute); "
                                              "default: the page the browser is on")
    steps: list[Any] = Field(min_length=1, description="the steps run on every page")

    @model_validator(mode="after")
    def _url_needs_a_fetch_mode(self) -> PaginateArgs:
        if self.url is not None and self.fetch == "browser":
            raise ValueError("'url' goes with fetch: page, script or http (with fetch: browser, open the page "
                             "first)")
        return self

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return NOTHING if self.collect is None else _gathered(shapes.output_of(self.collect))


def _gathered(each: Shape) -> Shape:
    """The list that paginate and for_each gather from their `collect` step's outputs (lists are joined)."""
    return each if each.kind == "list" else ANY if each.kind == "any" else list_of(each)


def _fingerprint(row: Any) -> str:
    if isinstance(row, dict):
        row = {k: v for k, v in row.items() if k not in _VOLATILE}
    return json.dumps(row, sort_keys=True, default=str)


class FirstRows:
    """The C5 stop rule shared by every paginate walk: a page whose first row repeats an earlier page's
    first row (a portal that shows page 1 again for an out-of-range page) ends the walk and is dropped."""

    def __init__(self) -> None:
        self._seen: dict[str, int] = {}

    def repeated(self, ctx: StepContext, page: int, items: list[Any]) -> bool:
        if not items:
            return False
        first = _fingerprint(items[0])
        if first in self._seen:
            log.warning("page %d repeats the first row of page %d; pagination stopped", page, self._seen[first])
            ctx.count(pages=-1, rows=-len(items))
            return True
        self._seen[first] = page
        return False


@step("paginate", container=True)
def paginate(ctx: StepContext, args: PaginateArgs) -> list[Any] | None:
    """Run `steps` on every page, following `next` until (docs/CONTRACTS.md C5): there is no next control or it is
    disabled, a page's first row repeats an earlier page's (a portal that shows page 1 again for an out-of-range
    page; that page is dropped), or `max_pages` pages were read. A next control that is no plain link is clicked;
    when it redraws the page in place (a single-page app), the next page is there once `changes` (the rows or a page
    indicator) shows something else, and a click after which the page stays settled and unchanged for 1 s was on the
    last page; a page that shows what an earlier one showed is never read twice. Output: the concatenated outputs of
    the `collect` step. With `fetch: page`, each page is read in one round trip (its source); with `fetch: script`,
    fetched by the browser from inside the signed-in page, without rendering it; with `fetch: http` (hybrid), over
    plain HTTP with the browser's session, falling back to the browser for a page that needs JavaScript."""
    next_sel = ctx.selector(args.next)
    if args.fetch != "browser":
        from robots.scrape.walk import HybridPages

        return HybridPages(ctx, args, next_sel).walk(FirstRows())
    collected: list[Any] = []
    first_rows = FirstRows()
    region: Selector | None = None  # found once a next control is no plain link
    shown: set[str] = set()  # what `region` showed on each page read (a page shown again is not read again)
    for page in range(1, args.max_pages + 1):
        ctx.count(pages=1)
        ctx.run_children()
        items = (ctx.output_of(args.collect) or []) if args.collect is not None else []
        if args.collect is not None and first_rows.repeated(ctx, page, items):
            break
        link = ctx.browser.link(next_sel)
        if link is not None and not link["plain"] and not link.get("disabled"):
            region = region or _watched(ctx, args)
            before = ctx.browser.fingerprint(region)
            if before is not None and before in shown:
                log.warning("page %d shows what an earlier page showed; pagination stopped", page)
                ctx.count(pages=-1, rows=-len(items))
                break
            shown.add(before or "")
        collected.extend(items)
        if link is None or link.get("disabled"):
            break
        if page == args.max_pages:
            log.warning("pagination stopped at max_pages=%d while a next control was still present", page)
            break
        if link["plain"]:
            # A plain link: navigating to its href is what the click would do, in one round trip.
            ctx.browser.open(link["href"])
            continue
        assert region is not None
        marker = ctx.browser.page_marker()
        ctx.browser.click(next_sel, ctx.timeout)
        now = ctx.browser.wait_next_page(marker, region, before, ctx.timeout)
        if now is None:
            log.info("the page did not change after clicking '%s': page %d was the last", next_sel.name, page)
            break
        if now in shown:
            log.warning("the next control led back to a page read already; pagination stopped")
            break
    return collected if args.collect is not None else None


def _watched(ctx: StepContext, args: PaginateArgs) -> Selector:
    """What shows which page is on screen: `changes`, else the table or list the `collect` step reads, else the
    page's body."""
    if args.changes is not None:
        return ctx.selector(args.changes)
    for call in ctx.call.blocks.get("steps", ()):
        if args.collect is not None and call.args.id == args.collect:
            for field in ("table", "items", "target"):
                ref = getattr(call.args, field, None)
                if isinstance(ref, str) and "{{" not in ref:
                    return ctx.selector(ref)
    return Selector("the page", (parse_locator("css:body"),))


class IfArgs(StepArgs):
    expressions: ClassVar[tuple[str, ...]] = ("when", "condition")
    condition: str = Field(description="a condition, e.g. `steps.rows.output | length > 0`")
    steps: list[Any] = Field(min_length=1, description="run when the condition is true")
    else_: list[Any] = Field([], alias="else", description="run when it is false")

    model_config = {**StepArgs.model_config, "populate_by_name": True}

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return BOOLEAN



@step("if", blocks=("steps", "else"))
def if_(ctx: StepContext, args: IfArgs) -> bool:
    """Run `steps` when `condition` is true, else the `else` steps. Output: the condition's truth."""
    truth = bool(ctx.evaluate(args.condition))
    ctx.run_children("steps" if truth else "else")
    return truth


class ForEachArgs(StepArgs):
    expressions: ClassVar[tuple[str, ...]] = ("when", "items")
    items: str = Field(description="the list to go through, e.g. `steps.rows.output`")
    max_items: int = Field(10_000, gt=0, description="hard bound on iterations")
    collect: str | None = Field(None, description="id of an inner step whose outputs are gathered")
    steps: list[Any] = Field(min_length=1)

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return NUMBER if self.collect is None else _gathered(shapes.output_of(self.collect))


@step("for_each", container=True)
def for_each(ctx: StepContext, args: ForEachArgs) -> list[Any] | int:
    """Run `steps` once per item of `items`, with `loop.item` and `loop.index` (from 1) in templates.
    Output: the gathered outputs of `collect` (lists are joined), else the number of items done."""
    items = ctx.evaluate(args.items)
    if isinstance(items, dict):
        items = list(items.items())
    if not isinstance(items, list | tuple):
        raise TechnicalError(f"for_each: `items` gave {type(items).__name__}, not a list")
    if len(items) > args.max_items:
        raise TechnicalError(f"for_each: {len(items)} items is more than max_items={args.max_items}")
    collected: list[Any] = []
    for index, item in enumerate(items, 1):
        with ctx.loop_item(item, index):
            ctx.run_children()
        if args.collect is not None:
            out = ctx.output_of(args.collect)
            collected.extend(out) if isinstance(out, list) else collected.append(out)
    return collected if args.collect is not None else len(items)


class RepeatUntilArgs(StepArgs):
    expressions: ClassVar[tuple[str, ...]] = ("when", "until")
    until: str = Field(description="the condition checked after each round")
    max_times: int = Field(gt=0, description="hard bound on rounds")
    steps: list[Any] = Field(min_length=1)

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return NUMBER



@step("repeat_until", container=True, checks_writes=True)
def repeat_until(ctx: StepContext, args: RepeatUntilArgs) -> int:
    """Run `steps`, then check `until`; again until it is true, at most `max_times` rounds (still false
    then: a technical error). Output: the number of rounds. A loop that probes, writes and probes again until the
    portal shows the write: under --dry-run the round whose write was not submitted is its last (its later steps
    and `until` are not run), and what its steps set counts as not produced (later steps reading it are skipped)."""
    for n in range(1, args.max_times + 1):
        with ctx.loop_item(None, n):
            ctx.run_children()
            if ctx.evaluate(args.until):
                return n
    raise TechnicalError(f"repeat_until: the condition was still false after {args.max_times} rounds")


class RetryArgs(StepArgs):
    attempts: int = Field(3, ge=1, le=20)
    backoff: float = Field(1.0, ge=0, description="seconds before the 2nd attempt, doubled for each next one")
    steps: list[Any] = Field(min_length=1)

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return NUMBER


@step("retry", container=True)
def retry(ctx: StepContext, args: RetryArgs) -> int:
    """Run `steps`; on a technical failure (timeout, drift, crash) run them again, up to `attempts` times
    with a growing pause. A business failure (the portal said no) is never retried. Output: attempts used."""
    for attempt in range(1, args.attempts + 1):
        mark = ctx.steps_recorded
        try:
            ctx.run_children()
            return attempt
        except BusinessFailure:
            raise
        except TechnicalError as e:
            if attempt == args.attempts:
                raise
            ctx.mark_retried(mark)
            pause = args.backoff * 2 ** (attempt - 1)
            log.warning("attempt %d of %d failed (%s); retrying in %.1f s", attempt, args.attempts, e, pause)
            time.sleep(pause)  # back-off between attempts of a retry block
    raise AssertionError("unreachable")


class FailArgs(StepArgs):
    primary: ClassVar[str | None] = "message"
    message: str


@step("fail")
def fail(ctx: StepContext, args: FailArgs) -> None:
    """End the run as a business failure with this message (use with `when`)."""
    raise BusinessFailure(args.message)


class SetArgs(StepArgs):
    model_config = {**StepArgs.model_config, "extra": "allow"}

    def values(self) -> dict[str, Any]:
        return dict(self.model_extra or {})

    def declares_vars(self) -> list[str]:
        return list(self.values())

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return NOTHING


@step("set")
def set_(ctx: StepContext, args: SetArgs) -> None:
    """Set vars for later steps: `set: {total: "{{ steps.rows.output | length }}"}`, read as `vars.total`."""
    for name, value in args.values().items():
        ctx.set_var(name, value)


class LogArgs(StepArgs):
    primary: ClassVar[str | None] = "message"
    message: str
    level: Literal["debug", "info", "warning", "error"] = "info"

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return TEXT


@step("log")
def log_(ctx: StepContext, args: LogArgs) -> str:
    """Write a message to the run's log (secrets masked). Output: the message."""
    logging.getLogger("robots.flow").log(logging.getLevelName(args.level.upper()), "%s", args.message)
    return args.message


class ScreenshotArgs(StepArgs):
    primary: ClassVar[str | None] = "file"
    file: str = Field("screenshot", pattern=r"^[A-Za-z0-9_.-]+$", description="name of the PNG (no folder)")


@step("screenshot")
def screenshot(ctx: StepContext, args: ScreenshotArgs) -> str | None:
    """Save a PNG of the page in the run's folder (inputs holding secrets blanked). Output: its path."""
    return ctx.save_screenshot(args.file.removesuffix(".png"))


class CallArgs(StepArgs):
    primary: ClassVar[str | None] = "flow"
    flow: str = Field(description="the flow file to run, relative to this flow's file: a flow inside this flow's "
                                  "flows folder or the flows of an installed portal pack")
    vars: dict[str, Any] = Field({}, description="the called flow's vars")

    def output_shape(self, shapes: ShapeSource) -> Shape:
        return shapes.flow_outputs(self.flow)


@step("call")
def call(ctx: StepContext, args: CallArgs) -> dict[str, Any]:
    """Run another flow's steps here, in the same browser and run, with its own vars, step ids and outputs
    (e.g. a shared sign-in). Output: the called flow's outputs."""
    return ctx.call_flow(args.flow, args.vars)
