"""The server itself: errors as HTML pages, control endpoints, reset, request log, start and stop."""

from __future__ import annotations

import signal
import sqlite3
import time

import httpx
import pytest

from robots.packs.sera.sandbox import SandboxServer, credentials, serve_forever

from .helpers import FIXED_NOW, advance_clock, login, sandbox_now, soup, submit_password, text_of


def test_an_unknown_page_is_an_html_404(portal: httpx.Client) -> None:
    page = portal.get("/no/such/page")
    assert page.status_code == 404
    assert page.headers["content-type"].startswith("text/html")
    assert text_of(page, "error-title") == "Page not found"


def test_an_unexpected_error_is_an_html_500_without_a_traceback(
    portal: httpx.Client, caplog: pytest.LogCaptureFixture
) -> None:
    page = portal.get("/_sandbox/error")
    assert page.status_code == 500
    assert page.headers["content-type"].startswith("text/html")
    assert text_of(page, "error-title") == "Something went wrong"
    assert "Traceback" not in page.text and "RuntimeError" not in page.text
    reference = text_of(page, "error-reference")
    assert reference and any(reference in r.getMessage() for r in caplog.records)


def test_a_wrong_method_is_an_html_page(portal: httpx.Client) -> None:
    page = portal.delete("/login")
    assert page.status_code == 405 and page.headers["content-type"].startswith("text/html")


def test_the_clock_can_be_set_advanced_and_reset(portal: httpx.Client) -> None:
    assert sandbox_now(portal).isoformat().startswith(FIXED_NOW[:16])
    assert advance_clock(portal, 3600).isoformat().startswith("2026-03-02T16:00")
    now = portal.post("/_sandbox/clock", json={"reset": True}).json()["now"]
    assert abs(time.time() - sandbox_now(portal).timestamp()) < 60, now
    bad = portal.post("/_sandbox/clock", json={"set": "yesterday"})
    assert bad.status_code == 400 and "error" in bad.json()


def test_reset_restores_data_and_forgets_sessions_and_the_clock(sandbox: SandboxServer, portal: httpx.Client) -> None:
    login(portal)
    assert sandbox.db_path is not None
    with sqlite3.connect(sandbox.db_path) as db:
        db.execute("DELETE FROM customers WHERE id > 1010")
    assert portal.get("/_sandbox/stats").json() == {"customers": 10, "seed": 1234, "size": "small"}
    result = portal.post("/_sandbox/reset").json()
    assert result == {"ok": True, "customers": 120}
    assert portal.get("/_sandbox/stats").json()["customers"] == 120
    assert abs(time.time() - sandbox_now(portal).timestamp()) < 60
    assert portal.get("/customers").headers["location"] == "/login?expired=1&next=/customers"


def test_the_request_log_records_requests_but_no_secrets(portal: httpx.Client) -> None:
    submit_password(portal)
    log = portal.get("/_sandbox/requests").json()
    assert {"method": "POST", "path": "/login", "status": 303} in [
        {k: e[k] for k in ("method", "path", "status")} for e in log
    ]
    assert all({"method", "path", "status", "at"} <= set(entry) for entry in log)
    dumped = str(log)
    assert credentials()["password"] not in dumped and portal.cookies["sera_mfa"] not in dumped


def test_control_endpoints_are_not_linked_from_pages(portal: httpx.Client) -> None:
    login(portal)
    for path in ("/dispatch", "/customers", "/customers/1001"):
        assert "/_sandbox" not in portal.get(path).text


def test_default_size_starts_from_the_snapshot_with_2500_customers() -> None:
    with SandboxServer() as server:
        with httpx.Client(base_url=server.url, timeout=10) as client:
            assert client.get("/_sandbox/stats").json() == {"customers": 2500, "seed": 1234, "size": "default"}
            login(client)
            page = client.get("/customers")
            assert text_of(page, "pagination-summary") == "Showing 1–50 of 2,500 customers"
            last = client.get("/customers", params={"page": 50})
            assert soup(last).select_one("a[rel=next]") is None
        db_path = server.db_path
        assert db_path is not None and db_path.exists()
    assert not db_path.exists()


def test_the_server_leaves_signal_handlers_alone_and_stops_cleanly() -> None:
    before = signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)
    server = SandboxServer(size="small").start()
    try:
        assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
        assert server.url.startswith("http://127.0.0.1:") and server.port > 0
        assert httpx.get(server.url + "/login").status_code == 200
    finally:
        server.stop()
    assert (signal.getsignal(signal.SIGINT), signal.getsignal(signal.SIGTERM)) == before
    with pytest.raises(httpx.ConnectError):
        httpx.get(f"http://127.0.0.1:{server.port}/login")


class _Done(Exception):
    pass


def test_serve_forever_reports_its_url_and_stops_when_interrupted() -> None:
    seen: list[str] = []

    def on_ready(url: str) -> None:
        seen.append(url)
        assert httpx.get(url + "/login").status_code == 200
        raise _Done  # stands in for Ctrl-C, which arrives as an exception in the same place

    with pytest.raises(_Done):
        serve_forever(size="small", on_ready=on_ready)
    assert len(seen) == 1
    with pytest.raises(httpx.ConnectError):
        httpx.get(seen[0] + "/login")
