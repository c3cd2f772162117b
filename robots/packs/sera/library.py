"""The Sera robot library: the flows under flows/sera/, and their reads run on page HTML without a browser.

`scrape(flow, html, url)` runs every read step of a flow (extract_table / extract_detail / extract_list) on one
saved or fetched page, through the flow's own field maps and selector catalog: the scraper of a flow is a pure
function of HTML, tested on saved pages, and adapting to a changed portal means editing YAML, never Python."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from robots.flow.loader import load_flow
from robots.flow.model import Flow
from robots.packs.sera import FLOWS
from robots.scrape.page import EXTRACT_STEPS, PageRead, read_page

#: the Sera portal's time zone in the default profile (the tenant's wall clock)
TIME_ZONE = "America/Chicago"

#: the pack's flows: flows/sera/ in a checkout, the package's copy when installed (robots.packs.sera.DATA)
FLOWS_DIR = FLOWS


def read_steps(flow: Flow, ids: tuple[str, ...] | None = None) -> list[tuple[str, str | None, Any]]:
    """The flow's own extract steps (not those of flows it calls), as (kind, id, args), in document order."""
    return [(c.kind, c.args.id, c.args) for c in flow.walk()
            if c.kind in EXTRACT_STEPS and (ids is None or c.args.id in ids)]


def scrape(flow: Flow | str | Path, html: str, url: str, *, ids: tuple[str, ...] | None = None,
           tz: str = TIME_ZONE, scraped_at: str | None = None) -> PageRead:
    """Run the flow's extract steps (or those with the given ids) on one page's HTML. Raises ElementNotFound
    when a step's selector matches nothing, ScrapeError / ContractError on a page that changed shape."""
    loaded = flow if isinstance(flow, Flow) else load_flow(flow)
    return read_page(html, read_steps(loaded, ids), resolve=loaded.catalog.resolve, url=url, tz=tz,
                     scraped_at=scraped_at)


__all__ = ["FLOWS_DIR", "TIME_ZONE", "read_steps", "scrape"]
