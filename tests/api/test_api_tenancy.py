"""Strangers stay out of the API, and tenants never see each other.

POST /sessions needs an authenticated caller (a token with `sessions:create`, as `robots api token create` mints):
anonymous, it signed in with the operator's stored credentials and handed out every scope. A stored credential is
usable only by a token granted it by name; a `totp_secret_ref` only as the TOTP secret of such a credential; the
new token's scopes are never more than its caller holds; its tenant is the one the operator named for the portal,
never what the body says. Runs, their evidence, cancels, webhooks, sessions and the audit log answer only their
owner (or an admin token of the same tenant): everything else is 404, like a resource that does not exist."""

from __future__ import annotations

import os
import shutil
from collections.abc import Callable
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from api.conftest import ApiClient, bearer, make_client, token  # noqa: F401 - make_client is a fixture
from api.test_contracts import envelope, wait_for_run
from robots.packs.sera.sandbox import credentials

ACME = "https://acme.sera.example"
SUMMIT = "https://summit.sera.example"


@pytest.fixture
def api2(make_client: Callable[..., ApiClient], monkeypatch: pytest.MonkeyPatch) -> ApiClient:  # noqa: F811
    """An API serving two tenants' portals, and the operator's stored credential `sera` in the environment (what
    an anonymous caller could sign in with before). Nothing here signs in: every refusal comes before a browser."""
    for name in [n for n in os.environ if n.startswith("ROBOTS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("ROBOTS_SECRET_SERA_USERNAME", "demo")
    monkeypatch.setenv("ROBOTS_SECRET_SERA_PASSWORD", "operator-password-1")
    monkeypatch.setenv("ROBOTS_SECRET_SERA_TOTP", "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP")
    monkeypatch.setenv("ROBOTS_SECRET_VAULT_KEY_COPY", "a-secret-that-is-no-credential")
    monkeypatch.setenv("ROBOTS_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8")  # the subscription below; nothing listens
    return make_client(portals=(f"acme={ACME}", f"summit={SUMMIT}"))


def no_run_started(client: ApiClient) -> bool:
    home = Path(client.app.state.settings.home)
    return client.app.state.store.list(limit=None) == [] and not (home / "runs").exists()


def test_an_anonymous_caller_cannot_sign_in_with_the_operators_stored_credential(api2: ApiClient) -> None:
    envelope(api2.post("/sessions", json={"portal_url": ACME, "credential": "sera"}), 401, "missing_token",
             "an API token is required: send `Authorization: Bearer <token>`")
    envelope(api2.post("/sessions", json={"portal_url": ACME, "credential": "sera"},
                       headers=bearer("rbt_made-up")), 401, "invalid_token", "the API token is not valid")
    envelope(api2.post("/sessions", json={"portal_url": ACME, "credential": "sera"},
                       headers=bearer(token(api2, "customers:read", "runs:read"))), 403, "missing_scope",
             "this token lacks the scope 'sessions:create'")
    assert no_run_started(api2)


def test_a_stored_credential_is_used_only_by_a_token_granted_it_by_name(api2: ApiClient) -> None:
    admin = bearer(token(api2, "admin"))  # even an admin token: credentials are granted by name
    envelope(api2.post("/sessions", json={"portal_url": ACME, "credential": "sera"}, headers=admin), 403,
             "credential_not_granted", "this token is not granted the stored credential 'sera' (granted: none); "
             "`robots api token create --credential sera` grants it")
    other = bearer(token(api2, "sessions:create", "customers:read", credentials=("other",)))
    envelope(api2.post("/sessions", json={"portal_url": ACME, "credential": "sera"}, headers=other), 403,
             "credential_not_granted", "this token is not granted the stored credential 'sera' (granted: other); "
             "`robots api token create --credential sera` grants it")
    # A totp_secret_ref names only the TOTP secret of a granted credential, never another vault or env secret.
    for ref in ("vault_key_copy", "sera_totp", "other_password"):
        body = {"portal_url": ACME, "username": "demo", "password": "pw",
                "mfa": {"method": "totp", "totp_secret_ref": ref}}
        envelope(api2.post("/sessions", json=body, headers=other), 403, "credential_not_granted",
                 f"totp_secret_ref {ref!r} is not the TOTP secret of a stored credential granted to this token "
                 "(granted: other_totp)")
    assert no_run_started(api2)


def test_a_token_grants_only_scopes_it_holds_and_never_an_operators(api2: ApiClient) -> None:
    caller = bearer(token(api2, "sessions:create", "customers:read", "runs:read"))
    body = {"portal_url": ACME, "username": "demo", "password": "pw"}
    error = envelope(api2.post("/sessions", json={**body, "scopes": ["customers:read", "flows:run"]}, headers=caller),
                     403, "scope_not_held", "a token can grant only scopes it holds; this one lacks flows:run")
    assert error["details"] == {"lacking": ["flows:run"], "held": ["sessions:create", "customers:read", "runs:read"]}
    admin = bearer(token(api2, "admin"))
    for scope in ("admin", "audit:read", "sessions:create"):
        envelope(api2.post("/sessions", json={**body, "scopes": [scope]}, headers=admin), 403, "missing_scope",
                 f"a portal session cannot grant {scope}; use `robots api token create`")
    assert no_run_started(api2)


def test_the_tenant_is_the_portals_never_the_callers_word(api2: ApiClient) -> None:
    body = {"portal_url": ACME, "tenant": "summit", "username": "demo", "password": "pw"}
    error = envelope(api2.post("/sessions", json=body, headers=bearer(token(api2, "admin"))), 422,
                     "tenant_mismatch", f"{ACME} is the portal of tenant 'acme', not 'summit'")
    assert [d["loc"] for d in error["details"]] == [["body", "tenant"]]
    summit_only = bearer(token(api2, "sessions:create", "customers:read", tenant="summit"))
    envelope(api2.post("/sessions", json={**body, "tenant": None}, headers=summit_only), 403, "wrong_tenant",
             "this token belongs to tenant 'summit'; it cannot sign in to tenant 'acme'")
    assert no_run_started(api2)


def test_runs_evidence_and_cancels_answer_only_their_owner_or_their_tenants_admin(api2: ApiClient) -> None:
    summit = bearer(token(api2, "flows:run", "runs:read", tenant="summit"))
    started = api2.post("/flows/echo/runs", headers=summit, json={"vars": {"msg": "summit's customers"}})
    assert started.status_code == 202, started.text
    location = started.headers["Location"]
    run_id = started.json()["run_id"]
    assert wait_for_run(api2, summit, location, lambda b: b["status"] != "running")["outputs"] == {
        "said": "summit's customers"}

    strangers = {
        "another tenant's token": token(api2, "flows:run", "runs:read", tenant="acme"),
        "another tenant's admin": token(api2, "admin", tenant="acme"),
        "another token of the same tenant": token(api2, "flows:run", "runs:read", tenant="summit"),
        "a token of no tenant": token(api2, "flows:run", "runs:read"),
    }
    for who, raw in strangers.items():
        headers = bearer(raw)
        for method, path in (("GET", location), ("GET", f"{location}/evidence"),
                             ("GET", f"{location}/evidence/report.json"), ("DELETE", location)):
            r = api2.request(method, path, headers=headers)
            envelope(r, 404, "run_not_found", f"no run with id {run_id!r}")
            assert "summit's customers" not in r.text, who
    for raw in (token(api2, "admin", tenant="summit"), token(api2, "admin")):  # its tenant's admin; the operator
        assert api2.get(location, headers=bearer(raw)).json()["outputs"] == {"said": "summit's customers"}


def test_webhooks_sessions_and_the_audit_log_stay_within_their_owner_and_tenant(api2: ApiClient) -> None:
    acme = bearer(token(api2, "webhooks:manage", "audit:read", tenant="acme"))
    summit = bearer(token(api2, "webhooks:manage", "audit:read", "flows:run", tenant="summit"))
    hook = api2.post("/webhooks", headers=summit, json={"url": "http://127.0.0.1:9/robots"})
    assert hook.status_code == 201, hook.text
    webhook_id = hook.json()["webhook_id"]
    assert api2.get("/webhooks", headers=acme).json() == {"items": []}
    envelope(api2.get(f"/webhooks/{webhook_id}", headers=acme), 404, "webhook_not_found",
             f"no webhook {webhook_id!r}")
    envelope(api2.delete(f"/webhooks/{webhook_id}", headers=acme), 404, "webhook_not_found",
             f"no webhook {webhook_id!r}")
    assert api2.get(f"/webhooks/{webhook_id}", headers=summit).status_code == 200

    tokens = api2.app.state.tokens
    raw, row = tokens.create(["customers:read"], label="summit-user", ttl=timedelta(hours=1),
                             tenant="summit")
    session_id = tokens.open_session(raw, portal_url=SUMMIT, tenant="summit", username="summit-user",
                                     credentials={"sera_username": "summit-user", "sera_password": "pw"})
    for raw_acme in (token(api2, "admin", tenant="acme"), token(api2, "customers:read", tenant="acme")):
        envelope(api2.delete(f"/sessions/{session_id}", headers=bearer(raw_acme)), 404, "session_not_found",
                 f"no session {session_id!r}")
    assert tokens.session(session_id).ended_at is None

    entries = api2.get("/audit", headers=acme).json()["items"]
    assert entries == [], entries  # summit's webhook entries are not acme's to read
    summit_entries = api2.get("/audit", headers=summit).json()["items"]
    assert [(e["action"], e["tenant"]) for e in summit_entries] == [("webhooks.create", "summit")]


@pytest.mark.browser
def test_a_session_signed_in_through_a_bootstrap_token_holds_the_portals_tenant_and_the_callers_scopes(
        make_client: Callable[..., ApiClient], sandbox: Any, monkeypatch: pytest.MonkeyPatch,  # noqa: F811
        tmp_path: Path) -> None:
    """The whole path with a real sign-in: a bootstrap token granted the credential `sera` opens a session whose
    token holds only the scope the bootstrap token could pass on, in the tenant the operator named. The API's
    library is a copy outside the repository (an installed API's), whose flows still call each other."""
    for name in [n for n in os.environ if n.startswith("ROBOTS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SE_OFFLINE", "true")
    creds = credentials()
    monkeypatch.setenv("ROBOTS_SECRET_SERA_USERNAME", creds["username"])
    monkeypatch.setenv("ROBOTS_SECRET_SERA_PASSWORD", creds["password"])
    monkeypatch.setenv("ROBOTS_SECRET_SERA_TOTP", creds["totp_secret"])
    repo = Path(__file__).resolve().parents[2]
    library = tmp_path / "deployed" / "library"
    shutil.copytree(repo / "flows" / "sera", library / "sera")
    shutil.copytree(repo / "selectors" / "sera", tmp_path / "deployed" / "selectors" / "sera")
    api = make_client(portals=(f"acme={sandbox.url}",), library_dir=library)
    bootstrap = bearer(token(api, "sessions:create", "customers:read", credentials=("sera",)))
    r = api.post("/sessions", json={"portal_url": sandbox.url, "credential": "sera"}, headers=bootstrap)
    assert r.status_code == 201, r.text
    session = r.json()
    assert (session["tenant"], session["scopes"], session["username"]) == ("acme", ["customers:read"], "demo")
    assert api.get("/customers", params={"page_size": 25}, headers=bearer(session["token"])).status_code == 200
    envelope(api.get("/work-orders", headers=bearer(session["token"])), 403, "missing_scope",
             "this token lacks the scope 'work_orders:read'")
