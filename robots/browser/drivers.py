"""Starting and driving Chrome. Everything Selenium raises is translated here into robots errors
(STYLE.md rule 5); callers never see a Selenium exception."""

from __future__ import annotations

import base64
import functools
import json
import logging
import os
import re
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robots.browser import processes
from robots.browser.locators import Selector
from robots.errors import BrowserError, BusinessFailure, ElementNotFound, Interrupted, PortalUnreachable, StepTimeout

log = logging.getLogger("robots.browser")

CHROME_FLAGS = (
    "--headless=new",
    "--no-sandbox",
    "--disable-dev-shm-usage",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--no-default-browser-check",
    "--disable-extensions",
    "--disable-crash-reporter",  # else crashpad handlers start in sessions of their own, outside our group
    "--disable-breakpad",
)

#: browser kinds: `start_browser` dispatches on them
KINDS = ("chromium", "undetected", "remote")


@dataclass(frozen=True)
class BrowserOptions:
    """Everything needed to start one browser, resolved (see robots.browser.settings for the layers)."""

    kind: str = "chromium"  # one of KINDS
    headless: bool = True
    #: a Selenium Grid 4 (or any W3C remote end) for kind `remote`
    grid_url: str | None = None
    window_size: tuple[int, int] = (1366, 900)
    page_load_timeout: float = 60.0
    #: extra Chrome flags, after ours (a later flag wins in Chrome)
    arguments: tuple[str, ...] = ()
    #: Chrome's binary where Chrome runs (for `remote`, on the Grid's node); else found on PATH
    chrome_binary: str | None = None
    chromedriver: str | None = None


def chrome_arguments(options: BrowserOptions, *, headless_flag: bool = True) -> list[str]:
    """Our offline flags, the window size and the options' own flags (headless unless headed)."""
    flags = [f for f in CHROME_FLAGS if f != "--headless=new" or (options.headless and headless_flag)]
    return [*flags, f"--window-size={options.window_size[0]},{options.window_size[1]}", *options.arguments]


def _find_binary(explicit: str | None, env: str, names: tuple[str, ...], what: str, install: str) -> str:
    """`explicit`, else $env, else the first of `names` on PATH. A path that is given but not there is an
    error of its own (never silently replaced by another binary)."""
    for given, where in ((explicit, "the browser options"), (os.environ.get(env), f"${env}")):
        if given:
            if Path(given).is_file() and os.access(given, os.X_OK):
                return given
            raise BrowserError(f"{what} not found: {given} (from {where}) is not an executable file; {install}")
    for name in names:
        found = shutil.which(name)
        if found:
            return found
    raise BrowserError(f"{what} not found (looked at ${env} and {', '.join(names)} on PATH); {install}")


def _poll(deadline: float, interval: float = 0.05) -> bool:
    """Back-off between polls of a wait predicate; False once the deadline has passed."""
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        return False
    time.sleep(min(interval, remaining))  # back-off: polling interval of an explicit wait
    return True


@dataclass
class Browser:
    """One Chrome, driven through chromedriver; always end it with `quit()`."""

    driver: Any
    profile_dir: str | None  # a local profile to remove at quit (None: the remote end owns it)
    tracked: list[processes.Tracked] = field(default_factory=list)
    kind: str = "chromium"
    #: remote: the file (in the run's folder) naming the Grid session, for the orphan sweep; gone once quit
    remote_record: Path | None = None
    #: called at the end of quit() (undetected: disarm the library's own late clean-up)
    after_quit: Callable[[], None] | None = None
    #: (selector, index of the candidate that matched), in the order found; the engine reads and clears it
    matches: list[tuple[Selector, int]] = field(default_factory=list)
    #: called while `find` waits for an element that is not there yet; it raises to end the wait (the engine's:
    #: the portal sent the browser to its sign-in page, so the element will never come)
    page_check: Callable[[], None] | None = None
    _network: deque[dict[str, Any]] = field(default_factory=lambda: deque(maxlen=100))
    _closed: bool = False
    _in_frame: bool = False  # inside a catalog selector's frame (not one the flow entered with switch_frame)
    _script_timeout: float | None = None  # the session's script timeout as last set by fetch_text

    @property
    def versions(self) -> dict[str, str]:
        caps = getattr(self.driver, "capabilities", {}) or {}
        driver_version = str((caps.get("chrome") or {}).get("chromedriverVersion", "")).split(" ")[0]
        return {"kind": self.kind, "version": str(caps.get("browserVersion", "")), "driver_version": driver_version}

    # ----- navigation
    def open(self, url: str) -> None:
        from selenium.common.exceptions import TimeoutException, WebDriverException

        try:
            self.driver.get(url)
        except TimeoutException:
            raise StepTimeout(f"the page {url} did not load in time") from None
        except WebDriverException as e:
            net = re.search(r"net::(ERR_[A-Z_]+)", str(e))
            if net:
                raise PortalUnreachable(f"could not reach {url}: {net.group(1)}") from None
            raise BrowserError(f"could not open {url}: {_first_line(e)}") from None
        # Chrome keeps the requested URL as current_url on its own error page; the document knows better.
        doc_url, code = self._guard(lambda: self.driver.execute_script(
            "const m = document.body && document.body.innerText.match(/\\b(ERR_[A-Z_]+)\\b/);"
            "return [document.URL, m ? m[1] : null];"), f"opening {url}")
        if doc_url.startswith("chrome-error://"):
            raise PortalUnreachable(f"could not reach {url}: {code or 'the browser showed its error page'}")

    @property
    def url(self) -> str:
        try:
            return self.driver.current_url
        except Exception:  # noqa: BLE001 - a dead browser has no URL; evidence must not fail
            return ""

    # ----- finding
    def _match_any(self, groups: list[Selector], state: str) -> tuple[int, int, Any] | None:
        """One round trip: the first group (in order) having an element in `state`, as
        (group index, candidate index, element), or None."""
        self._enter_frame(groups[-1].frame)
        return self.driver.execute_script(_FIND_JS, [g.spec() for g in groups], state)

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
        hit = self.driver.execute_script(_FIND_JS, [frame.spec()], "present")
        if hit is None:
            raise ElementNotFound(f"the frame '{frame.name}' is not on the page ({self.url})")
        self.driver.switch_to.frame(hit[2])
        self._in_frame = True

    def _match(self, selector: Selector, state: str) -> tuple[Any, int] | None:
        hit = self._match_any([selector], state)
        return (hit[2], hit[1]) if hit else None

    def _guard(self, fn: Callable[[], Any], what: str) -> Any:
        from selenium.common.exceptions import InvalidSelectorException, WebDriverException

        try:
            return fn()
        except InvalidSelectorException as e:
            raise ElementNotFound(f"invalid selector for {what}: {_first_line(e)}") from None
        except WebDriverException as e:
            raise BrowserError(f"the browser failed while {what}: {_first_line(e)}") from None

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
            if self.page_check is not None:
                self.page_check()
            if not _poll(deadline):
                tried = ", ".join(str(c) for c in selector.candidates)
                raise ElementNotFound(f"no {state} element matched '{selector.name}' within {timeout:g} s "
                                      f"(tried {tried}) on {self.url}")

    def wait_gone(self, selector: Selector, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._guard(lambda: self._match(selector, "visible"), f"waiting for '{selector.name}' to go"):
            if not _poll(deadline):
                raise StepTimeout(f"'{selector.name}' was still visible after {timeout:g} s on {self.url}")

    def exists(self, selector: Selector) -> bool:
        return self.link(selector) is not None

    def link(self, selector: Selector) -> dict[str, Any] | None:
        """One round trip: None when no element of `selector` is visible, else {"href": ..., "plain": bool},
        where plain means a link that a navigation to href follows exactly (no script handler, same window)."""
        def look() -> Any:
            self._enter_frame(selector.frame)
            return self.driver.execute_script(_LINK_JS, [selector.spec()])

        hit = self._guard(look, f"looking for '{selector.name}'")
        if hit:
            self._matched(selector, hit["index"])
        return hit

    def _matched(self, selector: Selector, index: int) -> None:
        self.matches.append((selector, index))
        if index:
            log.warning("selector drift: %s matched by fallback %s", selector.name, selector.candidates[index])

    # ----- actions
    def click(self, selector: Selector, timeout: float) -> None:
        from selenium.common.exceptions import (
            ElementClickInterceptedException,
            StaleElementReferenceException,
        )

        deadline = time.monotonic() + timeout
        while True:
            el = self.find(selector, max(deadline - time.monotonic(), 0.1), "clickable")
            try:
                self._guard(el.click, f"clicking '{selector.name}'")
                return
            except BrowserError as e:
                cause = e.__context__
                if not isinstance(cause, ElementClickInterceptedException | StaleElementReferenceException):
                    raise
                if not _poll(deadline, 0.2):
                    raise BrowserError(f"'{selector.name}' could not be clicked: another element covers it "
                                       f"({_first_line(cause)})") from None

    def fill(self, selector: Selector, value: str, timeout: float, clear: bool = True) -> None:
        el = self.find(selector, timeout, "visible")

        def do() -> None:
            if clear:
                el.clear()
            el.send_keys(value)

        self._guard(do, f"typing into '{selector.name}'")

    def outer_html(self, selector: Selector, timeout: float) -> str:
        el = self.find(selector, timeout, "present")
        return self._guard(lambda: el.get_attribute("outerHTML"), f"reading '{selector.name}'")

    def outer_html_all(self, selector: Selector, timeout: float) -> list[str]:
        """The outer HTML of every element matching the first candidate that matches (one round trip),
        after waiting for one to be present."""
        self.find(selector, timeout, "present")
        return self.script(_ALL_JS, selector.spec())

    def text(self, selector: Selector | None, timeout: float) -> str:
        if selector is None:
            return self._guard(lambda: self.driver.find_element("tag name", "body").text, "reading the page")
        el = self.find(selector, timeout, "visible")
        return self._guard(lambda: el.text, f"reading '{selector.name}'")

    def act(self, selector: Selector, timeout: float, what: str, action: Callable[[Any], Any],
            state: str = "visible") -> Any:
        """Find the element, then run `action(element)` with Selenium's errors translated."""
        el = self.find(selector, timeout, state)
        return self._guard(lambda: action(el), f"{what} '{selector.name}'")

    def count(self, selector: Selector) -> int:
        """How many elements match the first candidate that matches any (no waiting)."""
        def do() -> int:
            self._enter_frame(selector.frame)
            return int(self.driver.execute_script(_COUNT_JS, selector.spec()))
        return self._guard(do, f"counting '{selector.name}'")

    def select_option(self, selector: Selector, timeout: float, *, label: str | None, value: str | None) -> None:
        from selenium.common.exceptions import NoSuchElementException
        from selenium.webdriver.support.select import Select

        def do(el: Any) -> None:
            try:
                if value is not None:
                    Select(el).select_by_value(value)
                else:
                    Select(el).select_by_visible_text(label or "")
            except NoSuchElementException:
                options = [o.text for o in Select(el).options]
                raise ElementNotFound(f"'{selector.name}' has no option {label if value is None else value!r} "
                                      f"(options: {', '.join(repr(o) for o in options)})") from None
        self.act(selector, timeout, "choosing in", do)

    def set_checked(self, selector: Selector, timeout: float, checked: bool) -> None:
        def do(el: Any) -> None:
            if el.is_selected() != checked:
                el.click()
        self.act(selector, timeout, "checking", do)

    def hover(self, selector: Selector, timeout: float) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        self.act(selector, timeout, "hovering over", lambda el: ActionChains(self.driver).move_to_element(el).perform())

    def press(self, key: str, selector: Selector | None, timeout: float) -> None:
        from selenium.webdriver.common.action_chains import ActionChains
        from selenium.webdriver.common.keys import Keys

        code = getattr(Keys, key.upper().replace(" ", "_"), None) if len(key) > 1 else key
        if code is None:
            raise ElementNotFound(f"unknown key {key!r}; use a character or a key name like Enter, Tab, Escape")
        if selector is None:
            self._guard(lambda: ActionChains(self.driver).send_keys(code).perform(), f"pressing {key}")
        else:
            self.act(selector, timeout, f"pressing {key} in", lambda el: el.send_keys(code))

    def scroll_into_view(self, selector: Selector, timeout: float) -> None:
        self.act(selector, timeout, "scrolling to",
                 lambda el: self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el),
                 state="present")

    def upload(self, selector: Selector, path: str, timeout: float) -> None:
        self.act(selector, timeout, "uploading into", lambda el: el.send_keys(path), state="present")

    def attribute(self, selector: Selector, name: str, timeout: float) -> str | None:
        return self.act(selector, timeout, f"reading {name} of", lambda el: el.get_attribute(name), state="present")

    def cookies(self) -> list[dict[str, Any]]:
        return self._guard(self.driver.get_cookies, "reading cookies")

    def set_cookies(self, cookies: list[dict[str, Any]], url: str) -> None:
        """Put cookies (as `cookies()` returns them) into the browser before it opens `url`'s site: through
        CDP where the driver speaks it (no page load), else by opening `url` and adding them one by one."""
        wanted = [{k: c[k] for k in ("name", "value", "domain", "path", "secure", "httpOnly", "sameSite") if k in c}
                  | ({"expires": c["expiry"]} if "expiry" in c else {}) for c in cookies]  # fmt: skip
        if hasattr(self.driver, "execute_cdp_cmd"):
            self._guard(lambda: self.driver.execute_cdp_cmd("Network.setCookies", {"cookies": wanted}),
                        "restoring cookies")  # fmt: skip
            return
        self.open(url)
        for c in cookies:
            self._guard(functools.partial(self.driver.add_cookie, c), "restoring cookies")

    def local_storage(self, keys: tuple[str, ...]) -> dict[str, str]:
        """The current page's local-storage entries for `keys` (those present)."""
        return dict(self._guard(lambda: self.driver.execute_script(
            "const out = {}; for (const k of arguments[0]) { const v = localStorage.getItem(k);"
            " if (v !== null) out[k] = v; } return out;", list(keys)), "reading local storage"))

    def restore_local_storage(self, url: str, entries: dict[str, str]) -> None:
        """Give `url`'s origin these local-storage entries before any of its pages' scripts run (an entry the
        portal has set itself is left alone): through CDP where the driver speaks it, else by opening `url`."""
        from urllib.parse import urlsplit

        parts = urlsplit(url)
        origin = f"{parts.scheme}://{parts.netloc}"
        if hasattr(self.driver, "execute_cdp_cmd"):
            source = ("(function (origin, entries) { if (location.origin !== origin) return;"
                      " for (const [k, v] of Object.entries(entries)) { if (localStorage.getItem(k) === null)"
                      " localStorage.setItem(k, v); } })(" + json.dumps(origin) + ", " + json.dumps(entries) + ");")
            self._guard(lambda: self.driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument",
                                                            {"source": source}), "restoring local storage")
            return
        self.open(url)
        self._guard(lambda: self.driver.execute_script(
            "for (const [k, v] of Object.entries(arguments[0])) localStorage.setItem(k, v);", entries),
            "restoring local storage")

    def first_of(self, selectors: list[Selector], timeout: float, state: str = "visible") -> int:
        """Wait until an element of any of `selectors` is in `state` (one round trip per poll); the index of
        the first selector, in the order given, that has one."""
        deadline = time.monotonic() + timeout
        while True:
            hit = self._guard(lambda: self._match_any(selectors, state), "waiting for the page")
            if hit is not None:
                self._matched(selectors[hit[0]], hit[1])
                return int(hit[0])
            if not _poll(deadline):
                names = ", ".join(f"'{s.name}'" for s in selectors)
                raise ElementNotFound(f"none of {names} appeared within {timeout:g} s on {self.url}")

    def back(self) -> None:
        self._guard(self.driver.back, "going back")

    def refresh(self) -> None:
        self._guard(self.driver.refresh, "reloading the page")

    def script(self, source: str, *args: Any) -> Any:
        return self._guard(lambda: self.driver.execute_script(source, *args), "running a script")

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
        got = self._fetch_in_page(url, timeout, timeout + 5, _FETCH_JS, url, int(timeout * 1000))
        return None if got is None else (int(got["status"]), str(got["url"]), str(got["text"]))

    def fetch_pages(self, url: str, next_link: Selector, limit: int, timeout: float,
                    more: int = 0) -> tuple[list[tuple[str, int, str, str]], str | None] | None:
        """Up to `limit` pages fetched from inside the current page in ONE round trip: `url`, then the page that
        each page's `next_link` (found in its source, as the walk finds it) leads to: ([(URL asked for, status,
        final URL, text)], the next page's URL after the last one or None). The pages stop early at an error status
        or a failed request (then no next URL). None when the page cannot fetch `url` at all (another origin).
        With `more`, the page goes on fetching up to that many pages after them, for the next call to take."""
        got = self._fetch_in_page(url, timeout, timeout * limit + 5, _FETCH_PAGES_JS, url, next_link.spec()[0],
                                  limit, more, int(timeout * 1000))
        if got is None:
            return None
        if got.get("stopped"):
            log.info("reading ahead stopped after %d pages: %s", len(got["pages"]), got["stopped"])
        pages = [(str(p["asked"]), int(p["status"]), str(p["url"]), str(p["text"])) for p in got["pages"]]
        return pages, got.get("next") or None

    # ----- network (the page's own fetch/XHR, counted by _NET_HOOK)
    def wait_network_idle(self, timeout: float, quiet_ms: int = 500) -> None:
        deadline = time.monotonic() + timeout
        probe = "const r = window.__robots; return !r || (r.pending === 0 && Date.now() - r.last >= arguments[0]);"
        while not self.script(probe, quiet_ms):
            if not _poll(deadline):
                raise StepTimeout(f"the page's requests did not settle within {timeout:g} s ({self.url})")

    def wait_request(self, url_part: str, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        probe = "const r = window.__robots; return !!r && r.done.some(u => u.includes(arguments[0]));"
        while not self.script(probe, url_part):
            if not _poll(deadline):
                raise StepTimeout(f"no request to a URL containing {url_part!r} completed within {timeout:g} s "
                                  f"on {self.url}")

    # ----- frames and windows
    def switch_frame(self, selector: Selector | None, timeout: float) -> None:
        """Into the frame element `selector`, or back to the top document when None."""
        if selector is None:
            self._guard(self.driver.switch_to.default_content, "leaving the frame")
            return
        self.act(selector, timeout, "entering the frame", self.driver.switch_to.frame)
        self._in_frame = False  # entered on purpose: stays until the flow leaves it

    def windows(self) -> list[str]:
        return self._guard(lambda: list(self.driver.window_handles), "listing windows")

    def switch_window(self, handle: str) -> None:
        self._guard(lambda: self.driver.switch_to.window(handle), "switching windows")

    def current_window(self) -> str:
        return self._guard(lambda: self.driver.current_window_handle, "reading the window")

    def close_window(self) -> None:
        self._guard(self.driver.close, "closing the window")

    def title(self) -> str:
        return self._guard(lambda: self.driver.title, "reading the title")

    def page_marker(self) -> Any:
        """A handle on the current document; `wait_replaced` waits until a navigation replaces it."""
        return self._guard(lambda: self.driver.find_element("tag name", "html"), "reading the page")

    def wait_replaced(self, marker: Any, timeout: float) -> None:
        from selenium.common.exceptions import StaleElementReferenceException

        deadline = time.monotonic() + timeout
        while True:
            try:
                marker.is_enabled()
            except StaleElementReferenceException:
                return
            except Exception as e:  # noqa: BLE001 - translated below
                raise BrowserError(f"the browser failed while waiting for the next page: {_first_line(e)}") from None
            if not _poll(deadline):
                raise StepTimeout(f"the next page did not load within {timeout:g} s ({self.url})")

    # ----- evidence
    def screenshot_png(self, mask_values: list[str]) -> bytes | None:
        """A PNG of the viewport, with any input that holds a secret blanked first."""
        try:
            if mask_values:
                self.driver.execute_script(
                    "const s = arguments[0];"
                    "for (const el of document.querySelectorAll('input, textarea')) {"
                    "  if (s.some(v => v && el.value.includes(v))) { el.value = '••••••'; } }",
                    mask_values,
                )
            return base64.b64decode(self.driver.get_screenshot_as_base64())
        except Exception as e:  # noqa: BLE001 - evidence is best effort; the step's own error matters
            log.warning("could not take a screenshot: %s", _first_line(e))
            return None

    def console_log(self) -> list[dict[str, Any]]:
        """The browser console's messages since the last call (level, message, timestamp)."""
        try:
            return [{"level": e.get("level"), "message": e.get("message"), "timestamp": e.get("timestamp")}
                    for e in self._log("browser")]
        except Exception as e:  # noqa: BLE001 - evidence is best effort
            log.warning("could not read the console log: %s", _first_line(e))
            return []

    def network_log(self) -> list[dict[str, Any]]:
        """The last (up to 100) network requests, from Chrome's performance log: url, method, status..."""
        self.drain_network()
        return list(self._network)

    def drain_network(self) -> None:
        """Move Chrome's buffered performance log into a bounded list (call between steps: the driver's own
        buffer is unbounded)."""
        try:
            entries = self._log("performance")
        except Exception as e:  # noqa: BLE001 - evidence is best effort
            log.debug("could not read the performance log: %s", _first_line(e))
            return
        pending: dict[str, dict[str, Any]] = {r["id"]: r for r in self._network if "id" in r}
        for entry in entries:
            try:
                msg = json.loads(entry["message"])["message"]
            except (KeyError, ValueError):
                continue
            method, params = msg.get("method"), msg.get("params", {})
            rid = params.get("requestId")
            if method == "Network.requestWillBeSent":
                req = params.get("request", {})
                if not str(req.get("url", "")).startswith(("http://", "https://")):
                    continue  # Chrome's own pages (new tab and the like)
                rec = {"id": rid, "method": req.get("method"), "url": req.get("url"), "type": params.get("type"),
                       "status": None, "error": None, "at": params.get("wallTime")}
                self._network.append(rec)
                pending[rid] = rec
            elif method == "Network.responseReceived" and rid in pending:
                pending[rid]["status"] = params.get("response", {}).get("status")
            elif method == "Network.loadingFailed" and rid in pending:
                pending[rid]["error"] = params.get("errorText")

    def _log(self, kind: str) -> list[dict[str, Any]]:
        # The W3C command behind ChromiumDriver.get_log, which a Remote driver lacks (a Grid forwards it).
        return self.driver.execute("getLog", {"type": kind})["value"]

    def page_source(self) -> str | None:
        try:
            return self.driver.page_source
        except Exception as e:  # noqa: BLE001 - evidence is best effort
            log.warning("could not read the page source: %s", _first_line(e))
            return None

    # ----- lifecycle
    def quit(self) -> None:
        """End chromedriver and Chrome: politely first, then by the tracked pids (a remote session: on the Grid)."""
        if self._closed:
            return
        self._closed = True
        try:
            self.driver.quit()
        except Exception as e:  # noqa: BLE001 - the processes are ended below whatever happened here
            if self.remote_record is not None:
                from robots.browser.remote import end_session

                end_session(self.remote_record)  # once more, by plain HTTP; it warns if the Grid keeps it
            else:
                log.debug("driver.quit failed: %s", _first_line(e))
        else:
            if self.remote_record is not None:
                self.remote_record.unlink(missing_ok=True)
        processes.end(self.tracked)
        if self.profile_dir:
            shutil.rmtree(self.profile_dir, ignore_errors=True)
        if self.after_quit is not None:
            self.after_quit()

    def kill(self) -> None:
        """End the browser now, from any thread (a cancel, a max_runtime): its processes by pid and process
        group, or its remote session on the Grid. `quit()` afterwards still tidies up."""
        if self.remote_record is not None:
            from robots.browser.remote import end_session

            end_session(self.remote_record)
        abort = getattr(self.driver.command_executor, "abort", None)
        if abort is not None:  # a remote session's request in flight, which the Grid may never answer now
            abort()
        processes.end(self.tracked)


def _start_xvfb(record: Callable[[int, str], None]) -> str:
    """A virtual display for --headed when there is none: Xvfb picks a free display number and reports it.
    Xvfb is spawned behind the process gate and `record(pid, "xvfb")` is called before it may run."""
    binary = shutil.which("Xvfb")
    if binary is None:
        raise BrowserError("--headed needs a display: DISPLAY is not set and Xvfb is not installed "
                           "(install Debian's 'xvfb' package, or run where a display exists)")
    import subprocess

    read_end, write_end = os.pipe()
    try:
        proc = subprocess.Popen(processes.gated([binary, "-displayfd", str(write_end), "-screen", "0", "1366x900x24",
                                                 "-nolisten", "tcp"]),
                                pass_fds=(write_end,), stdin=subprocess.PIPE, stdout=subprocess.DEVNULL,
                                stderr=subprocess.DEVNULL, start_new_session=True)  # fmt: skip
    finally:
        os.close(write_end)
    try:
        record(proc.pid, "xvfb")
    except BaseException:
        proc.kill()
        proc.wait()
        os.close(read_end)
        raise
    processes.open_gate(proc.stdin, close=True)
    with os.fdopen(read_end) as pipe:
        number = pipe.readline().strip()  # Xvfb writes the display number once it accepts connections
    if not number.isdigit():
        proc.kill()
        proc.wait()
        raise BrowserError("Xvfb did not start (no display number reported)")
    return f":{number}"


def _once_service_class() -> type:
    from selenium.webdriver.chrome.service import Service

    class OnceService(Service):
        """A Service that webdriver.Chrome does not start a second time: we start it ourselves, first, so
        that its pid is recorded before Chrome exists. chromedriver is spawned behind the process gate
        (processes.GATE): `on_spawn` records its pid (durably) before it may run, not after it answers."""

        #: called with chromedriver's pid the moment it is spawned, before the gate opens
        on_spawn: Callable[[int], None] | None = None
        _gated: str | None = None  # while spawning: the chromedriver binary behind the gate

        def start(self) -> None:
            proc = getattr(self, "process", None)
            if proc is not None and proc.poll() is None:
                return
            super().start()

        def command_line_args(self) -> list[str]:
            args = super().command_line_args()
            return [*processes.GATE[1:], self._gated, *args] if self._gated else args

        def _start_process(self, path: str) -> None:
            self._gated = path
            try:
                super()._start_process(processes.GATE[0])
            finally:
                self._gated = None
            try:
                if self.on_spawn is not None:
                    self.on_spawn(self.process.pid)
            except BaseException:  # not recorded: it must never run (the gate exits on end-of-file)
                self.process.kill()
                self.process.wait()
                raise
            processes.open_gate(self.process.stdin)

    return OnceService


def start_chromium(options: BrowserOptions, run_dir: Path | None) -> Browser:
    """Start Debian's Chromium through chromedriver, offline (no Selenium Manager), tracked by pid."""
    os.environ.setdefault("SE_OFFLINE", "true")  # Selenium Manager must never try to download
    chrome = _find_binary(options.chrome_binary, "ROBOTS_CHROME_BINARY", ("chromium", "chromium-browser",
                          "google-chrome"), "Chrome", "install Debian's 'chromium' package or set ROBOTS_CHROME_BINARY")
    driver_bin = _find_binary(options.chromedriver, "ROBOTS_CHROMEDRIVER", ("chromedriver",), "chromedriver",
                              "install Debian's 'chromium-driver' package or set ROBOTS_CHROMEDRIVER")
    from selenium import webdriver
    from selenium.common.exceptions import WebDriverException
    _OnceService = _once_service_class()  # noqa: N806

    port = driver_port()  # before anything starts: a taken port must leave nothing behind
    tracked: list[processes.Tracked] = []
    profile = tempfile.mkdtemp(prefix="robots-chrome-")

    def record(pid: int, role: str) -> None:
        """Track `pid` and write the run's processes.json at once (the orphan sweep's list)."""
        t = processes.track(pid, role)
        if t:
            tracked.append(t)
        if run_dir is not None:
            processes.write(run_dir / "processes.json", tracked, os.getpid(), profile)

    env = dict(os.environ)
    if not options.headless and not env.get("DISPLAY"):
        try:
            env["DISPLAY"] = _start_xvfb(record)
        except BaseException:
            processes.end(tracked)
            shutil.rmtree(profile, ignore_errors=True)
            raise
    opts = webdriver.ChromeOptions()
    opts.binary_location = chrome
    for flag in chrome_arguments(options):
        opts.add_argument(flag)
    opts.add_argument(f"--user-data-dir={profile}")
    opts.page_load_strategy = "eager"
    # Console messages and network events, kept for failure evidence.
    opts.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    opts.add_experimental_option("perfLoggingPrefs", {"enableNetwork": True, "enablePage": False})
    # chromedriver leads a process group of its own: Chrome and its helpers join it, a terminal's
    # Ctrl-C does not reach them before we quit them, and cleanup can end the whole group by its pid.
    # chromedriver's own output (why it exits) goes to a file that start errors quote. Warnings and worse
    # only: at INFO it logs every command with its arguments, the typed passwords among them (rule 6).
    driver_log = str((run_dir or Path(profile)) / "chromedriver.log")
    service = _OnceService(executable_path=driver_bin, port=port, log_output=driver_log,
                           service_args=list(DRIVER_LOG_ARGS), popen_kw={"start_new_session": True}, env=env)
    service.on_spawn = lambda pid: record(pid, "chromedriver")
    try:
        service.start()
        driver = webdriver.Chrome(service=service, options=opts)
    except WebDriverException as e:
        processes.end(tracked)
        error = start_error(e, chrome, driver_bin, log_tail(driver_log))
        shutil.rmtree(profile, ignore_errors=True)
        raise error from None
    except BaseException:
        processes.end(tracked)
        shutil.rmtree(profile, ignore_errors=True)
        raise
    browser = Browser(driver, profile, tracked, kind=options.kind)
    try:
        # Record Chrome's own pids too (same group), so that a start-up sweep knows them.
        for pid in processes.group_members(service.process.pid):
            if pid != service.process.pid:
                t = processes.track(pid, "chrome")
                if t:
                    tracked.append(t)
        if run_dir is not None:
            processes.write(run_dir / "processes.json", tracked, os.getpid(), profile)
        prepare(browser, options)
    except BaseException:  # an interrupt before the caller holds the browser: end it here
        browser.quit()
        raise
    return browser


def prepare(browser: Browser, options: BrowserOptions) -> None:
    """What every kind needs once its driver answers: the page-load timeout and the network hook."""
    from selenium.common.exceptions import WebDriverException

    driver = browser.driver
    try:
        driver.set_page_load_timeout(options.page_load_timeout)
        driver.execute_cdp_cmd("Page.addScriptToEvaluateOnNewDocument", {"source": _NET_HOOK})
    except WebDriverException as e:  # (an Interrupted from a signal handler passes through)
        _reraise_interrupt(e)
        raise BrowserError(f"the {options.kind} browser started but does not take commands: {_first_line(e)}") \
            from None


def _reraise_interrupt(e: BaseException) -> None:
    """A SIGINT/SIGTERM that arrived while Selenium waited on chromedriver surfaces wrapped in a
    WebDriverException (urllib3 caught it mid-read): raise the interrupt itself, not a browser error."""
    seen: set[int] = set()
    cause: BaseException | None = e
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, Interrupted):
            raise cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__


def start_browser(options: BrowserOptions, run_dir: Path | None) -> Browser:
    """Start the browser `options.kind` names; always end it with `quit()`. Start failures are BrowserErrors
    that say what to install or set."""
    if options.kind == "chromium":
        return start_chromium(options, run_dir)
    if options.kind == "undetected":
        from robots.browser.undetected import start_undetected

        return start_undetected(options, run_dir)
    if options.kind == "remote":
        from robots.browser.remote import start_remote

        return start_remote(options, run_dir)
    raise BrowserError(f"unknown browser kind {options.kind!r}; use one of {', '.join(KINDS)}")


_MISMATCH = re.compile(r"only supports Chrome version (\d+).*?Current browser version is (\d+)", re.S)


def driver_port() -> int:
    """chromedriver's port: $ROBOTS_CHROMEDRIVER_PORT (where a firewall allows only one), else 0 (a free one)."""
    given = os.environ.get("ROBOTS_CHROMEDRIVER_PORT", "").strip()
    if not given:
        return 0
    if not given.isdigit() or not 0 < int(given) < 65536:
        raise BrowserError(f"ROBOTS_CHROMEDRIVER_PORT must be a port number, got {given!r}")
    import socket

    with socket.socket() as probe:
        try:
            probe.bind(("127.0.0.1", int(given)))
        except OSError:
            raise BrowserError(f"chromedriver's port {given} (ROBOTS_CHROMEDRIVER_PORT) is in use: stop what "
                               "listens there, or unset ROBOTS_CHROMEDRIVER_PORT to let chromedriver take a free "
                               "port") from None
    return int(given)


#: chromedriver logs warnings and errors only (never the commands, which carry typed secrets)
DRIVER_LOG_ARGS = ("--log-level=WARNING",)


def log_tail(path: str, lines: int = 2) -> str:
    """The last lines of a driver's log, on one line ('' when there is none)."""
    try:
        text = Path(path).read_text(errors="replace")
    except OSError:
        return ""
    return " / ".join([ln.strip() for ln in text.splitlines() if ln.strip()][-lines:])


def start_error(e: BaseException, chrome: str, driver_bin: str, driver_log: str = "") -> BrowserError:
    """Selenium's start-up failure as one error that says what to install or set."""
    text = getattr(e, "msg", None) or str(e)
    m = _MISMATCH.search(text)
    if m:
        return BrowserError(f"chromedriver ({driver_bin}) is for Chrome {m.group(1)} but Chrome ({chrome}) is "
                            f"{m.group(2)}: install matching versions (Debian: apt-get install chromium "
                            f"chromium-driver) or set ROBOTS_CHROMEDRIVER to a chromedriver for Chrome {m.group(2)}")
    said = f" (it said: {driver_log})" if driver_log else ""
    if "unexpectedly exited" in text:
        return BrowserError(f"chromedriver ({driver_bin}) exited as it started{said}; install Debian's "
                            "'chromium-driver' package or set ROBOTS_CHROMEDRIVER to a working chromedriver")
    if "Chrome instance exited" in text or "cannot find Chrome binary" in text:
        return BrowserError(f"Chrome ({chrome}) did not start: check that `{chrome} --version` runs; install "
                            "Debian's 'chromium' package or set ROBOTS_CHROME_BINARY to a working Chrome")
    return BrowserError(f"Chrome could not be started ({chrome} with {driver_bin}): {_first_line(e)}")


# Finds the first visible (or present/clickable) element of the first matching group of candidates.
# Element lookup in the page: groups of [candidates, scope candidates or null]; the scope is the first element
# of the first scope candidate that matches (an XPath starting with / is made relative to it).
_LOOKUP_JS = """
function all(kind, value, root) {
  if (kind === 'xpath') {
    const expr = root && value.startsWith('/') ? '.' + value : value;
    const r = document.evaluate(expr, root || document, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
    const out = []; for (let i = 0; i < r.snapshotLength; i++) out.push(r.snapshotItem(i)); return out;
  }
  return Array.from((root || document).querySelectorAll(value));
}
function rootOf(scope) {
  if (!scope) return document;
  for (const [kind, value] of scope) { const els = all(kind, value, null); if (els.length) return els[0]; }
  return null;
}
"""

_FIND_JS = _LOOKUP_JS + """
const groups = arguments[0], state = arguments[1];
function ok(el) {
  if (state === 'present') return true;
  if (!el.getClientRects().length) return false;
  const st = getComputedStyle(el);
  if (st.visibility === 'hidden' || st.display === 'none' || st.opacity === '0') return false;
  return state !== 'clickable' || !el.disabled;
}
for (let g = 0; g < groups.length; g++) {
  const [cands, scope] = groups[g], root = rootOf(scope);
  if (!root) continue;
  for (let c = 0; c < cands.length; c++) {
    for (const el of all(cands[c][0], cands[c][1], root === document ? null : root)) {
      if (ok(el)) return [g, c, el];
    }
  }
}
return null;
"""

_ALL_JS = _LOOKUP_JS + """
const [cands, scope] = arguments[0], root = rootOf(scope);
if (!root) return [];
for (const [kind, value] of cands) {
  const els = all(kind, value, root === document ? null : root);
  if (els.length) return els.map(e => e.outerHTML);
}
return [];
"""

_COUNT_JS = _LOOKUP_JS + """
const [cands, scope] = arguments[0], root = rootOf(scope);
if (!root) return 0;
for (const [kind, value] of cands) {
  const n = all(kind, value, root === document ? null : root).length;
  if (n) return n;
}
return 0;
"""

_LINK_JS = _FIND_JS.replace("const groups = arguments[0], state = arguments[1];",
                            "const groups = arguments[0], state = 'visible';").replace(
    "if (ok(el)) return [g, c, el];",
    "if (ok(el)) { const a = el.closest('a');"
    " return {index: c, href: a ? a.href : null,"
    " plain: !!(a && a.href && /^https?:/.test(a.href) && !a.getAttribute('onclick') && !a.target)}; }")


# Counts the page's pending fetch/XHR requests and remembers the completed URLs, in every document (added
# through CDP before any page script runs), for wait_for network_idle and wait_xhr.
_FETCH_JS = """
const [url, ms, done] = arguments;
const ctl = new AbortController();
const timer = setTimeout(() => ctl.abort(), ms);
fetch(url, {credentials: 'same-origin', signal: ctl.signal, headers: {'Accept': 'text/html'}})
  .then(r => r.text().then(text => done({status: r.status, url: r.url, text})))
  .catch(e => done(e.name === 'AbortError' ? {timeout: true} : {error: String(e)}))
  .finally(() => clearTimeout(timer));
"""

# Pages fetched one after another inside the signed-in page: each page's next link is found in its source (parsed,
# never rendered) by the first candidate that matches, as robots.scrape.page.find does on the Python side.
_FETCH_PAGES_JS = """
const [url, cands, limit, more, ms, done] = arguments;
function nextOf(doc, base) {
  for (const [kind, value] of cands) {
    let el = null;
    if (kind === 'xpath') {
      const r = doc.evaluate(value, doc, null, XPathResult.ORDERED_NODE_SNAPSHOT_TYPE, null);
      for (let i = 0; i < r.snapshotLength && !el; i++) if (r.snapshotItem(i).nodeType === 1) el = r.snapshotItem(i);
    } else {
      el = doc.querySelector(value);
    }
    if (el) {
      const a = el.closest('a'), href = a && a.getAttribute('href');
      return href ? new URL(href, base).href : null;
    }
  }
  return null;
}
// Pages fetched before the walk asked for them, by URL (their promises), kept in the page until asked for.
const ahead = window.__robotsAhead || (window.__robotsAhead = new Map());
function load(u) {
  const ctl = new AbortController(), timer = setTimeout(() => ctl.abort(), ms);
  return fetch(u, {credentials: 'same-origin', signal: ctl.signal, headers: {'Accept': 'text/html'}})
    .then(r => r.text().then(text => ({asked: u, status: r.status, url: r.url, text,
      next: r.status < 400 ? nextOf(new DOMParser().parseFromString(text, 'text/html'), r.url) : null})))
    .catch(e => ({asked: u, failed: e.name === 'AbortError' ? 'timeout' : String(e)}))
    .finally(() => clearTimeout(timer));
}
function take(u) { const p = ahead.get(u) || load(u); ahead.delete(u); return p; }
(async () => {
  const pages = [];
  let next = url;
  while (next && pages.length < limit) {
    const p = await take(next);
    if (p.failed) {
      if (pages.length) done({pages, next: null, stopped: p.failed});
      else done(p.failed === 'timeout' ? {timeout: true} : {error: p.failed});
      return;
    }
    pages.push(p);
    next = p.next;
  }
  done({pages, next});
  // Read on while the walk reads these: up to `more` pages after them (each fetched once: the next call takes it).
  for (let u = next, k = 0; u && k < more && !ahead.has(u); k++) {
    const p = load(u);
    ahead.set(u, p);
    const got = await p;
    u = got.failed || got.status >= 400 ? null : got.next;
  }
})();
"""

_NET_HOOK = """
(() => {
  if (window.__robots) return;
  const r = window.__robots = {pending: 0, done: [], last: Date.now()};
  const settle = (url) => { r.pending = Math.max(0, r.pending - 1); r.done.push(String(url)); r.last = Date.now();
                            if (r.done.length > 500) r.done.shift(); };
  const origFetch = window.fetch;
  if (origFetch) window.fetch = function(input, init) {
    const url = (input && input.url) || String(input); r.pending++; r.last = Date.now();
    return origFetch.apply(this, arguments).then(res => { settle(res.url || url); return res; },
                                                 err => { settle(url); throw err; });
  };
  const open = XMLHttpRequest.prototype.open, send = XMLHttpRequest.prototype.send;
  XMLHttpRequest.prototype.open = function(m, url) { this.__robotsUrl = url; return open.apply(this, arguments); };
  XMLHttpRequest.prototype.send = function() {
    r.pending++; r.last = Date.now();
    this.addEventListener('loadend', () => settle(this.responseURL || this.__robotsUrl));
    return send.apply(this, arguments);
  };
})();
"""


def _first_line(e: BaseException) -> str:
    msg = getattr(e, "msg", None) or str(e) or type(e).__name__
    return msg.strip().splitlines()[0] if msg.strip() else type(e).__name__
