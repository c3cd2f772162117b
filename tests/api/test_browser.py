"""The API end to end through real Chromium against the sandbox: a portal session signed in by POST /sessions,
a read through the Sera flow with that session restored (not signed in again), the portal's refusal of a
password and of a role in its own words, and a run canceled by DELETE /runs/{id} with its browser ended."""

from __future__ import annotations

import json
import sqlite3
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from robots.packs.sera.sandbox import credentials, users
from robots.testing import tracked_pids_alive

from .conftest import ApiClient, bearer, operator, token
from .test_contracts import envelope, wait_for_run

pytestmark = pytest.mark.browser


def steps_of(home: Path, run_id: str) -> list[str]:
    return [s["name"] for s in json.loads((home / "runs" / run_id / "report.json").read_text())["steps"]] \
        if (home / "runs" / run_id / "report.json").exists() else []


def test_a_session_token_reads_customers_through_the_portal_session_it_signed_in(api: ApiClient, sandbox: Any,
                                                                                 tmp_path: Path) -> None:
    creds = credentials()
    body = {"portal_url": sandbox.url, "tenant": "acme", "username": creds["username"],
            "password": creds["password"], "mfa": {"method": "totp", "totp_secret": creds["totp_secret"]}}
    r = api.post("/sessions", json=body, headers=operator(api))
    assert r.status_code == 201, r.text
    session = r.json()
    assert (session["username"], session["tenant"], session["token"][:4]) == ("demo", "acme", "rbt_")
    assert "customers:read" in session["scopes"] and "admin" not in session["scopes"]
    headers = bearer(session["token"])

    conn = sqlite3.connect(f"file:{sandbox.db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        row = conn.execute("SELECT * FROM customers ORDER BY id LIMIT 1").fetchone()
    finally:
        conn.close()
    listed = api.get("/customers", params={"q": row["number"], "page_size": 10}, headers=headers)
    assert listed.status_code == 200, listed.text
    page = listed.json()
    assert {k: page[k] for k in ("page", "page_size", "total_count", "has_more", "next_cursor")} == {
        "page": 1, "page_size": 10, "total_count": 1, "has_more": False, "next_cursor": None}
    got = page["items"][0]
    assert (got["id"], got["number"], got["name"], got["type"], got["email"], got["city"], got["balance_cents"],
            got["status"]) == (str(row["id"]), row["number"], row["name"], row["type"], row["email"], row["city"],
                               row["balance_cents"], row["status"])  # fmt: skip

    store = api.app.state.store
    runs = {r.flow_name: r for r in store.list(limit=None)}
    assert runs["list_customers"].trigger == runs["api_sign_in"].trigger == "api"
    assert "session restored" in [s.name for s in runs["list_customers"].steps]  # no second sign-in
    assert not any("sign_in:" in s.name for s in runs["list_customers"].steps)
    raw = sqlite3.connect(tmp_path / "robots.db")
    try:
        secrets_anywhere = "\n".join(str(x) for t in ("api_sessions", "api_audit", "api_tokens", "runs")
                                     for x in raw.execute(f"SELECT * FROM {t}"))
    finally:
        raw.close()
    assert creds["password"] not in secrets_anywhere and session["token"] not in secrets_anywhere
    assert creds["totp_secret"] not in secrets_anywhere

    # Warm reads: a page size the portal offers is read over HTTP with the stored session (no run, no browser).
    runs_before = len(store.list(limit=None))
    warm = api.get("/customers", params={"q": row["number"], "page_size": 25}, headers=headers)
    assert warm.status_code == 200, warm.text
    def same(c: dict[str, Any]) -> dict[str, Any]:
        return {k: v for k, v in c.items() if k not in ("source_url", "scraped_at")}

    assert [same(c) for c in warm.json()["items"]] == [same(c) for c in page["items"]]
    assert warm.json()["total_count"] == 1
    conn = sqlite3.connect(f"file:{sandbox.db_path}?mode=ro", uri=True)
    try:
        count = conn.execute("SELECT count(*) FROM customers").fetchone()[0]
    finally:
        conn.close()
    second = api.get("/customers", params={"page": 2, "page_size": 25}, headers=headers).json()
    assert (len(second["items"]), second["page"], second["total_count"], second["has_more"]) == (25, 2, count, True)
    third = api.get("/customers", params={"cursor": second["next_cursor"], "page_size": 25}, headers=headers).json()
    assert third["page"] == 3 and not {c["id"] for c in third["items"]} & {c["id"] for c in second["items"]}
    assert len(store.list(limit=None)) == runs_before

    envelope(api.get("/audit", headers=headers), 403, "missing_scope", "this token lacks the scope 'audit:read'")
    entries = api.get("/audit", headers=bearer(token(api, "admin"))).json()["items"]
    assert [(e["who"], e["tenant"], e["action"], e["target"], e["result"], e["run_id"]) for e in entries] == [
        *[("demo", "acme", "customers.list", None, "ok (http)", None)] * 3,
        ("demo", "acme", "customers.list", None, "ok", runs["list_customers"].run_id),
        ("tester", "acme", "sessions.create", f"{sandbox.url} as demo", "ok", runs["api_sign_in"].run_id)]

    # A write behind an Idempotency-Key: the same key and body again is answered from the store (no run, no portal
    # request); the same key with another body is 409.
    new = {"name": "Ada Api", "email": "Ada.Api@Example.com", "phone": "(512) 555-0143", "type": "commercial",
           "city": "Austin", "state": "TX"}
    keyed = {**headers, "Idempotency-Key": "create-ada"}
    created = api.post("/customers", headers=keyed, json=new)
    assert created.status_code == 201, created.text
    customer = created.json()["customer"]
    assert (customer["name"], customer["email"], customer["phones"], customer["type"], created.json()["created"]) == (
        "Ada Api", "ada.api@example.com", ["+15125550143"], "commercial", True)
    assert created.headers["Location"] == f"/customers/{customer['id']}"
    assert httpx.get(f"{sandbox.url}/_sandbox/writes").json()["writes"]["acme"] == {"customers": 1}
    runs_before = len(store.list(limit=None))
    again = api.post("/customers", headers=keyed, json=new)
    assert (again.status_code, again.json(), again.headers["Idempotent-Replayed"]) == (201, created.json(), "true")
    assert len(store.list(limit=None)) == runs_before
    envelope(api.post("/customers", headers=keyed, json={**new, "city": "Dallas"}), 409, "idempotency_conflict",
             "this Idempotency-Key was used with a different request")
    assert httpx.get(f"{sandbox.url}/_sandbox/writes").json()["writes"]["acme"] == {"customers": 1}

    refreshed = api.post("/sessions/refresh", headers=headers)
    assert refreshed.status_code == 200, refreshed.text
    fresh = refreshed.json()
    assert (fresh["session_id"], fresh["scopes"]) == (session["session_id"], session["scopes"])
    assert fresh["token"] != session["token"]
    assert "session restored" in [s.name for s in store.get(fresh["run_id"]).steps]  # the portal still knew it
    envelope(api.get("/customers", headers=headers), 401, "invalid_token", "the API token is not valid")
    headers = bearer(fresh["token"])
    assert api.get("/webhooks", headers=headers).status_code == 200  # the new token works

    assert api.delete(f"/sessions/{session['session_id']}", headers=headers).status_code == 204
    envelope(api.get("/customers", headers=headers), 401, "invalid_token", "the API token is not valid")


def test_the_portals_refusals_come_back_in_its_own_words(api: ApiClient, sandbox: Any) -> None:
    bad = {"portal_url": sandbox.url, "username": "demo", "password": "not the password",
           "mfa": {"method": "totp", "totp_secret": credentials()["totp_secret"]}}
    error = envelope(api.post("/sessions", json=bad, headers=operator(api)), 401, "portal_credentials_rejected",
                     "the portal refused the sign-in: login rejected: Invalid username or password.")
    assert error["details"]["run_id"]

    tom = next(u for u in users() if u["username"] == "tom")
    r = api.post("/sessions", json={"portal_url": sandbox.url, "username": "tom", "password": tom["password"]},
                 headers=operator(api))
    assert r.status_code == 201, r.text
    error = envelope(api.get("/invoices", headers=bearer(r.json()["token"])), 403, "portal_forbidden",
                     "the portal refused: You don't have permission to view this page.")
    assert error["details"]["failure_kind"] in ("business", "technical", "scrape_drift")


def test_a_run_started_over_http_is_canceled_and_ends_its_browser(api: ApiClient, sandbox: Any) -> None:
    headers = bearer(token(api, "flows:run", "runs:read"))
    r = api.post("/flows/wait_forever/runs", headers=headers, json={"vars": {"url": sandbox.url}})
    assert r.status_code == 202, r.text
    location = r.headers["Location"]
    waiting = wait_for_run(api, headers, location, lambda b: b["steps"] >= 1 or b["status"] != "running")
    assert (waiting["status"], waiting["steps"]) == ("running", 1)  # the page is open; the wait has begun
    cancel = api.delete(location, headers=headers)
    assert (cancel.status_code, cancel.headers["Location"]) == (202, location)
    started = time.monotonic()
    done = wait_for_run(api, headers, location, lambda b: b["status"] != "running", timeout=60)
    assert (done["status"], done["error_class"], done["error_message"]) == ("canceled", "Canceled",
                                                                          "canceled by api (tester)")
    assert time.monotonic() - started < 60
    record = api.app.state.store.get(r.json()["run_id"])
    assert tracked_pids_alive(Path(record.run_dir)) == []
