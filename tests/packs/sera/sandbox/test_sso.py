"""Single sign-on through the mock identity provider ("Northwind Identity") on the same server."""

from __future__ import annotations

import re
from urllib.parse import parse_qs, urlsplit

import httpx
import pytest

from robots.packs.sera.sandbox import SandboxServer


@pytest.fixture(scope="module")
def server():
    with SandboxServer(size="small") as s:
        yield s


@pytest.fixture
def client(server):
    server.reset()
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=10) as c:
        yield c


def _to_idp(client: httpx.Client, start: str = "/sso/start?next=/customers") -> tuple[str, dict[str, str]]:
    r = client.get(start)
    assert r.status_code == 303
    location = r.headers["location"]
    assert location.startswith("/idp/authorize?")
    page = client.get(location)
    assert page.status_code == 200 and 'data-cy="idp-form"' in page.text
    fields = dict(re.findall(r'name="(state|redirect_uri)" value="([^"]+)"', page.text))
    return location, fields


def test_login_page_offers_sso(client):
    page = client.get("/login")
    assert 'data-cy="login-sso"' in page.text and "Sign in with SSO" in page.text


def test_sso_signs_in_and_returns_to_next(client):
    _, fields = _to_idp(client)
    r = client.post("/idp/authorize", data={**fields, "email": "Sage@acme.example.com",
                                             "password": "Northwind SSO 2026!"})
    assert r.status_code == 303
    back = r.headers["location"]
    assert back.startswith(f"{client.base_url}/sso/callback?")
    done = client.get(back)
    assert (done.status_code, done.headers["location"]) == (303, "/customers")
    page = client.get("/customers")
    assert page.status_code == 200 and 'data-cy="user-name">Sage Single<' in page.text
    # the code is one-use
    client.cookies.clear()
    replay = client.get(back)
    assert replay.status_code == 200 and "Single sign-on did not complete. Please try again." in replay.text


def test_wrong_idp_password_stays_at_the_idp(client):
    _, fields = _to_idp(client)
    r = client.post("/idp/authorize", data={**fields, "email": "sage@acme.example.com", "password": "nope"})
    assert r.status_code == 200 and 'data-cy="idp-error">Incorrect e-mail or password.<' in r.text


def test_a_password_user_cannot_use_sso(client):
    _, fields = _to_idp(client)
    r = client.post("/idp/authorize", data={**fields, "email": "dana.demo@acme.example.com",
                                             "password": "Demo pass&<>\"'%+ 2026"})
    assert 'data-cy="idp-error"' in r.text


def test_a_tampered_code_or_a_wrong_state_is_refused(client):
    _, fields = _to_idp(client)
    r = client.post("/idp/authorize", data={**fields, "email": "sage@acme.example.com",
                                             "password": "Northwind SSO 2026!"})
    query = parse_qs(urlsplit(r.headers["location"]).query)
    code, state = query["code"][0], query["state"][0]
    bad_state = client.get("/sso/callback", params={"code": code, "state": state + "x"})
    assert "Single sign-on did not complete." in bad_state.text
    tampered = client.get("/sso/callback", params={"code": code[:-4] + "AAAA", "state": state})
    assert "Single sign-on did not complete." in tampered.text
    assert client.get("/customers").status_code == 303  # still signed out


def test_an_expired_code_is_refused(client):
    _, fields = _to_idp(client)
    r = client.post("/idp/authorize", data={**fields, "email": "sage@acme.example.com",
                                             "password": "Northwind SSO 2026!"})
    client.post("/_sandbox/clock", json={"advance": 120})
    late = client.get(r.headers["location"])
    assert late.status_code == 200 and "Single sign-on did not complete." in late.text
