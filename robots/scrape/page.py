"""Flows' reads on page HTML without a browser: catalog selectors resolved with lxml (CSS through cssselect),
and a flow's extract steps run on that HTML. Pure functions of text, used by the hybrid HTTP reads of
`paginate` (`fetch: http`) and by the tests on saved portal pages (under tests/)."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from functools import lru_cache
from typing import Any

import lxml.html
from lxml.cssselect import CSSSelector

from robots.errors import ElementNotFound, ScrapeError
from robots.locators import Selector
from robots.scrape import contracts
from robots.scrape.details import parse_detail, parse_items
from robots.scrape.tables import parse_table

#: the steps that read the page, and what they return
EXTRACT_STEPS = ("extract_table", "extract_detail", "extract_list")


@lru_cache(maxsize=256)
def _css(expression: str) -> CSSSelector:
    return CSSSelector(expression)


def document(html: str) -> Any:
    """Parse a page once (lxml), for several `find` calls."""
    try:
        return lxml.html.document_fromstring(html)
    except Exception as e:  # lxml raises several types for unparsable input
        raise ScrapeError(f"the page's HTML could not be parsed: {e}") from None


def find(doc: Any, selector: Selector) -> tuple[list[Any], int] | None:
    """The elements of the first candidate of `selector` that matches anything in `doc`, and that
    candidate's index (0: the first choice; more: drift). None when no candidate matches."""
    for index, candidate in enumerate(selector.candidates):
        by, value = candidate.webdriver()
        found = _css(value)(doc) if by == "css selector" else doc.xpath(value)
        found = [el for el in found if isinstance(el, lxml.html.HtmlElement)]
        if found:
            return found, index
    return None


def outer_html(el: Any) -> str:
    return lxml.html.tostring(el, encoding="unicode", with_tail=False)


@dataclass
class PageRead:
    """What reading one page produced: the output of every extract step (by id), the selector matches
    (selector, candidate index) in the order found, and the rows counted."""

    outputs: dict[str, Any] = field(default_factory=dict)
    matches: list[tuple[Selector, int]] = field(default_factory=list)
    rows: int = 0
    doc: Any = None  # the parsed page, for more lookups (e.g. the next link)


def run_extract(kind: str, args: Any, doc: Any, *, resolve: Any, url: str, tz: str,
                scraped_at: str | None = None) -> tuple[Any, tuple[Selector, int]]:
    """One extract step (`kind` with its validated, rendered `args`) on a parsed page. `resolve` turns a
    selector reference into a Selector (the flow's catalog). Returns (output, (selector, candidate index));
    raises ElementNotFound when the selector matches nothing on this page."""
    target = {"extract_table": "table", "extract_detail": "target", "extract_list": "items"}[kind]
    selector = resolve(getattr(args, target))
    hit = find(doc, selector)
    if hit is None:
        tried = ", ".join(str(c) for c in selector.candidates)
        raise ElementNotFound(f"no element matched '{selector.name}' (tried {tried}) on {url}")
    elements, index = hit
    extra = {"source_url": url, "scraped_at": scraped_at or datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")}
    result: Any
    if kind == "extract_table":
        result = parse_table(elements[0], args.fields, base_url=url, tz=tz, extra=extra)  # parsed once
    elif kind == "extract_detail":
        result = parse_detail(outer_html(elements[0]), args.fields, base_url=url, tz=tz, extra=extra)
    else:
        result = parse_items([outer_html(e) for e in elements], args.fields, base_url=url, tz=tz, extra=extra)
    if args.record:
        result = contracts.conform(args.record, result if isinstance(result, list) else [result])
        if kind == "extract_detail":
            result = result[0]
    return result, (selector, index)


def read_page(html: str | Any, steps: Iterable[tuple[str, str | None, Any]], *, resolve: Any, url: str, tz: str,
              scraped_at: str | None = None) -> PageRead:
    """Run extract steps, given as (kind, id, validated args), on one page's HTML (or its parsed `document`)."""
    doc = document(html) if isinstance(html, str) else html
    read = PageRead(doc=doc)
    for kind, step_id, args in steps:
        output, match = run_extract(kind, args, doc, resolve=resolve, url=url, tz=tz, scraped_at=scraped_at)
        read.matches.append(match)
        if isinstance(output, list):
            read.rows += len(output)
        if step_id is not None:
            read.outputs[step_id] = output
    return read
