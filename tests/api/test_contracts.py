"""The API's contracts without a browser: one error envelope for every kind of error with the right status,
X-Request-Id, OpenAPI, tokens (hashed, expiring, scoped), rate limits, runs (202 + Location) and Idempotency-Key."""

from __future__ import annotations

import hashlib
import sqlite3
import time
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

from .conftest import ApiClient, bearer, operator, token


def envelope(response: Any, status: int, type_: str, message: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message", "details", "request_id"}
    assert (body["error"]["type"], body["error"]["message"]) == (type_, message)
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    return dict(body["error"])


def test_health_openapi_docs_and_request_ids(client: ApiClient) -> None:
    r = client.get("/health")
    assert (r.status_code, r.json()) == (200, {"status": "ok", "version": "0.1.0", "database": "ok"})
    assert len(r.headers["X-Request-Id"]) == 32
    assert client.get("/health", headers={"X-Request-Id": "abc-123"}).headers["X-Request-Id"] == "abc-123"
    spec = client.get("/openapi.json").json()
    assert {"/sessions", "/sessions/refresh", "/sessions/{session_id}", "/customers", "/customers/{customer_id}",
            "/work-orders", "/work-orders/{work_order_id}", "/work-orders/{work_order_id}/status", "/pricebook",
            "/invoices", "/flows/{name}/runs", "/runs/{run_id}", "/runs/{run_id}/evidence", "/health",
            "/audit"} <= set(spec["paths"])  # fmt: skip
    assert "ErrorEnvelope" in spec["components"]["schemas"]
    assert spec["paths"]["/customers"]["get"]["responses"]["403"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ErrorEnvelope"}
    docs = client.get("/docs")
    assert docs.status_code == 200 and "swagger-ui" in docs.text


def test_every_error_kind_is_the_one_envelope(make_client: Callable[..., ApiClient]) -> None:
    client = make_client()

    def boom() -> None:
        raise RuntimeError("secret internals")

    client.app.add_api_route("/boom", boom)  # type: ignore[attr-defined]
    envelope(client.get("/nope"), 404, "not_found", "no such endpoint")
    envelope(client.delete("/health"), 405, "method_not_allowed", "method not allowed on this endpoint")
    envelope(client.get("/customers"), 401, "missing_token",
             "an API token is required: send `Authorization: Bearer <token>`")
    envelope(client.get("/customers", headers=bearer("rbt_made-up")), 401, "invalid_token",
             "the API token is not valid")
    reader = token(client, "runs:read")
    error = envelope(client.get("/customers", headers=bearer(reader)), 403, "missing_scope",
                     "this token lacks the scope 'customers:read'")
    assert error["details"] == {"required": "customers:read", "granted": ["runs:read"]}
    envelope(client.get("/runs/20260101T000000-abcdef", headers=bearer(reader)), 404, "run_not_found",
             "no run with id '20260101T000000-abcdef'")
    writer = token(client, "customers:write")
    error = envelope(client.post("/customers", headers=bearer(writer), json={"name": "", "email": "a@b.c"}), 422,
                     "invalid_input", "invalid input: name, city, state")
    assert [(d["loc"], d["type"]) for d in error["details"]] == [
        (["body", "name"], "string_too_short"), (["body", "city"], "missing"), (["body", "state"], "missing")]
    envelope(client.post("/customers", headers={**bearer(writer), "Content-Type": "application/json"},
                         content=b'{"name": '), 400, "bad_request", "the request body is not valid JSON")
    lister = token(client, "customers:read")
    error = envelope(client.get("/customers?page_size=500&type=other", headers=bearer(lister)), 422,
                     "invalid_input", "invalid input: type, page_size")
    assert [d["loc"] for d in error["details"]] == [["query", "type"], ["query", "page_size"]]
    envelope(client.get("/customers", headers=bearer(lister)), 503, "portal_not_configured",
             "no portal is configured for this token: sign in with POST /sessions, or start the API with "
             "ROBOTS_PORTAL_URL set")
    error = envelope(client.get("/boom"), 500, "internal_error",
                     "internal error; the request id identifies it in the server's log")
    assert "secret internals" not in str(error) and "Traceback" not in str(error)


def test_tokens_are_stored_hashed_expire_and_can_be_minted_by_the_cli(client: ApiClient, tmp_path: Path) -> None:
    raw = token(client, "runs:read")
    conn = sqlite3.connect(tmp_path / "robots.db")
    try:
        rows = conn.execute("SELECT token_id, token_sha256, scopes FROM api_tokens").fetchall()
        assert rows[0][1:] == (hashlib.sha256(raw.encode()).hexdigest(), "runs:read")
        everything = "\n".join(str(r) for t in ("api_tokens", "api_audit") for r in conn.execute(f"SELECT * FROM {t}"))
        assert raw not in everything
        conn.execute("UPDATE api_tokens SET expires_at = '2026-01-02 03:04:05.000000'")
        conn.commit()
    finally:
        conn.close()
    envelope(client.get("/runs/x", headers=bearer(raw)), 401, "token_expired",
             "the API token expired at 2026-01-02T03:04:05+00:00")


def test_rate_limit_answers_429_with_retry_after(make_client: Callable[..., ApiClient]) -> None:
    client = make_client(rate_limit=3, rate_window_s=60)
    raw = token(client, "runs:read")
    for _ in range(3):
        assert client.get("/runs/x", headers=bearer(raw)).status_code == 404
    r = client.get("/runs/x", headers=bearer(raw))
    error = envelope(r, 429, "rate_limited", "rate limit of 3 requests per 60 s reached for this token; retry "
                     f"after {r.headers['Retry-After']} s")
    assert 1 <= int(r.headers["Retry-After"]) <= 60 and error["details"]["limit"] == 3
    other = token(client, "runs:read")  # per token: another token is not held back
    assert client.get("/runs/x", headers=bearer(other)).status_code == 404


def test_a_tenant_has_a_budget_over_all_its_tokens(make_client: Callable[..., ApiClient]) -> None:
    client = make_client(rate_limit=10, tenant_rate_limit=4, rate_window_s=60)
    tokens = client.app.state.tokens
    acme = [tokens.create(["runs:read"], label="t", ttl=timedelta(hours=1), tenant="acme")[0] for _ in range(3)]
    for raw in [*acme, *acme[:1]]:
        assert client.get("/runs/x", headers=bearer(raw)).status_code == 404
    r = client.get("/runs/x", headers=bearer(acme[2]))
    envelope(r, 429, "rate_limited", f"rate limit of 4 requests per 60 s reached for tenant 'acme'; retry after "
             f"{r.headers['Retry-After']} s")
    summit = tokens.create(["runs:read"], label="t", ttl=timedelta(hours=1), tenant="summit")[0]
    assert client.get("/runs/x", headers=bearer(summit)).status_code == 404  # another tenant is not held back


def wait_for_run(client: ApiClient, headers: dict[str, str], location: str, done: Callable[[dict[str, Any]], bool],
                 timeout: float = 120) -> dict[str, Any]:
    deadline = time.monotonic() + timeout
    while True:
        body = client.get(location, headers=headers).json()
        if done(body) or time.monotonic() > deadline:
            return dict(body)
        time.sleep(0.1)  # polling the run with a deadline


def test_a_run_is_202_with_location_and_idempotency_key_replays_or_conflicts(client: ApiClient,
                                                                             tmp_path: Path) -> None:
    headers = bearer(token(client, "flows:run", "runs:read"))
    keyed = {**headers, "Idempotency-Key": "run-1"}
    r = client.post("/flows/echo/runs", headers=keyed, json={"vars": {"msg": "hello"}})
    assert r.status_code == 202 and r.headers["Location"] == f"/runs/{r.json()['run_id']}"
    assert r.json()["status"] == "running" and r.json()["flow_name"] == "echo"
    run = wait_for_run(client, headers, r.headers["Location"], lambda b: b["status"] != "running")
    assert (run["status"], run["outputs"], run["error_message"]) == ("passed", {"said": "hello"}, None)

    again = client.post("/flows/echo/runs", headers=keyed, json={"vars": {"msg": "hello"}})
    assert (again.status_code, again.json(), again.headers["Location"]) == (202, r.json(), r.headers["Location"])
    assert again.headers["Idempotent-Replayed"] == "true"
    conn = sqlite3.connect(tmp_path / "robots.db")
    try:
        assert conn.execute("SELECT count(*) FROM runs").fetchone() == (1,)
    finally:
        conn.close()
    error = envelope(client.post("/flows/echo/runs", headers=keyed, json={"vars": {"msg": "bye"}}), 409,
                     "idempotency_conflict", "this Idempotency-Key was used with a different request")
    assert error["details"] == {"idempotency_key": "run-1"}

    envelope(client.post("/flows/nothing/runs", headers=headers, json={}), 404, "flow_not_found",
             "no flow named 'nothing'")
    envelope(client.post("/flows/..%2Fecho/runs", headers=headers, json={}), 404, "flow_not_found",
             "no flow named '../echo'")
    envelope(client.post("/flows/echo/runs", headers=headers, json={"vars": {}}), 422, "invalid_input",
             "var 'msg' is required")
    envelope(client.post("/flows/echo/runs", headers=headers, json={"vars": {"msg": "x", "tone": "lowd"}}), 422,
             "invalid_input", "var 'tone' must be one of plain, loud; got 'lowd' (did you mean 'loud'?)")
    ended = envelope(client.delete(r.headers["Location"], headers=headers), 409, "run_ended",
                     f"run {r.json()['run_id']} already ended passed")
    assert ended["details"] == {"status": "passed"}
    assert client.get(f"{r.headers['Location']}/evidence", headers=headers).json() == {
        "run_id": r.json()["run_id"], "evidence": []}


def test_audit_log_needs_admin_and_records_who_did_what(client: ApiClient) -> None:
    runner = token(client, "flows:run")
    r = client.post("/flows/echo/runs", headers=bearer(runner), json={"vars": {"msg": "x"}})
    assert r.status_code == 202
    envelope(client.get("/audit", headers=bearer(runner)), 403, "missing_scope",
             "this token lacks the scope 'audit:read'")
    entries = client.get("/audit", headers=bearer(token(client, "admin"))).json()["items"]
    assert [(e["who"], e["action"], e["target"], e["result"], e["run_id"]) for e in entries] == [
        ("tester", "flows.run", "echo", "accepted", r.json()["run_id"])]
    assert entries[0]["request_id"] == r.headers["X-Request-Id"]


def test_a_key_still_being_answered_is_409_until_its_claim_is_stale(client: ApiClient, tmp_path: Path) -> None:
    import json
    from datetime import UTC, datetime

    raw = token(client, "flows:run")
    owner = client.app.state.tokens.verify(raw).token_id
    body = {"vars": {"msg": "x"}}
    fingerprint = hashlib.sha256(f"POST /flows/echo/runs\n{json.dumps(body, sort_keys=True)}".encode()).hexdigest()
    conn = sqlite3.connect(tmp_path / "robots.db")
    try:
        conn.execute("INSERT INTO api_idempotency (token_id, key, request_sha256, created_at) VALUES (?, ?, ?, ?)",
                     (owner, "k", fingerprint, datetime.now(UTC).strftime("%Y-%m-%d %H:%M:%S.%f")))
        conn.commit()
        keyed = {**bearer(raw), "Idempotency-Key": "k"}
        r = client.post("/flows/echo/runs", headers=keyed, json=body)
        envelope(r, 409, "idempotency_in_progress",
                 "a request with this Idempotency-Key is still being answered; retry later")
        assert r.headers["Retry-After"] == "5"
        conn.execute("UPDATE api_idempotency SET created_at = '2026-01-01 00:00:00.000000'")  # the server died in it
        conn.commit()
    finally:
        conn.close()
    assert client.post("/flows/echo/runs", headers=keyed, json=body).status_code == 202


def test_robots_pause_holds_runs_started_over_http(client: ApiClient) -> None:
    headers = bearer(token(client, "flows:run"))
    client.app.state.store.set_paused("portal maintenance until 23:00", by="ops")
    r = client.post("/flows/echo/runs", headers=headers, json={"vars": {"msg": "x"}})
    since = client.app.state.store.paused()["since"]
    envelope(r, 503, "paused", f"robots are paused: portal maintenance until 23:00 (by ops since {since})")
    assert r.headers["Retry-After"] == "60"
    client.app.state.store.set_paused(None)
    assert client.post("/flows/echo/runs", headers=headers, json={"vars": {"msg": "x"}}).status_code == 202


def test_a_session_is_opened_only_for_a_portal_the_api_serves(make_client: Callable[..., ApiClient]) -> None:
    """The API's browser never opens a URL a caller made up: POST /sessions names one of its portals
    (ROBOTS_PORTAL_URL, ROBOTS_API_PORTALS) or is refused before any run starts."""
    api = make_client(portal_url="https://acme.sera.example", portals=("https://beta.sera.example/",))
    body = {"portal_url": "https://evil.example", "username": "demo", "password": "pw"}
    error = envelope(api.post("/sessions", json=body, headers=operator(api)), 422, "portal_not_served",
                     "https://evil.example is not a portal this API signs in to; its operator lists them in "
                     "ROBOTS_PORTAL_URL and ROBOTS_API_PORTALS")
    assert [d["loc"] for d in error["details"]] == [["body", "portal_url"]]
    assert not (Path(api.app.state.settings.home) / "runs").exists()  # no run, no browser
