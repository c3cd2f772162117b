"""The portal session as the browser holds it: cookies and local storage, read to be kept and put back before
the portal's pages open (robots.auth.sessions stores them)."""

from __future__ import annotations

import functools
import json
from typing import Any

from robots.browser.page.navigation import Navigation


class SessionState(Navigation):
    def cookies(self) -> list[dict[str, Any]]:
        return self._guard(self.driver.get_cookies, "reading cookies")

    def user_agent(self) -> str:
        """The browser's User-Agent header (what plain HTTP with its cookies sends too)."""
        return self.script("return navigator.userAgent;")

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
