"""Regenerate the saved Sera pages that the read flows' scrapers are tested on (tests/packs/sera/test_scrapers.py),
from the bundled sandbox (small data set), in the default layout and in layout variant B.

Run by hand (`.venv/bin/python tests/packs/sera/pages/save_sera_pages.py`) when the portal's markup changes on
purpose; the tests read the saved files and never start a server. The schedule board is drawn by JavaScript, so
its page is saved from a headless Chromium after the board has loaded (the other pages are plain HTTP GETs).

The pages were picked for messy data: accents, empty cells, thousands separators, negative amounts, refunds,
several contacts with several methods, and times on both sides of a daylight-saving change."""

from __future__ import annotations

import sys
import time
from pathlib import Path

import httpx

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE))

from save_sera_customers import sign_in  # noqa: E402

from robots.packs.sera.sandbox import SandboxServer  # noqa: E402

#: saved file stem -> path on the portal
PAGES = {
    "customers": "/customers",
    "customer_detail": "/customers/1003",
    "customer_detail_sparse": "/customers/1011",
    "customer_detail_negative": "/customers/1032",
    "jobs": "/jobs",
    "jobs_last": "/jobs?page=10",
    "job_detail": "/jobs/50005",
    "job_detail_unscheduled": "/jobs/50050",
    "pricebook": "/pricebook",
    "estimates": "/estimates",
    "invoices": "/invoices",
    "payments": "/payments?kind=refund",
    "memberships": "/memberships",
    "programs": "/memberships/programs",
    "membership_detail": "/memberships/4",
    "users": "/settings/users",
}
BOARD_DATE = "2026-03-09"  # the Monday after the spring-forward change in America/Chicago


def save_board(url: str, cookies: httpx.Cookies, layout: str) -> None:
    """The schedule board after its XHR drew it, from a real Chromium."""
    from robots.browser.drivers import BrowserOptions, start_chromium
    from robots.locators import parse_locator

    browser = start_chromium(BrowserOptions(), None)
    try:
        browser.set_cookies([{"name": c.name, "value": c.value, "domain": c.domain or "127.0.0.1", "path": "/"}
                             for c in cookies.jar], url)
        browser.open(f"{url}/dispatch/board?date={BOARD_DATE}")
        loaded = parse_locator("css:main .board[data-loaded=true]").webdriver()
        deadline = time.monotonic() + 20
        while not browser.driver.find_elements(*loaded):
            assert time.monotonic() < deadline, "the board did not load"
            time.sleep(0.1)  # polling a condition in a by-hand script
        html = browser.page_source() or ""
    finally:
        browser.quit()
    (HERE / f"sera_schedule_board{layout}.html").write_text(html, encoding="utf-8")


def main() -> None:
    with SandboxServer(size="small") as sandbox, httpx.Client(base_url=sandbox.url, timeout=20) as client:
        for layout in ("", "_b"):
            client.cookies.clear()
            if layout:
                client.post("/_sandbox/faults", json={"name": "layout_b"}).raise_for_status()
            client.post("/_sandbox/clock", json={"advance": 31}).raise_for_status()  # a fresh TOTP window
            sign_in(client)
            for stem, path in PAGES.items():
                page = client.get(path)
                page.raise_for_status()
                (HERE / f"sera_{stem}{layout}.html").write_text(page.text, encoding="utf-8")
            save_board(sandbox.url, client.cookies, layout)
        print(f"saved {len(PAGES) + 1} pages in two layouts from {sandbox.url}")


if __name__ == "__main__":
    main()
