"""Diagnosis: what Selenium, chromedriver and the page say, as robots errors that name what failed and what to
do (docs/STYLE.md rule 5: callers never see a Selenium exception). The page facade (robots.browser.page) and the
launchers (robots.browser.launch and the kinds) raise what these functions build."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from robots.errors import (
    BrowserError,
    ElementNotFound,
    Interrupted,
    PortalFailed,
    PortalUnreachable,
    RobotsError,
    StepTimeout,
)
from robots.locators import Selector

#: the document's own URL and the ERR_ code Chrome's error page shows (Chrome keeps the requested URL as
#: current_url on its own error page; the document knows better)
ERROR_PAGE_JS = ("const m = document.body && document.body.innerText.match(/\\b(ERR_[A-Z_]+)\\b/);"
                 "return [document.URL, m ? m[1] : null];")

#: the current document's HTTP status and URL when the portal answered it with an error (4xx/5xx), once the
#: document is parsed (its own elements are looked for first); null otherwise. The Navigation Timing entry holds the
#: main document's status (Chrome 109 and later); a document without one (about:blank, a page of Chrome) is no error.
FAILED_DOCUMENT_JS = ("const n = performance.getEntriesByType('navigation')[0];"
                      "return n && n.responseStatus >= 400 && document.readyState !== 'loading'"
                      " ? [n.responseStatus, document.URL] : null;")

_MISMATCH = re.compile(r"only supports Chrome version (\d+).*?Current browser version is (\d+)", re.S)


def first_line(e: BaseException) -> str:
    msg = getattr(e, "msg", None) or str(e) or type(e).__name__
    return msg.strip().splitlines()[0] if msg.strip() else type(e).__name__


def guarded(fn: Callable[[], Any], what: str) -> Any:
    """`fn()` with Selenium's errors translated: a selector the browser refuses, or a browser that failed while
    doing `what`."""
    from selenium.common.exceptions import InvalidSelectorException, WebDriverException

    try:
        return fn()
    except InvalidSelectorException as e:
        raise ElementNotFound(f"invalid selector for {what}: {first_line(e)}") from None
    except WebDriverException as e:
        raise BrowserError(f"the browser failed while {what}: {first_line(e)}") from None


def open_failure(url: str, e: BaseException) -> RobotsError:
    """Why opening `url` failed: it did not load in time, the network said no (net::ERR_...), or the browser."""
    from selenium.common.exceptions import TimeoutException

    if isinstance(e, TimeoutException):
        return StepTimeout(f"the page {url} did not load in time")
    net = re.search(r"net::(ERR_[A-Z_]+)", str(e))
    if net:
        return PortalUnreachable(f"could not reach {url}: {net.group(1)}")
    return BrowserError(f"could not open {url}: {first_line(e)}")


def check_error_page(url: str, doc_url: str, code: str | None) -> None:
    """Raise when the browser shows its own error page (what ERROR_PAGE_JS read) instead of `url`."""
    if doc_url.startswith("chrome-error://"):
        raise PortalUnreachable(f"could not reach {url}: {code or 'the browser showed its error page'}")


def portal_failed(status: int, url: str, method: str | None, waiting_for: str) -> PortalFailed:
    """The portal answered the page a wait is on with an HTTP error: say so, with the request (path and query: the
    run's masker hides the secrets a URL may hold when the error is recorded or printed)."""
    from urllib.parse import urlsplit

    parts = urlsplit(url)
    target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
    request = f"{method} {target}" if method else target
    return PortalFailed(f"the portal answered HTTP {status} on {request} (while waiting for {waiting_for})")


def not_found(selector: Selector, state: str, timeout: float, url: str) -> ElementNotFound:
    """Why a wait for `selector` failed: every candidate tried, and the page it was looked for on."""
    tried = ", ".join(str(c) for c in selector.candidates)
    return ElementNotFound(f"no {state} element matched '{selector.name}' within {timeout:g} s "
                           f"(tried {tried}) on {url}")


def reraise_interrupt(e: BaseException) -> None:
    """A SIGINT/SIGTERM that arrived while Selenium waited on chromedriver surfaces wrapped in a
    WebDriverException (urllib3 caught it mid-read): raise the interrupt itself, not a browser error."""
    seen: set[int] = set()
    cause: BaseException | None = e
    while cause is not None and id(cause) not in seen:
        if isinstance(cause, Interrupted):
            raise cause
        seen.add(id(cause))
        cause = cause.__cause__ or cause.__context__


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
    return BrowserError(f"Chrome could not be started ({chrome} with {driver_bin}): {first_line(e)}")
