"""Fault injection over /_sandbox/faults: each switch, its scope by path prefix, and its trace in the log."""

from __future__ import annotations

import sqlite3
import time

import httpx
import pytest

from robots.packs.sera.sandbox import SandboxServer

from .helpers import login, soup, text_of


@pytest.fixture
def signed_in(portal: httpx.Client) -> httpx.Client:
    login(portal)
    return portal


def switch_on(client: httpx.Client, **fault: object) -> dict[str, object]:
    response = client.post("/_sandbox/faults", json=fault)
    assert response.status_code == 200, response.text
    return response.json()


def logged(client: httpx.Client, path: str) -> list[dict[str, object]]:
    return [e for e in client.get("/_sandbox/requests").json() if e["path"] == path]


def test_no_fault_is_on_by_default_and_every_fault_is_described(portal: httpx.Client) -> None:
    body = portal.get("/_sandbox/faults").json()
    assert body["faults"] == []
    assert set(body["available"]) == {"latency", "server_error", "rate_limit", "session_revocation", "whats_new",
                                      "cookie_banner", "maintenance", "layout_b", "slow_commit",
                                      "corrupt_upload"}  # fmt: skip
    assert body["available"]["latency"] == {"description": "every matching response is delayed by ms ± jitter_ms",
                                            "paths": ["/"], "ms": 500, "jitter_ms": 0}  # fmt: skip


def test_faults_are_switched_on_listed_and_off(portal: httpx.Client) -> None:
    body = switch_on(portal, name="server_error", percent=50, paths=["/customers"])
    assert body["faults"] == [{"name": "server_error", "paths": ["/customers"], "percent": 50, "seed": 0}]
    body = portal.post(
        "/_sandbox/faults", json={"faults": [{"name": "latency", "ms": 10}, {"name": "whats_new"}]}
    ).json()
    assert [f["name"] for f in body["faults"]] == ["server_error", "latency", "whats_new"]
    assert [f["name"] for f in portal.delete("/_sandbox/faults/latency").json()["faults"]] == ["server_error",
                                                                                              "whats_new"]  # fmt: skip
    missing = portal.delete("/_sandbox/faults/latency")
    assert missing.status_code == 404 and missing.json() == {"error": "fault 'latency' is not switched on"}
    assert portal.delete("/_sandbox/faults").json()["faults"] == []


@pytest.mark.parametrize(
    ("fault", "error"),
    [
        ({"name": "earthquake"}, "unknown fault 'earthquake'; expected one of latency, server_error, rate_limit, "
                                 "session_revocation, whats_new, cookie_banner, maintenance, layout_b, slow_commit, "
                                 "corrupt_upload"),
        ({"name": "latency", "ms": -1}, "latency.ms must be a number >= 0; got -1"),
        ({"name": "server_error", "percent": 150}, "server_error.percent must be between 0 and 100; got 150"),
        ({"name": "latency", "speed": 3}, "fault 'latency' takes paths, ms, jitter_ms; got speed"),
        ({"name": "whats_new", "paths": "customers"}, "paths must be a list of path prefixes starting with '/'"),
    ],
)  # fmt: skip
def test_a_bad_fault_is_refused_with_the_reason(portal: httpx.Client, fault: dict[str, object], error: str) -> None:
    response = portal.post("/_sandbox/faults", json=fault)
    assert response.status_code == 400 and response.json() == {"error": error}
    assert portal.get("/_sandbox/faults").json()["faults"] == []


def test_latency_delays_only_matching_paths_and_is_logged(signed_in: httpx.Client) -> None:
    switch_on(signed_in, name="latency", ms=300, jitter_ms=50, paths=["/customers"])
    started = time.perf_counter()
    assert signed_in.get("/customers").status_code == 200
    assert time.perf_counter() - started >= 0.25
    # (no upper bound on the unmatched page's time: on a loaded machine any request can take 0.25 s; the
    # sandbox's own log says which requests the fault touched)
    assert signed_in.get("/dispatch").status_code == 200
    assert logged(signed_in, "/customers")[-1]["faults"] == ["latency"]
    assert "faults" not in logged(signed_in, "/dispatch")[-1]


def test_server_errors_hit_the_given_share_deterministically(signed_in: httpx.Client) -> None:
    switch_on(signed_in, name="server_error", percent=30, paths=["/customers"])
    statuses = [signed_in.get("/customers").status_code for _ in range(40)]
    assert set(statuses) == {200, 500} and 4 <= statuses.count(500) <= 20
    signed_in.post("/_sandbox/faults", json={"name": "server_error", "percent": 30, "paths": ["/customers"]})
    again = [signed_in.get("/customers").status_code for _ in range(40)]
    assert again == statuses  # switching it on again restarts the same seeded sequence
    page = next(r for r in (signed_in.get("/customers") for _ in range(20)) if r.status_code == 500)
    assert page.headers["content-type"].startswith("text/html")
    assert text_of(page, "error-title") == "Something went wrong" and text_of(page, "error-reference")
    assert [e["status"] for e in logged(signed_in, "/customers") if e.get("faults") == ["server_error"]]


def test_rate_limit_answers_429_with_retry_after(signed_in: httpx.Client) -> None:
    switch_on(signed_in, name="rate_limit", retry_after=7, paths=["/customers/"])
    assert signed_in.get("/customers").status_code == 200  # the prefix "/customers/" matches details only
    page = signed_in.get("/customers/1003")
    assert page.status_code == 429 and page.headers["retry-after"] == "7"
    assert text_of(page, "error-title") == "Too many requests"
    assert logged(signed_in, "/customers/1003")[-1]["faults"] == ["rate_limit"]


def test_session_revocation_sends_the_user_to_sign_in_again(signed_in: httpx.Client) -> None:
    switch_on(signed_in, name="session_revocation", paths=["/customers"])
    assert signed_in.get("/dispatch").status_code == 200
    response = signed_in.get("/customers")
    assert response.headers["location"] == "/login?expired=1&next=/customers"
    signed_in.delete("/_sandbox/faults")
    assert signed_in.get("/dispatch").headers["location"] == "/login?next=/dispatch"  # the cookie was cleared


def test_sessions_can_be_revoked_on_demand(portal: httpx.Client) -> None:
    login(portal)
    assert portal.post("/_sandbox/sessions/revoke", json={"tenant": "acme", "username": "nobody"}).json() == {
        "revoked": 0
    }
    assert portal.post("/_sandbox/sessions/revoke").json() == {"revoked": 1}
    assert portal.get("/customers").headers["location"] == "/login?expired=1&next=/customers"


def test_the_whats_new_modal_covers_pages_until_dismissed(signed_in: httpx.Client) -> None:
    switch_on(signed_in, name="whats_new")
    page = signed_in.get("/customers")
    modal = soup(page).select_one("[data-cy=whats-new-modal][role=dialog][aria-modal=true]")
    assert modal is not None and modal.select_one("[data-cy=whats-new-close]") is not None
    assert "What's new in Sera" in modal.get_text()
    assert soup(signed_in.get("/login")).select_one("[data-cy=whats-new-modal]") is None  # signed-in pages only
    done = signed_in.post("/whats-new/dismiss", data={"next": "/customers?page=2"})
    assert done.status_code == 303 and done.headers["location"] == "/customers?page=2"
    assert soup(signed_in.get("/customers")).select_one("[data-cy=whats-new-modal]") is None


def test_the_cookie_banner_shows_on_every_page_until_accepted(portal: httpx.Client) -> None:
    switch_on(portal, name="cookie_banner")
    banner = soup(portal.get("/login")).select_one("[data-cy=cookie-banner]")
    assert banner is not None and banner.select_one("button[data-cy=cookie-accept]") is not None
    assert portal.post("/cookies/accept", data={"next": "/login"}).headers["location"] == "/login"
    assert soup(portal.get("/login")).select_one("[data-cy=cookie-banner]") is None


def test_maintenance_is_a_503_page(portal: httpx.Client) -> None:
    switch_on(portal, name="maintenance", retry_after=600)
    for path in ("/login", "/customers", "/t/summit/login"):
        page = portal.get(path)
        assert page.status_code == 503 and page.headers["retry-after"] == "600"
        assert page.headers["content-type"].startswith("text/html")
        assert text_of(page, "maintenance-title") == "Sera is down for scheduled maintenance"
    assert portal.get("/_sandbox/stats").status_code == 200  # control endpoints are never faulted
    portal.delete("/_sandbox/faults/maintenance")
    assert portal.get("/login").status_code == 200


def test_slow_commit_commits_then_answers_late(sandbox: SandboxServer, signed_in: httpx.Client) -> None:
    assert sandbox.db_path is not None
    with sqlite3.connect(sandbox.db_path) as db:
        job = db.execute("SELECT id FROM work_orders WHERE status = 'scheduled' ORDER BY id LIMIT 1").fetchone()[0]
    token = soup(signed_in.get(f"/jobs/{job}")).select_one("input[name=csrf_token]")["value"]  # type: ignore[index]
    switch_on(signed_in, name="slow_commit", ms=1500, paths=["/jobs/"])
    with pytest.raises(httpx.ReadTimeout):  # the robot's step times out ...
        signed_in.post(f"/jobs/{job}/status", data={"status": "canceled", "reason": "Duplicate", "csrf_token": token},
                       timeout=0.5)  # fmt: skip
    # ... but the write happened: a retry must look before it writes again.
    assert text_of(signed_in.get(f"/jobs/{job}"), "job-status") == "Canceled"
    assert signed_in.get("/_sandbox/writes").json()["writes"]["acme"] == {"work_orders": 1}
    time.sleep(1.2)  # the delayed answer finishes, and is logged
    assert logged(signed_in, f"/jobs/{job}/status")[-1]["faults"] == ["slow_commit"]


def test_reset_switches_every_fault_off(portal: httpx.Client) -> None:
    switch_on(portal, name="maintenance")
    portal.post("/_sandbox/reset")
    assert portal.get("/_sandbox/faults").json()["faults"] == []
    assert portal.get("/login").status_code == 200
