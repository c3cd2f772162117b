"""The portal HTTP client: plain requests (no browser, nothing rendered) that carry a portal session, for pages
that need no JavaScript. Every place that speaks HTTP with the portal's session cookies uses it: the http_get
and download steps and the hybrid pagination walk (the signed-in browser's cookies and user agent,
`from_browser`), and the session probe and refresh (robots.auth.sessions) and the API's warm reads (a stored
session's cookies, sent as they were saved, `from_stored`)."""

from __future__ import annotations

from types import TracebackType
from typing import TYPE_CHECKING, Any

import httpx

from robots.errors import PortalUnreachable, StepTimeout, TechnicalError
from robots.throttle import retry_after

if TYPE_CHECKING:
    from robots.browser.page import Browser


class Throttled(Exception):
    """The portal answered 429 Too many requests; `asked`: the seconds it asked to wait (its Retry-After header
    over HTTP; its page's words when the browser fetched the page, which reads no headers)."""

    def __init__(self, asked: float | None) -> None:
        super().__init__(asked)
        self.asked = asked


def cookie_header(cookies: list[dict[str, Any]]) -> str:
    """A stored session's cookies as one Cookie header (sent whatever their domain and path)."""
    return "; ".join(f"{c['name']}={c['value']}" for c in cookies)


class PortalHttp:
    """An httpx client (keep-alive; close it, or use it as a context manager) carrying a portal session: the
    browser's cookies in a jar (sent where their domain and path say) with its user agent, or a stored session's
    cookies as a Cookie header, given once or per request."""

    def __init__(self, *, timeout: float, follow_redirects: bool, jar: httpx.Cookies | None = None,
                 user_agent: str | None = None, stored: list[dict[str, Any]] | None = None) -> None:
        self.timeout = timeout
        self._stored = stored
        headers = {"User-Agent": user_agent} if user_agent is not None else None
        self._client = httpx.Client(cookies=jar, headers=headers, timeout=timeout, follow_redirects=follow_redirects)

    @classmethod
    def from_browser(cls, browser: Browser, timeout: float) -> PortalHttp:
        """The signed-in browser's session: its cookies and user agent, redirects followed like the browser's."""
        jar = httpx.Cookies()
        for c in browser.cookies():
            jar.set(c["name"], c["value"], domain=c.get("domain", ""), path=c.get("path", "/"))
        return cls(timeout=timeout, follow_redirects=True, jar=jar, user_agent=browser.user_agent())

    @classmethod
    def from_stored(cls, cookies: list[dict[str, Any]] | None = None, *, timeout: float) -> PortalHttp:
        """A stored session (robots.auth.sessions): its cookies (or each request's own), redirects not followed,
        so that a redirect to the sign-in page shows."""
        return cls(timeout=timeout, follow_redirects=False, stored=cookies)

    def request(self, method: str, url: str, *, cookies: list[dict[str, Any]] | None = None) -> httpx.Response:
        """One request as it comes (httpx's errors raised); `cookies`: this request's stored session."""
        stored = cookies if cookies is not None else self._stored
        headers = {"Cookie": cookie_header(stored)} if stored is not None else None
        return self._client.request(method, url, headers=headers)

    def get(self, url: str, *, cookies: list[dict[str, Any]] | None = None) -> httpx.Response:
        return self.request("GET", url, cookies=cookies)

    def post(self, url: str, *, cookies: list[dict[str, Any]] | None = None) -> httpx.Response:
        return self.request("POST", url, cookies=cookies)

    def read(self, url: str, *, throttle: bool = False) -> httpx.Response:
        """GET a page a step needs: no answer in time, no answer at all or an error status are robots errors
        naming the URL; with `throttle`, the portal's 429 is Throttled (with the wait it asked for)."""
        try:
            response = self.get(url)
        except httpx.TimeoutException:
            raise StepTimeout(f"GET {url} took longer than {self.timeout:g} s") from None
        except httpx.HTTPError as e:
            raise PortalUnreachable(f"GET {url} failed: {type(e).__name__}") from None
        if throttle and response.status_code == 429:
            raise Throttled(retry_after(response.headers.get("Retry-After")))
        if response.status_code >= 400:
            raise TechnicalError(f"GET {url} answered {response.status_code}")
        return response

    def close(self) -> None:
        self._client.close()

    def __enter__(self) -> PortalHttp:
        return self

    def __exit__(self, kind: type[BaseException] | None, error: BaseException | None,
                 trace: TracebackType | None) -> None:
        self.close()
