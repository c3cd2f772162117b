"""The stop rules of `paginate` (docs/CONTRACTS.md C5), on a scripted stand-in for the browser: pure control logic.
The real browser walk is covered by tests/browser/test_list_customers.py."""

from __future__ import annotations

import logging

import pytest

from robots.locators import Selector, parse_locator
from robots.steps.control import PaginateArgs, paginate


class Portal:
    """Pages of rows; `next_of(page)` says where the next control leads (None: no control)."""

    def __init__(self, pages: dict[int, list[dict]], next_of, plain: bool = True):
        self.pages, self.next_of, self.plain = pages, next_of, plain
        self.page = 1
        self.visits = [1]
        self.clicks = 0

    # the Browser methods paginate uses
    def link(self, selector):
        target = self.next_of(self.page)
        if target == "disabled":
            return {"href": None, "plain": False, "disabled": True}
        return None if target is None else {"href": f"http://portal.test/?page={target}", "plain": self.plain}

    def open(self, url):
        self._go(int(url.rsplit("=", 1)[1]))

    def page_marker(self):
        return self.page

    def click(self, selector, timeout):
        self.clicks += 1
        target = self.next_of(self.page)
        if target != "stuck":  # a control that does nothing
            self._go(target)

    # a next control that redraws the page in place: what the watched region shows is the page's number
    def fingerprint(self, region):
        return str(self.page)

    def wait_next_page(self, marker, region, before, timeout):
        return None if str(self.page) == before else str(self.page)

    def _go(self, page):
        # Like many portals: an out-of-range page silently shows page 1.
        self.page = page if page in self.pages else 1
        self.visits.append(self.page)


class Ctx:
    call = type("Call", (), {"blocks": {}})()

    def __init__(self, portal: Portal):
        self.browser = portal
        self.timeout = 5.0
        self.pages = self.rows = 0
        self._outputs = {}

    def selector(self, ref):
        return Selector(ref, (parse_locator("css:a[rel=next]"),))

    def count(self, *, pages=0, rows=0):
        self.pages += pages
        self.rows += rows

    def run_children(self):
        rows = self.browser.pages[self.browser.page]
        self._outputs["rows"] = [{**r, "scraped_at": f"t{len(self.browser.visits)}"} for r in rows]
        self.count(rows=len(rows))

    def output_of(self, step_id):
        return self._outputs.get(step_id)


def rows(page: int, n: int = 2) -> list[dict]:
    return [{"id": f"{page}-{i}"} for i in range(n)]


ARGS = {"next": "x.next", "collect": "rows", "steps": [{"extract_table": {}}]}


def test_stops_when_the_next_control_is_gone():
    portal = Portal({p: rows(p) for p in (1, 2, 3)}, lambda p: p + 1 if p < 3 else None)
    ctx = Ctx(portal)
    out = paginate(ctx, PaginateArgs(max_pages=10, **ARGS))
    assert [r["id"] for r in out] == ["1-0", "1-1", "2-0", "2-1", "3-0", "3-1"]
    assert (ctx.pages, ctx.rows, portal.visits) == (3, 6, [1, 2, 3])


def test_an_out_of_range_page_showing_page_one_again_ends_it_and_is_dropped(caplog):
    # The next control never disappears; past the end the portal shows page 1 again.
    portal = Portal({1: rows(1), 2: rows(2), 3: rows(3)}, lambda p: p + 1)
    ctx = Ctx(portal)
    with caplog.at_level(logging.WARNING, logger="robots.steps.control"):
        out = paginate(ctx, PaginateArgs(max_pages=50, **ARGS))
    assert [r["id"] for r in out] == ["1-0", "1-1", "2-0", "2-1", "3-0", "3-1"]
    assert portal.visits == [1, 2, 3, 1]
    assert (ctx.pages, ctx.rows) == (3, 6)
    assert caplog.messages == ["page 4 repeats the first row of page 1; pagination stopped"]


def test_a_page_repeating_the_previous_one_ends_it():
    # A "next" that reloads the same page (a broken control) is caught on the second visit.
    portal = Portal({1: rows(1)}, lambda p: 1)
    ctx = Ctx(portal)
    out = paginate(ctx, PaginateArgs(max_pages=50, **ARGS))
    assert [r["id"] for r in out] == ["1-0", "1-1"] and (ctx.pages, ctx.rows) == (1, 2)


def test_max_pages_is_a_hard_bound(caplog):
    portal = Portal({p: rows(p) for p in range(1, 100)}, lambda p: p + 1)
    ctx = Ctx(portal)
    with caplog.at_level(logging.WARNING, logger="robots.steps.control"):
        out = paginate(ctx, PaginateArgs(max_pages=4, **ARGS))
    assert len(out) == 8 and portal.visits == [1, 2, 3, 4]
    assert caplog.messages == ["pagination stopped at max_pages=4 while a next control was still present"]


def test_a_scripted_next_control_is_clicked_and_awaited():
    portal = Portal({1: rows(1), 2: rows(2)}, lambda p: 2 if p == 1 else None, plain=False)
    ctx = Ctx(portal)
    paginate(ctx, PaginateArgs(max_pages=5, **ARGS))
    assert (portal.clicks, portal.visits) == (1, [1, 2])


def test_an_in_place_next_control_ends_when_disabled_or_when_it_changes_nothing():
    for last in ("disabled", "stuck"):
        portal = Portal({1: rows(1), 2: rows(2), 3: rows(3)}, lambda p, last=last: p + 1 if p < 3 else last,
                        plain=False)
        ctx = Ctx(portal)
        out = paginate(ctx, PaginateArgs(max_pages=9, **ARGS))
        assert [r["id"] for r in out] == ["1-0", "1-1", "2-0", "2-1", "3-0", "3-1"]
        assert (portal.visits, ctx.pages, ctx.rows) == ([1, 2, 3], 3, 6)
        assert portal.clicks == (2 if last == "disabled" else 3)


def test_an_in_place_next_control_never_reads_a_page_twice(caplog):
    # a control that leads back to page 1: seen from what the page shows, before its rows are read again
    portal = Portal({1: rows(1), 2: rows(2)}, lambda p: 2 if p == 1 else 1, plain=False)
    ctx = Ctx(portal)
    with caplog.at_level(logging.WARNING, logger="robots.steps.control"):
        out = paginate(ctx, PaginateArgs(max_pages=9, **ARGS))
    assert [r["id"] for r in out] == ["1-0", "1-1", "2-0", "2-1"] and portal.visits == [1, 2, 1]
    assert caplog.messages == ["the next control led back to a page read already; pagination stopped"]


def test_max_pages_is_required():
    with pytest.raises(Exception) as caught:
        PaginateArgs(next="x.next", steps=[{}])
    assert "max_pages" in str(caught.value)
