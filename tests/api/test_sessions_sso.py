"""POST /sessions through single sign-on, and the portal role of a session (issue 9), through real Chromium against
the sandbox: an SSO session's reads restore the portal session the identity provider opened (no password sign-in
anywhere), TokenOut reports the portal user's role, and a technician's session reading what only office staff may
see is 403 in the portal's own words."""

from __future__ import annotations

from typing import Any

import httpx
import pytest

from robots.packs.sera.sandbox import users

from .conftest import ApiClient, bearer, operator
from .test_contracts import envelope

pytestmark = pytest.mark.browser


def user(name: str) -> dict[str, Any]:
    return next(u for u in users() if u["username"] == name and u["tenant"] == "acme")


def portal_requests(sandbox: Any) -> list[tuple[str, str]]:
    return [(e["method"], e["path"]) for e in httpx.get(f"{sandbox.url}/_sandbox/requests").json()]


def test_an_sso_session_reads_customers_without_a_password_sign_in(api: ApiClient, sandbox: Any) -> None:
    sage = user("sage")
    r = api.post("/sessions", json={"portal_url": sandbox.url, "tenant": "acme", "username": sage["email"],
                                    "password": sage["password"], "mfa": {"method": "sso"}}, headers=operator(api))
    assert r.status_code == 201, r.text
    session = r.json()
    assert (session["username"], session["role"], session["tenant"]) == ("sage@acme.example.com", "dispatcher",
                                                                         "acme")
    signed_in = portal_requests(sandbox)
    assert ("POST", "/idp/authorize") in signed_in and ("GET", "/sso/callback") in signed_in

    listed = api.get("/customers", params={"q": "Austin", "page_size": 10}, headers=bearer(session["token"]))
    assert listed.status_code == 200, listed.text
    assert len(listed.json()["items"]) == 10 and listed.json()["total_count"] == 896
    requests = portal_requests(sandbox)
    assert ("POST", "/login") not in requests  # no password sign-in, neither at POST /sessions nor for the read
    assert requests.count(("POST", "/idp/authorize")) == 1  # the read restored the SSO session
    store = api.app.state.store
    read = next(r for r in store.list(limit=None) if r.flow_name == "list_customers")
    assert "session restored" in [s.name for s in read.steps]
    assert api.app.state.tokens.session(session["session_id"]).role == "dispatcher"

    # The portal's own 429, still there after the runner's back-off: the API's 429 with the portal's Retry-After.
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "rate_limit", "retry_after": 1,
                                                       "paths": ["/customers"]}).raise_for_status()
    throttled = api.get("/customers", params={"q": "Austin", "page_size": 10}, headers=bearer(session["token"]))
    error = envelope(throttled, 429, "portal_throttled",
                     "the portal kept answering 429 Too many requests to list_customers.yaml steps[1].open "
                     "(3 attempts, waited 2 × 1 s; it asks for 1 s more)")
    assert throttled.headers["Retry-After"] == "1"
    assert (error["details"]["failure_kind"], error["details"]["error_class"]) == ("portal_throttled",
                                                                                   "PortalThrottled")


def test_a_technicians_session_has_its_role_and_is_refused_what_only_office_staff_see(api: ApiClient,
                                                                                       sandbox: Any) -> None:
    r = api.post("/sessions", json={"portal_url": sandbox.url, "username": "tom", "password": user("tom")["password"]},
                 headers=operator(api))
    assert r.status_code == 201, r.text
    assert (r.json()["username"], r.json()["role"]) == ("tom", "technician")
    error = envelope(api.get("/customers", params={"page_size": 10}, headers=bearer(r.json()["token"])), 403,
                     "portal_forbidden", "the portal refused: You don't have permission to view this page.")
    assert error["details"]["run_id"]
    # Signed in again for the same account: the stored portal session is restored, and the role read from the
    # portal's header (the sign-in flow did not run to say it).
    again = api.post("/sessions", json={"portal_url": sandbox.url, "username": "tom",
                                        "password": user("tom")["password"]}, headers=operator(api))
    assert (again.status_code, again.json()["role"]) == (201, "technician"), again.text
    run = api.app.state.store.get(again.json()["run_id"])
    assert "session restored" in [s.name for s in run.steps]
