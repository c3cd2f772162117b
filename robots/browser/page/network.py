"""Fetching from inside the signed-in page (its cookies, headers and network stack; nothing rendered), and
waiting on the page's own requests (counted by robots.browser.scripts.NET_HOOK)."""

from __future__ import annotations

import logging
import time
from typing import Any

from robots.browser.page.base import PageBase, poll
from robots.browser.scripts import FETCH_JS, FETCH_PAGES_JS
from robots.errors import StepTimeout
from robots.locators import Selector

log = logging.getLogger("robots.browser")


class Network(PageBase):
    def _fetch_in_page(self, url: str, timeout: float, budget: float, script: str,
                       *args: Any) -> dict[str, Any] | None:
        """Run a fetching script (it calls back with a dict) in the current page, `budget` seconds at most (each of
        its requests aborts itself after `timeout` first); None when the page cannot fetch `url` (another origin)."""
        from selenium.common.exceptions import TimeoutException

        def go() -> Any:
            if self._script_timeout != budget:
                self.driver.set_script_timeout(budget)
                self._script_timeout = budget
            try:
                return self.driver.execute_async_script(script, *args)
            except TimeoutException:
                return {"timeout": True}

        got = self._guard(go, f"fetching {url}")
        if got.get("timeout"):
            raise StepTimeout(f"GET {url} took longer than {timeout:g} s")
        if got.get("error"):
            log.info("the page could not fetch %s (%s); navigating to it", url, got["error"])
            return None
        return dict(got)

    def fetch_text(self, url: str, timeout: float) -> tuple[int, str, str] | None:
        """GET `url` from inside the current page (its cookies and headers, the browser's network stack; nothing
        rendered): (status, final URL, text), or None when the page cannot fetch it (another origin)."""
        got = self._fetch_in_page(url, timeout, timeout + 5, FETCH_JS, url, int(timeout * 1000))
        return None if got is None else (int(got["status"]), str(got["url"]), str(got["text"]))

    def fetch_pages(self, url: str, next_link: Selector, limit: int, timeout: float,
                    more: int = 0) -> tuple[list[tuple[str, int, str, str]], str | None] | None:
        """Up to `limit` pages fetched from inside the current page in ONE round trip: `url`, then the page that
        each page's `next_link` (found in its source, as the walk finds it) leads to: ([(URL asked for, status,
        final URL, text)], the next page's URL after the last one or None). The pages stop early at an error status
        or a failed request (then no next URL). None when the page cannot fetch `url` at all (another origin).
        With `more`, the page goes on fetching up to that many pages after them, for the next call to take."""
        got = self._fetch_in_page(url, timeout, timeout * limit + 5, FETCH_PAGES_JS, url, next_link.spec()[0],
                                  limit, more, int(timeout * 1000))
        if got is None:
            return None
        if got.get("stopped"):
            log.info("reading ahead stopped after %d pages: %s", len(got["pages"]), got["stopped"])
        pages = [(str(p["asked"]), int(p["status"]), str(p["url"]), str(p["text"])) for p in got["pages"]]
        return pages, got.get("next") or None

    # ----- the page's own fetch/XHR
    def wait_network_idle(self, timeout: float, quiet_ms: int = 500) -> None:
        deadline = time.monotonic() + timeout
        probe = "const r = window.__robots; return !r || (r.pending === 0 && Date.now() - r.last >= arguments[0]);"
        while not self.script(probe, quiet_ms):
            self.check_page("the page's requests to settle")
            if not poll(deadline):
                raise StepTimeout(f"the page's requests did not settle within {timeout:g} s ({self.url})")

    def wait_request(self, url_part: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        probe = "const r = window.__robots; return !!r && r.done.some(u => u.includes(arguments[0]));"
        while not self.script(probe, url_part):
            self.check_page(f"a request to a URL containing {url_part!r}")
            if not poll(deadline):
                raise StepTimeout(f"no request to a URL containing {url_part!r} completed within {timeout:g} s "
                                  f"on {self.url}")
