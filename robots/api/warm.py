"""Warm reads: one page of the customer list straight over HTTP with the portal session the API keeps (the
session store's cookies), read with the list flow's own extract step - no browser, no run. When there is no
stored session, the portal sends the request to sign in, or the page size is not one the portal offers, the
caller runs the flow instead (which signs in again and stores the new session)."""

from __future__ import annotations

import logging
import math
import re
from typing import Any
from urllib.parse import urlencode

import httpx

from robots.api.tokens import Principal
from robots.browser.http import PortalHttp

log = logging.getLogger("robots.api")

PORTAL_PAGE_SIZES = (25, 50, 100)
_TOTAL = re.compile(r"of\s+([\d,]+)")


class WarmReads:
    def __init__(self, flows: Any) -> None:
        self.flows = flows
        self._http = PortalHttp.from_stored(timeout=15.0)  # each read sends its principal's session
        self._list_flow: Any = None

    def close(self) -> None:
        self._http.close()

    def customers_page(self, principal: Principal, filters: dict[str, str], offset: int,
                       page_size: int) -> dict[str, Any] | None:
        """The pagination envelope of one page, or None when this read needs the flow."""
        from robots.scrape.page import find
        from robots.sera.library import scrape

        if page_size not in PORTAL_PAGE_SIZES or offset % page_size or not principal.session_id:
            return None
        self.flows._check_paused()
        row = self.flows.tokens.session(principal.session_id)
        sessions = self.flows._runner().sessions
        if row is None or row.ended_at is not None or sessions is None:
            return None
        saved = sessions.load(sessions.key("sera", row.portal_url, row.username))
        if saved is None:
            return None
        if self._list_flow is None:
            self._list_flow = self.flows.load("sera/list_customers", library=True)
        page = offset // page_size + 1
        query = {"page": page, "page_size": page_size, "q": filters.get("q", ""), "type": filters.get("type", ""),
                 "status": filters.get("status", ""), "tag": filters.get("tag", ""),
                 "modified_since": filters.get("modified_on_or_after", ""), "sort": filters.get("sort", "")}
        url = f"{row.portal_url}/customers?{urlencode(query)}"
        try:
            response = self._http.get(url, cookies=saved.cookies)
        except httpx.HTTPError as e:
            log.info("warm read of %s failed (%s); running the flow", url, type(e).__name__)
            return None
        if response.status_code != 200:
            return None  # e.g. sent to sign in: the flow signs in again
        try:
            read = scrape(self._list_flow, response.text, url, ids=("rows",))
            hit = find(read.doc, self._list_flow.catalog.resolve("customers.summary"))
        except Exception as e:  # noqa: BLE001 - a page that does not read is the flow's job (it records evidence)
            log.info("warm read of %s did not scrape (%s); running the flow", url, e)
            return None
        total_match = _TOTAL.search(" ".join(hit[0][0].itertext())) if hit else None
        if total_match is None:
            return None
        total = int(total_match.group(1).replace(",", ""))
        # The portal shows page 1 for a page past the end: past the end is empty here.
        items = (read.outputs.get("rows") or []) if offset < total else []
        more = offset + page_size < total
        return {"items": items, "page": page, "page_size": page_size, "total_count": total, "has_more": more,
                "next_page": page + 1 if more else None, "pages": max(1, math.ceil(total / page_size))}
