"""robots.browser.http.PortalHttp, the one client for HTTP with a portal session, against a real HTTP server on
127.0.0.1: what it sends (a stored session as one Cookie header, the browser's user agent) and the errors a step
sees."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import pytest

from robots.auth.sessions import probe, refresh
from robots.browser.http import PortalHttp, Throttled
from robots.errors import PortalUnreachable, TechnicalError

SEEN: list[dict[str, str]] = []


class _Portal(BaseHTTPRequestHandler):
    def do_GET(self) -> None:  # noqa: N802 - http.server's name
        SEEN.append(dict(self.headers))
        if self.path == "/busy":
            self.send_response(429)
            self.send_header("Retry-After", "7")
        elif self.path == "/gone":
            self.send_response(404)
        elif self.path == "/probe":
            self.send_response(302)
            self.send_header("Location", "/login?next=/probe")
        else:
            self.send_response(200)
        self.send_header("Content-Length", "2")
        self.end_headers()
        self.wfile.write(b"ok")

    def do_POST(self) -> None:  # noqa: N802
        SEEN.append(dict(self.headers))
        self.send_response(204)
        self.send_header("Set-Cookie", "sid=rotated; Path=/")
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def portal() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Portal)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    SEEN.clear()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


COOKIES = [{"name": "sid", "value": "abc", "domain": "127.0.0.1", "path": "/"}, {"name": "t", "value": "1"}]


def test_a_stored_session_is_sent_as_one_cookie_header_given_once_or_per_request(portal: str) -> None:
    with PortalHttp.from_stored(COOKIES, timeout=5) as http:
        assert http.get(portal + "/").status_code == 200
        http.get(portal + "/", cookies=[{"name": "other", "value": "x"}])
    assert [seen["Cookie"] for seen in SEEN] == ["sid=abc; t=1", "other=x"]


def test_a_stored_session_does_not_follow_the_redirect_to_sign_in(portal: str) -> None:
    assert probe(portal, "/probe", "/login", COOKIES, timeout=5) is False
    assert probe(portal, "/", "/login", COOKIES, timeout=5) is True
    assert refresh(portal, "/refresh", COOKIES, timeout=5) == [{**COOKIES[0], "value": "rotated"}, COOKIES[1]]


def test_a_browser_session_sends_its_cookies_and_user_agent(portal: str) -> None:
    class FakeBrowser:  # the two things PortalHttp asks a Browser for
        def cookies(self) -> list[dict[str, str]]:
            return [{"name": "sid", "value": "abc", "path": "/"}]

        def user_agent(self) -> str:
            return "Chrome/1 (test)"

    with PortalHttp.from_browser(FakeBrowser(), 5) as http:  # type: ignore[arg-type]
        assert http.read(portal + "/").text == "ok"
    assert (SEEN[0]["Cookie"], SEEN[0]["User-Agent"]) == ("sid=abc", "Chrome/1 (test)")


def test_read_says_which_url_failed_and_how(portal: str) -> None:
    with PortalHttp.from_stored([], timeout=5) as http:
        with pytest.raises(TechnicalError, match=r"^GET .*/gone answered 404$"):
            http.read(portal + "/gone")
        with pytest.raises(TechnicalError, match=r"^GET .*/busy answered 429$"):
            http.read(portal + "/busy")
        with pytest.raises(Throttled) as throttled:
            http.read(portal + "/busy", throttle=True)
        assert throttled.value.asked == 7
        with pytest.raises(PortalUnreachable, match=r"^GET http://127.0.0.1:9/ failed: ConnectError$"):
            http.read("http://127.0.0.1:9/")
