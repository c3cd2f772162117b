"""Control flow: paginate."""

from __future__ import annotations

import json
import logging
from typing import TYPE_CHECKING, Any

from pydantic import Field

from robots.steps.base import SelectorRef, StepArgs, step

if TYPE_CHECKING:
    from robots.engine import StepContext

log = logging.getLogger("robots.steps.control")

_VOLATILE = ("scraped_at", "source_url")


class PaginateArgs(StepArgs):
    next: SelectorRef = Field(description="the 'next page' control; pagination ends when it is gone")
    max_pages: int = Field(gt=0, description="hard bound on pages visited")
    collect: str | None = Field(None, description="id of an inner step whose list output is gathered")
    steps: list[Any] = Field(min_length=1, description="the steps run on every page")


def _fingerprint(row: Any) -> str:
    if isinstance(row, dict):
        row = {k: v for k, v in row.items() if k not in _VOLATILE}
    return json.dumps(row, sort_keys=True, default=str)


@step("paginate", container=True)
def paginate(ctx: StepContext, args: PaginateArgs) -> list[Any] | None:
    """Run `steps` on every page, following `next` until (CONTRACTS C5): there is no next control, a page's
    first row repeats an earlier page's (a portal that shows page 1 again for an out-of-range page; that
    page is dropped), or `max_pages` pages were read. Output: the concatenated outputs of the `collect`
    step."""
    next_sel = ctx.selector(args.next)
    collected: list[Any] = []
    first_rows: dict[str, int] = {}
    for page in range(1, args.max_pages + 1):
        ctx.count(pages=1)
        ctx.run_children()
        if args.collect is not None:
            items = ctx.output_of(args.collect) or []
            if items:
                first = _fingerprint(items[0])
                if first in first_rows:
                    log.warning("page %d repeats the first row of page %d; pagination stopped",
                                page, first_rows[first])
                    ctx.count(pages=-1, rows=-len(items))
                    break
                first_rows[first] = page
            collected.extend(items)
        link = ctx.browser.link(next_sel)
        if link is None:
            break
        if page == args.max_pages:
            log.warning("pagination stopped at max_pages=%d while a next control was still present", page)
            break
        if link["plain"]:
            # A plain link: navigating to its href is what the click would do, in one round trip.
            ctx.browser.open(link["href"])
        else:
            marker = ctx.browser.page_marker()
            ctx.browser.click(next_sel, ctx.timeout)
            ctx.browser.wait_replaced(marker, ctx.timeout)
    return collected if args.collect is not None else None
