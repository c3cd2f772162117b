"""Every endpoint the API serves, tried as an attacker would: with no token, with a token lacking the scope, with an
admin token of another tenant on this tenant's resources, with an oversized body, and with a request that asks for
more scopes than its caller holds. The walk is driven by the API's own OpenAPI document, so an endpoint added later
without a line in GUARDS fails here until someone says what guards it."""

from __future__ import annotations

import os
from collections.abc import Callable
from datetime import timedelta

import pytest

from api.conftest import ApiClient, bearer, make_client, token  # noqa: F401 - make_client is a fixture
from api.test_api_tenancy import no_run_started as nothing_ran
from api.test_contracts import envelope, wait_for_run

PUBLIC = "public"
ANY_TOKEN = "any token"
#: (method, path) -> the scope that guards it (or PUBLIC, or ANY_TOKEN)
GUARDS: dict[tuple[str, str], str] = {
    ("GET", "/health"): PUBLIC,
    ("GET", "/audit"): "audit:read",
    ("POST", "/sessions"): "sessions:create",
    ("POST", "/sessions/refresh"): ANY_TOKEN,
    ("DELETE", "/sessions/{session_id}"): ANY_TOKEN,
    ("GET", "/customers"): "customers:read",
    ("POST", "/customers"): "customers:write",
    ("GET", "/customers/{customer_id}"): "customers:read",
    ("GET", "/work-orders"): "work_orders:read",
    ("POST", "/work-orders"): "work_orders:write",
    ("GET", "/work-orders/{work_order_id}"): "work_orders:read",
    ("PATCH", "/work-orders/{work_order_id}/status"): "work_orders:write",
    ("GET", "/pricebook"): "pricebook:read",
    ("GET", "/invoices"): "invoices:read",
    ("POST", "/customers/{customer_id}/memberships"): "memberships:write",
    ("POST", "/flows/{name}/runs"): "flows:run",
    ("GET", "/runs/{run_id}"): "runs:read",
    ("DELETE", "/runs/{run_id}"): "flows:run",
    ("GET", "/runs/{run_id}/evidence"): "runs:read",
    ("GET", "/runs/{run_id}/evidence/{name}"): "runs:read",
    ("GET", "/webhooks"): "webhooks:manage",
    ("POST", "/webhooks"): "webhooks:manage",
    ("GET", "/webhooks/{webhook_id}"): "webhooks:manage",
    ("DELETE", "/webhooks/{webhook_id}"): "webhooks:manage",
    ("POST", "/uploads"): "flows:run",
}
SUMMIT = "https://summit.sera.example"
ACME = "https://acme.sera.example"


@pytest.fixture
def walk_api(make_client: Callable[..., ApiClient], monkeypatch: pytest.MonkeyPatch) -> ApiClient:  # noqa: F811
    for name in [n for n in os.environ if n.startswith("ROBOTS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ROBOTS_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8")
    # The walk sends ~100 requests from one address: the per-address budgets are not what it tests.
    return make_client(portals=(f"acme={ACME}", f"summit={SUMMIT}"), anonymous_rate_limit=10_000,
                       ip_rate_limit=10_000, rate_limit=10_000)


def routes(client: ApiClient) -> list[tuple[str, str]]:
    return [(m.upper(), p) for p, ops in client.app.openapi()["paths"].items() for m in ops]


def concrete(path: str, ids: dict[str, str]) -> str:
    return path.format(**{k: ids.get(k, "x") for k in ("session_id", "customer_id", "work_order_id", "name",
                                                        "run_id", "webhook_id")})


def test_every_endpoint_is_guarded_by_what_this_test_says(walk_api: ApiClient) -> None:
    assert sorted(routes(walk_api)) == sorted(GUARDS)


def test_without_a_token_every_endpoint_but_health_is_401_and_nothing_runs(walk_api: ApiClient) -> None:
    ids = {"name": "echo", "customer_id": "1003", "work_order_id": "50005"}
    for method, path in routes(walk_api):
        r = walk_api.request(method, concrete(path, ids), json={} if method in ("POST", "PATCH") else None)
        if GUARDS[(method, path)] == PUBLIC:
            assert r.status_code == 200, (method, path)
            continue
        envelope(r, 401, "missing_token", "an API token is required: send `Authorization: Bearer <token>`")
        r = walk_api.request(method, concrete(path, ids), headers=bearer("rbt_not-a-token"))
        envelope(r, 401, "invalid_token", "the API token is not valid")
    assert nothing_ran(walk_api)


def test_a_token_lacking_the_scope_is_403_naming_it(walk_api: ApiClient) -> None:
    headers = bearer(token(walk_api))  # a token with no scope at all
    ids = {"name": "echo", "customer_id": "1003", "work_order_id": "50005"}
    for method, path in routes(walk_api):
        guard = GUARDS[(method, path)]
        if guard in (PUBLIC, ANY_TOKEN):
            continue
        r = walk_api.request(method, concrete(path, ids), headers=headers,
                             json={} if method in ("POST", "PATCH") else None)
        envelope(r, 403, "missing_scope", f"this token lacks the scope {guard!r}")
    envelope(walk_api.post("/sessions/refresh", headers=headers), 422, "no_session",
             "this token has no portal session to refresh")
    envelope(walk_api.delete("/sessions/ses_x", headers=headers), 404, "session_not_found", "no session 'ses_x'")
    assert nothing_ran(walk_api)


def test_an_oversized_body_is_413_on_every_endpoint_that_takes_one_before_authentication(walk_api: ApiClient) -> None:
    limit = walk_api.app.state.settings.max_body_bytes
    upload_limit = walk_api.app.state.settings.max_upload_bytes
    ids = {"name": "echo", "customer_id": "1003", "work_order_id": "50005"}
    for method, path in routes(walk_api):
        if method not in ("POST", "PATCH", "PUT"):
            continue
        allowed = upload_limit if path == "/uploads" else limit
        r = walk_api.request(method, concrete(path, ids), content=b"{" + b" " * allowed + b"}",
                             headers={"Content-Type": "application/json"})
        envelope(r, 413, "payload_too_large", f"the request body is over this endpoint's limit of {allowed} bytes")
    assert nothing_ran(walk_api)


def test_another_tenants_admin_finds_none_of_this_tenants_resources(walk_api: ApiClient) -> None:
    summit = bearer(token(walk_api, "flows:run", "runs:read", "webhooks:manage", "audit:read", tenant="summit"))
    started = walk_api.post("/flows/echo/runs", headers=summit, json={"vars": {"msg": "summit only"}})
    assert started.status_code == 202, started.text
    run_id = started.json()["run_id"]
    wait_for_run(walk_api, summit, started.headers["Location"], lambda b: b["status"] != "running")
    hook = walk_api.post("/webhooks", headers=summit, json={"url": "http://127.0.0.1:9/summit"})
    assert hook.status_code == 201, hook.text
    tokens = walk_api.app.state.tokens
    raw, _ = tokens.create(["customers:read"], label="summit-user", ttl=timedelta(hours=1), tenant="summit")
    session_id = tokens.open_session(raw, portal_url=SUMMIT, tenant="summit", username="summit-user",
                                     credentials={"sera_username": "summit-user", "sera_password": "pw"})
    ids = {"run_id": run_id, "webhook_id": hook.json()["webhook_id"], "session_id": session_id,
           "name": "report.json"}
    not_found = {"run_id": ("run_not_found", f"no run with id {run_id!r}"),
                 "webhook_id": ("webhook_not_found", f"no webhook {ids['webhook_id']!r}"),
                 "session_id": ("session_not_found", f"no session {session_id!r}")}

    acme_admin = bearer(token(walk_api, "admin", tenant="acme"))
    walked = []
    for method, path in routes(walk_api):
        owned = [k for k in not_found if "{" + k + "}" in path]
        if not owned:
            continue
        r = walk_api.request(method, concrete(path, ids), headers=acme_admin,
                             json={} if method in ("POST", "PATCH") else None)
        envelope(r, 404, *not_found[owned[0]])
        assert "summit only" not in r.text
        walked.append((method, path))
    assert len(walked) == 7, walked  # a run, its evidence list and file, its cancel; a webhook x2; a session
    assert walk_api.get("/webhooks", headers=acme_admin).json() == {"items": []}
    assert walk_api.get("/audit", headers=acme_admin).json()["items"] == []
    # ... and all of it is still there for its owner
    assert walk_api.get(f"/runs/{run_id}", headers=summit).json()["status"] == "passed"
    assert walk_api.get(f"/webhooks/{ids['webhook_id']}", headers=summit).status_code == 200
    assert tokens.session(session_id).ended_at is None


def test_a_request_for_more_scopes_than_its_caller_holds_is_refused(walk_api: ApiClient) -> None:
    caller = bearer(token(walk_api, "sessions:create", "customers:read"))
    body = {"portal_url": ACME, "username": "demo", "password": "pw", "scopes": ["customers:read", "flows:run",
                                                                                 "runs:read"]}
    envelope(walk_api.post("/sessions", json=body, headers=caller), 403, "scope_not_held",
             "a token can grant only scopes it holds; this one lacks flows:run, runs:read")
    assert nothing_ran(walk_api)
