"""The core every action family of the page facade builds on: the driver, Selenium's errors translated, finding
elements by catalog selectors (one round trip per poll, inside the selector's frame), actionability (an element is
acted on only once it is visible, enabled, still and not covered) and settled pages (a read after an action waits
until the page's requests are done and the region it reads has stopped changing)."""

from __future__ import annotations

import hashlib
import logging
import time
from collections import deque
from collections.abc import Callable
from pathlib import Path
from typing import Any

from robots.browser import processes
from robots.browser.diagnosis import FAILED_DOCUMENT_JS, guarded, not_found, portal_failed
from robots.browser.scripts import ACTIONABLE_JS, ALL_JS, FIND_JS, SETTLE_JS
from robots.errors import BusinessFailure, ElementNotFound, StepTimeout
from robots.locators import Selector

log = logging.getLogger("robots.browser")

#: seconds a page must stay quiet before a read after an action: no request of the page started or ended, no change
#: in the region read (the app gets this long to draw what a request brought, and to start the request a click asks
#: for)
QUIET_S = 0.1
#: the kinds of request (Chrome's resource types) a settled page has none of in flight
SETTLE_TYPES = ("XHR", "Fetch", "Document")
#: the states of `find` that act on the element: it must be actionable, not only visible
ACTION_STATES = ("clickable",)


def poll(deadline: float, interval: float = 0.05) -> bool:
    """Back-off between polls of a wait predicate; False once the deadline has passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return False
    time.sleep(min(interval, remaining))  # back-off: polling interval of an explicit wait
    return True


def _digest(html: list[str]) -> str:
    return hashlib.sha1("\n".join(html).encode()).hexdigest()


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
    _unsettled: tuple[float, bool] | None
    _net_last: float
    _last_action: float
    _inflight: dict[str, tuple[str, str, str]]
    _seen: dict[str, tuple[str, float, bool]]

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

    # ----- settled pages
    def changed(self, navigated: bool = False) -> None:
        """A step changed the page, or may have: the next read waits until it has settled (`settle`). A navigation
        forgets the requests of the page it left (the browser cancels them; their end may not be logged)."""
        if navigated:
            self._inflight.clear()
        self._last_action = time.monotonic()
        self._unsettled = (self._last_action, navigated)

    def drain_network(self) -> None:
        """Read Chrome's network log (robots.browser.page.evidence); each event goes through `_track_request`."""

    def _track_request(self, method: str, params: dict[str, Any], at: float) -> None:
        """One event of Chrome's network log (`at`: its epoch ms): the requests a settled page waits for. A document's
        own load is over when the browser says so (its end opens no quiet window); a fetch's or XHR's data is drawn
        by the page after it came (its start and end do)."""
        rid = params.get("requestId")
        if method == "Network.requestWillBeSent":
            request, kind = params.get("request") or {}, params.get("type")
            if kind in SETTLE_TYPES and str(request.get("url", "")).startswith(("http:", "https:")):
                self._inflight[str(rid)] = (str(request.get("method", "GET")), str(request["url"]), str(kind))
                if kind != "Document":
                    self._net_last = max(self._net_last, at)
        elif method in ("Network.loadingFinished", "Network.loadingFailed") and rid in self._inflight:
            if self._inflight.pop(rid)[2] != "Document":
                self._net_last = max(self._net_last, at)

    def wait_changed(self, region: Selector, timeout: float, said: float | None = None) -> None:
        """Wait until `region` shows something else than before the last action (what the last read of it before
        the action saw; never read before it: until it changed after the action), then until the page settled."""
        deadline = time.monotonic() + timeout
        seen = self._seen.get(region.name)
        before = seen if seen is not None and seen[1] <= self._last_action else None
        while True:
            if before is not None:
                now = self.fingerprint(region, every=before[2])
                done = now is not None and now != before[0]
            else:
                def probe() -> Any:
                    self._enter_frame(region.frame)
                    return self.driver.execute_script(SETTLE_JS, region.spec(), False)

                clock, last = self._guard(probe, f"waiting for '{region.name}' to change")[:2]
                done = last > 0 and float(last) > float(clock) - (time.monotonic() - self._last_action) * 1000
            if done:
                self.settle(region, max(deadline - time.monotonic(), 0.1))
                return
            self.check_page(f"'{region.name}' to change")
            if not poll(deadline):
                raise StepTimeout(f"'{region.name}' did not change within {said or timeout:g} s after the last action "
                                  f"(on {self.url})")

    def _quiet_for(self, region: Selector | None,
                   read: bool = False) -> tuple[float, list[tuple[str, str, str]], tuple[int, str] | None]:
        """How long the page has been settled (seconds; zero or less: not), the requests in flight, and with `read`
        (when the page was probed) what `region` holds: (index of the candidate that matched, its outer HTML)."""
        self.drain_network()
        busy = list(self._inflight.values())
        if busy or self._unsettled is None:
            return (0.0 if busy else QUIET_S), busy, None

        def probe() -> Any:
            if region is not None:
                self._enter_frame(region.frame)
            return self.driver.execute_script(SETTLE_JS, region.spec() if region is not None else None, read)

        now, last, index, html = self._guard(probe, "waiting for the page to settle")
        quiet = (float(now) - max(float(last), self._net_last)) / 1000
        since, navigated = self._unsettled
        if not navigated:  # the app may start a request a little after the action that asks for it
            quiet = min(quiet, time.monotonic() - since)
        return quiet, busy, (int(index), str(html)) if html is not None else None

    def settle(self, region: Selector | None, timeout: float, read: bool = False) -> str | None:
        """After a step that may have changed the page, wait until it has settled before reading `region` (None:
        the whole page): no fetch/XHR or document request in flight (from Chrome's network events, which the page
        cannot hide) and neither a fetch/XHR started or ended nor a change in the region for QUIET_S seconds. With
        `read`: the region's outer HTML when it was read in the same look (None: read it the ordinary way)."""
        if self._unsettled is None:
            return None
        deadline = time.monotonic() + timeout
        while True:
            quiet, busy, got = self._quiet_for(region, read)
            if not busy and quiet >= QUIET_S:
                self._unsettled = None
                if got is None or region is None:
                    return None
                self._matched(region, got[0])
                return got[1]
            if not poll(deadline, max(QUIET_S - quiet, 0.02) if not busy else 0.05):
                raise StepTimeout(self._unsettled_why(region, busy, timeout))

    def _unsettled_why(self, region: Selector | None, busy: list[tuple[str, str, str]], timeout: float) -> str:
        if busy:
            shown = ", ".join(f"{m} {u}" for m, u, _ in busy[:3])
            shown += f" and {len(busy) - 3} more" if len(busy) > 3 else ""
            what = f"{len(busy)} request{'s' if len(busy) > 1 else ''} still in flight ({shown})"
        else:
            what = f"'{region.name}' kept changing" if region is not None else "the page kept changing"
        return f"the page did not settle within {timeout:g} s: {what} on {self.url}"

    def fingerprint(self, region: Selector, every: bool = True) -> str | None:
        """What `region` shows now, as a short digest (`every`: all the elements of its first matching candidate,
        else its first present element); None when it is not on the page. One round trip."""
        def look() -> Any:
            self._enter_frame(region.frame)
            if every:
                return self.driver.execute_script(ALL_JS, region.spec())
            hit = self.driver.execute_script(FIND_JS, [region.spec()], "present")
            return [hit[2].get_attribute("outerHTML")] if hit else []

        html = self._guard(look, f"reading '{region.name}'")
        return _digest(html) if html else None

    def _saw(self, region: Selector, html: str | list[str]) -> None:
        """A read of `region`: what it showed, for `wait_changed`."""
        listed = html if isinstance(html, list) else [html]
        self._seen[region.name] = (_digest(listed), time.monotonic(), isinstance(html, list))

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

        blocked: list[str] = []

        def attempt() -> Any:
            hit = self._actionable_any(groups) if state in ACTION_STATES else self._match_any(groups, state)
            if hit is None:
                return None
            group, idx, el = hit[:3]
            if len(hit) > 3 and hit[3]:  # found, but not ready to be acted on
                blocked[:] = [hit[3]]
                return None
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
                if blocked:
                    raise StepTimeout(f"'{selector.name}' {blocked[0]} (waited {timeout:g} s on {self.url})")
                raise not_found(selector, state, timeout, self.url)

    def _actionable_any(self, groups: list[Selector]) -> list[Any] | None:
        """One round trip (two animation frames long): like `_match_any` with the first visible element, and for
        an element of the last group why it cannot be acted on yet (None when it can): [group, candidate, element,
        reason]."""
        self._enter_frame(groups[-1].frame)
        return self.driver.execute_async_script(ACTIONABLE_JS, [g.spec() for g in groups])

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
            state: str = "clickable") -> Any:
        """Find the element (by default: once it can be acted on), then run `action(element)` with Selenium's errors
        translated; the next read waits until the page has settled."""
        el = self.find(selector, timeout, state)
        try:
            return self._guard(lambda: action(el), f"{what} '{selector.name}'")
        finally:
            self.changed()
