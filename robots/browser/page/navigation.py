"""Navigation: opening pages (the browser's own error page diagnosed), going back, waiting for the next page,
and frames and windows."""

from __future__ import annotations

import time
from typing import Any

from robots.browser.diagnosis import ERROR_PAGE_JS, check_error_page, first_line, open_failure
from robots.browser.page.base import PageBase, poll
from robots.errors import BrowserError, StepTimeout
from robots.locators import Selector

#: how long the page must stay settled and unchanged after a click on "next" before the walk takes it for the last
#: page. Longer than a read's quiet window (QUIET_S): an app may start the next page's request a while after the
#: click (a busy machine, a debounce), and ending the walk then would return a list cut short, with no error.
LAST_PAGE_QUIET_S = 1.0


class Navigation(PageBase):
    def open(self, url: str) -> None:
        from selenium.common.exceptions import WebDriverException

        self.changed(navigated=True)
        try:
            self.driver.get(url)
        except WebDriverException as e:
            raise open_failure(url, e) from None
        doc_url, code = self._guard(lambda: self.driver.execute_script(ERROR_PAGE_JS), f"opening {url}")
        check_error_page(url, doc_url, code)

    def back(self) -> None:
        self.changed(navigated=True)
        self._guard(self.driver.back, "going back")

    def refresh(self) -> None:
        self.changed(navigated=True)
        self._guard(self.driver.refresh, "reloading the page")

    def title(self) -> str:
        return self._guard(lambda: self.driver.title, "reading the title")

    def page_marker(self) -> Any:
        """A handle on the current document; `wait_next_page` sees a navigation replace it."""
        return self._guard(lambda: self.driver.find_element("tag name", "html"), "reading the page")

    def wait_next_page(self, marker: Any, region: Selector | None, before: str | None,
                       timeout: float) -> str | None:
        """After a click on a "next page" control: wait until a navigation replaced the document (`marker`), or
        `region` (None: the document) shows something else than `before` (its fingerprint). Returns the new
        fingerprint ("" after a navigation); None when the page stayed settled and unchanged for LAST_PAGE_QUIET_S
        (the control did nothing: the last page)."""
        from selenium.common.exceptions import StaleElementReferenceException

        deadline = time.monotonic() + timeout
        while True:
            try:
                marker.is_enabled()
            except StaleElementReferenceException:
                return ""
            except Exception as e:  # noqa: BLE001 - translated below
                raise BrowserError(f"the browser failed while waiting for the next page: {first_line(e)}") from None
            now = self.fingerprint(region) if region is not None else None
            if region is not None and now != before:
                return now or ""
            quiet, busy, _ = self._quiet_for(region)
            if not busy and quiet >= LAST_PAGE_QUIET_S:
                self._unsettled = None
                return None
            if not poll(deadline):
                shown = f"'{region.name}' still shows what it showed" if region is not None else "no new page"
                raise StepTimeout(f"the next page did not show within {timeout:g} s: {shown} before the click "
                                  f"({self._unsettled_why(region, busy, timeout).split(': ', 1)[1]})")

    # ----- frames and windows
    def switch_frame(self, selector: Selector | None, timeout: float) -> None:
        """Into the frame element `selector`, or back to the top document when None."""
        if selector is None:
            self._guard(self.driver.switch_to.default_content, "leaving the frame")
            return
        self.act(selector, timeout, "entering the frame", self.driver.switch_to.frame, state="visible")
        self._in_frame = False  # entered on purpose: stays until the flow leaves it

    def windows(self) -> list[str]:
        return self._guard(lambda: list(self.driver.window_handles), "listing windows")

    def switch_window(self, handle: str) -> None:
        self._guard(lambda: self.driver.switch_to.window(handle), "switching windows")

    def current_window(self) -> str:
        return self._guard(lambda: self.driver.current_window_handle, "reading the window")

    def close_window(self) -> None:
        self._guard(self.driver.close, "closing the window")

    def set_window_size(self, width: int, height: int) -> None:
        self._guard(lambda: self.driver.set_window_size(width, height), "setting the window size")
