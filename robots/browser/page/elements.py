"""Element actions: waiting for elements to come or go, links, clicking, ticking, hovering, uploads; typing, keys,
scripts and storage come from inputs.py, choosing from choosing.py."""

from __future__ import annotations

import time
from typing import Any

from robots.browser.diagnosis import first_line
from robots.browser.page.base import poll
from robots.browser.page.choosing import Choosing
from robots.browser.scripts import LINK_JS
from robots.errors import BrowserError, ElementNotFound, StepTimeout
from robots.locators import Selector


class Elements(Choosing):
    # ----- waiting
    def wait_gone(self, selector: Selector, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        while self._guard(lambda: self._match(selector, "visible"), f"waiting for '{selector.name}' to go"):
            if not poll(deadline):
                raise StepTimeout(f"'{selector.name}' was still visible after {timeout:g} s on {self.url}")

    def exists(self, selector: Selector) -> bool:
        return self.link(selector) is not None

    def link(self, selector: Selector) -> dict[str, Any] | None:
        """One round trip: None when no element of `selector` is visible, else {"href": ..., "plain": bool},
        where plain means a link that a navigation to href follows exactly (no script handler, same window)."""
        def look() -> Any:
            self._enter_frame(selector.frame)
            return self.driver.execute_script(LINK_JS, [selector.spec()])

        hit = self._guard(look, f"looking for '{selector.name}'")
        if hit:
            self._matched(selector, hit["index"])
        return hit

    def first_of(self, selectors: list[Selector], timeout: float, state: str = "visible") -> int:
        """Wait until an element of any of `selectors` is in `state` (one round trip per poll); the index of
        the first selector, in the order given, that has one."""
        deadline = time.monotonic() + timeout
        while True:
            hit = self._guard(lambda: self._match_any(selectors, state), "waiting for the page")
            if hit is not None:
                self._matched(selectors[hit[0]], hit[1])
                return int(hit[0])
            names = ", ".join(f"'{s.name}'" for s in selectors)
            self.check_page(names if len(selectors) == 1 else f"one of {names}")
            if not poll(deadline):
                raise ElementNotFound(f"none of {names} appeared within {timeout:g} s on {self.url}")

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
                self.changed()
                return
            except BrowserError as e:
                cause = e.__context__
                if not isinstance(cause, ElementClickInterceptedException | StaleElementReferenceException):
                    raise
                if not poll(deadline, 0.2):
                    raise BrowserError(f"'{selector.name}' could not be clicked: another element covers it "
                                       f"({first_line(cause)})") from None

    def set_checked(self, selector: Selector, timeout: float, checked: bool) -> None:
        def do(el: Any) -> None:
            if el.is_selected() != checked:
                el.click()
        self.act(selector, timeout, "checking", do)

    def hover(self, selector: Selector, timeout: float) -> None:
        from selenium.webdriver.common.action_chains import ActionChains

        self.act(selector, timeout, "hovering over", lambda el: ActionChains(self.driver).move_to_element(el).perform())

    def scroll_into_view(self, selector: Selector, timeout: float) -> None:
        self.act(selector, timeout, "scrolling to",
                 lambda el: self.driver.execute_script("arguments[0].scrollIntoView({block: 'center'});", el),
                 state="present")

    def upload(self, selector: Selector, path: str, timeout: float) -> None:
        self.act(selector, timeout, "uploading into", lambda el: el.send_keys(path), state="present")
