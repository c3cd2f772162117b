"""Reading the page: elements' HTML, text and attributes, and counting matches. A read after a step that may have
changed the page waits until the page has settled (robots.browser.page.base: `settle`)."""

from __future__ import annotations

from robots.browser.page.base import PageBase
from robots.browser.scripts import ALL_JS, COUNT_JS
from robots.locators import Selector


class Reading(PageBase):
    def outer_html(self, selector: Selector, timeout: float) -> str:
        html = self.settle(selector, timeout, read=True)  # read in the same look when the page has settled
        if html is None:
            el = self.find(selector, timeout, "present")
            html = self._guard(lambda: el.get_attribute("outerHTML"), f"reading '{selector.name}'")
        self._saw(selector, html)
        return html

    def outer_html_all(self, selector: Selector, timeout: float) -> list[str]:
        """The outer HTML of every element matching the first candidate that matches (one round trip),
        after waiting for one to be present."""
        self.settle(selector, timeout)
        self.find(selector, timeout, "present")
        html = self.script(ALL_JS, selector.spec())
        self._saw(selector, html)
        return html

    def text(self, selector: Selector | None, timeout: float) -> str:
        self.settle(selector, timeout)
        if selector is None:
            return self._guard(lambda: self.driver.find_element("tag name", "body").text, "reading the page")
        el = self.find(selector, timeout, "visible")
        return self._guard(lambda: el.text, f"reading '{selector.name}'")

    def attribute(self, selector: Selector, name: str, timeout: float) -> str | None:
        self.settle(selector, timeout)
        el = self.find(selector, timeout, "present")
        return self._guard(lambda: el.get_attribute(name), f"reading {name} of '{selector.name}'")

    def count(self, selector: Selector, timeout: float = 15.0) -> int:
        """How many elements match the first candidate that matches any (no waiting for one; after an action, for
        the page to settle, `timeout` seconds at most)."""
        self.settle(selector, timeout)

        def do() -> int:
            self._enter_frame(selector.frame)
            return int(self.driver.execute_script(COUNT_JS, selector.spec()))
        return self._guard(do, f"counting '{selector.name}'")
