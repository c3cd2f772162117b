"""Evidence for a failed step: a screenshot with secrets blanked, the console, the network requests (Chrome's
performance log, kept bounded) and the page source. All best effort: the step's own error is what matters."""

from __future__ import annotations

import base64
import json
import logging
from typing import Any

from robots.browser.diagnosis import first_line
from robots.browser.page.base import PageBase

log = logging.getLogger("robots.browser")


class Evidence(PageBase):
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
            log.warning("could not take a screenshot: %s", first_line(e))
            return None

    def console_log(self) -> list[dict[str, Any]]:
        """The browser console's messages since the last call (level, message, timestamp)."""
        try:
            return [{"level": e.get("level"), "message": e.get("message"), "timestamp": e.get("timestamp")}
                    for e in self._log("browser")]
        except Exception as e:  # noqa: BLE001 - evidence is best effort
            log.warning("could not read the console log: %s", first_line(e))
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
            log.debug("could not read the performance log: %s", first_line(e))
            return
        pending: dict[str, dict[str, Any]] = {r["id"]: r for r in self._network if "id" in r}
        for entry in entries:
            try:
                msg = json.loads(entry["message"])["message"]
            except (KeyError, ValueError):
                continue
            method, params = msg.get("method"), msg.get("params", {})
            self._track_request(str(method), params, float(entry.get("timestamp") or 0))
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

    def request_method(self, url: str) -> str | None:
        """The method of the last document request for `url` in the network log (a form's POST, a link's GET)."""
        self.drain_network()
        wanted = url.split("#", 1)[0]
        for rec in reversed(self._network):
            if rec.get("type") == "Document" and str(rec.get("url", "")).split("#", 1)[0] == wanted:
                return str(rec.get("method") or "") or None
        return None

    def _log(self, kind: str) -> list[dict[str, Any]]:
        # The W3C command behind ChromiumDriver.get_log, which a Remote driver lacks (a Grid forwards it).
        return self.driver.execute("getLog", {"type": kind})["value"]

    def page_source(self) -> str | None:
        try:
            return self.driver.page_source
        except Exception as e:  # noqa: BLE001 - evidence is best effort
            log.warning("could not read the page source: %s", first_line(e))
            return None
