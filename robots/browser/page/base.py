"""The core every action family of the page facade builds on: the driver, Selenium's errors translated, and
finding elements by catalog selectors (one round trip per poll, inside the selector's frame)."""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from robots.browser import processes
from robots.browser.diagnosis import FAILED_DOCUMENT_JS, guarded, not_found, portal_failed
from robots.browser.scripts import FIND_JS
from robots.errors import BusinessFailure, ElementNotFound
from robots.locators import Selector

log = logging.getLogger("robots.browser")


def poll(deadline: float, interval: float = 0.05) -> bool:
    """Back-off between polls of a wait predicate; False once the deadline has passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return False
    time.sleep(min(interval, remaining))  # back-off: polling interval of an explicit wait
    return True


class PageBase:
    """The state the action families share (the fields of robots.browser.page.Browser, which declares them) and
    the finding they all use."""

    driver: Any
    profile_dir: str | None
    tracked: list[processes.Tracked]
    kind: str
    remote_record: Path | None
    after_quit: Callable[[], None] | None
    matches: list[tuple[Selector, int]]
    page_check: Callable[[], None] | None
    _network: deque[dict[str, Any]]
    _closed: bool
    _in_frame: bool
    _script_timeout: float | None

    @property
    def versions(self) -> dict[str, str]:
        caps = getattr(self.driver, "capabilities", {}) or {}
        driver_version = str((caps.get("chrome") or {}).get("chromedriverVersion", "")).split(" ")[0]
        return {"kind": self.kind, "version": str(caps.get("browserVersion", "")), "driver_version": driver_version}

    @property
    def url(self) -> str:
        try:
            return self.driver.current_url
        except Exception:  # noqa: BLE001 - a dead browser has no URL; evidence must not fail
            return ""

    def _guard(self, fn: Callable[[], Any], what: str) -> Any:
        return guarded(fn, what)

    def script(self, source: str, *args: Any) -> Any:
        return self._guard(lambda: self.driver.execute_script(source, *args), "running a script")

    # ----- finding
    def _match_any(self, groups: list[Selector], state: str) -> tuple[int, int, Any] | None:
        """One round trip: the first group (in order) having an element in `state`, as
        (group index, candidate index, element), or None."""
        self._enter_frame(groups[-1].frame)
        return self.driver.execute_script(FIND_JS, [g.spec() for g in groups], state)

    def _enter_frame(self, frame: Selector | None) -> None:
        """Look for an element in its catalog frame (re-entered on every look: a navigation leaves it); after
        such a look, an element without a frame is looked for in the top document again. A frame entered
        with the switch_frame step is left alone."""
        if frame is None:
            if self._in_frame:
                self.driver.switch_to.default_content()
                self._in_frame = False
            return
        self.driver.switch_to.default_content()
        self._enter_frame(frame.frame)  # a frame inside a frame
        hit = self.driver.execute_script(FIND_JS, [frame.spec()], "present")
        if hit is None:
            raise ElementNotFound(f"the frame '{frame.name}' is not on the page ({self.url})")
        self.driver.switch_to.frame(hit[2])
        self._in_frame = True

    def _match(self, selector: Selector, state: str) -> tuple[Any, int] | None:
        hit = self._match_any([selector], state)
        return (hit[2], hit[1]) if hit else None

    def find(self, selector: Selector, timeout: float, state: str = "visible",
             fail_on: list[tuple[Selector, str]] | None = None) -> Any:
        """Wait for the first element of `selector` in `state`. If an element of a `fail_on` selector
        shows up first, raise BusinessFailure with its message and the element's text."""
        deadline = time.monotonic() + timeout

        bad = list(fail_on or ())
        groups = [sel for sel, _ in bad] + [selector]

        def attempt() -> Any:
            hit = self._match_any(groups, state)
            if hit is None:
                return None
            group, idx, el = hit
            if group < len(bad):
                message = bad[group][1]
                text = " ".join(el.text.split())
                raise BusinessFailure(f"{message}: {text}" if text else message)
            self._matched(selector, idx)
            return el

        while True:
            found = self._guard(attempt, f"looking for '{selector.name}'")
            if found is not None:
                return found
            self.check_page(f"'{selector.name}'")
            if not poll(deadline):
                raise not_found(selector, state, timeout, self.url)

    def check_page(self, waiting_for: str) -> None:
        """Called by every wait after a poll that did not see its condition: end the wait now when what it waits
        for will never come - the run's own check first (`page_check`: the portal sent the browser to its sign-in
        page), then the portal's answer: a document it answered with an HTTP error (4xx/5xx: its error, not-found
        or maintenance page) is PortalFailed naming the status and the request, not a selector timeout later."""
        if self.page_check is not None:
            self.page_check()
        failed = self._guard(lambda: self.driver.execute_script(FAILED_DOCUMENT_JS), "reading the page's answer")
        if failed:
            raise portal_failed(int(failed[0]), str(failed[1]), self.request_method(str(failed[1])), waiting_for)

    def request_method(self, url: str) -> str | None:
        """The HTTP method of the document request for `url` (from the network log: robots.browser.page.evidence);
        None when unknown."""
        return None

    def _matched(self, selector: Selector, index: int) -> None:
        self.matches.append((selector, index))
        if index:
            log.warning("selector drift: %s matched by fallback %s", selector.name, selector.candidates[index])

    def act(self, selector: Selector, timeout: float, what: str, action: Callable[[Any], Any],
            state: str = "visible") -> Any:
        """Find the element, then run `action(element)` with Selenium's errors translated."""
        el = self.find(selector, timeout, state)
        return self._guard(lambda: action(el), f"{what} '{selector.name}'")
