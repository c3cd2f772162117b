"""Two tenants behind one sandbox: picked by a /t/{tenant} prefix or the Host header, never sharing data,
users or sessions; unprefixed URLs serve acme as they always did."""

from __future__ import annotations

import httpx

from robots.packs.sera.sandbox import SandboxServer

from .helpers import login, login_as, soup, text_of, user


def names(response: httpx.Response) -> list[str]:
    return [a.get_text() for a in soup(response).select("tbody tr td a[href*='/customers/']")]


def test_each_tenant_has_its_own_data(portal: httpx.Client) -> None:
    assert portal.get("/_sandbox/stats", params={"tenant": "summit"}).json() == {"customers": 40, "seed": 1234,
                                                                                  "size": "small"}  # fmt: skip
    login(portal)
    login_as(portal, user("summit", "demo"), base="/t/summit")
    acme, summit = portal.get("/customers/1003"), portal.get("/t/summit/customers/1003")
    assert text_of(acme, "customer-name") == "Zoë O'Brien"
    assert text_of(summit, "customer-name") not in (None, "Zoë O'Brien")
    assert text_of(summit, "tenant-name") == "Summit Air & Plumbing"
    listed = portal.get("/t/summit/customers")
    assert text_of(listed, "pagination-summary") == "Showing 1–40 of 40 customers"
    assert not set(names(listed)) & set(names(portal.get("/customers", params={"page_size": 100})))
    links = [a["href"] for a in soup(listed).select("a[href]") if a["href"] != "#"]
    assert links and all(str(h).startswith("/t/summit/") for h in links)


def test_users_and_sessions_never_cross_tenants(portal: httpx.Client) -> None:
    login(portal)  # acme's demo
    response = portal.get("/t/summit/customers")
    assert response.headers["location"] == "/t/summit/login?next=/customers"
    summit_demo = user("summit", "demo")
    assert login_as(portal, summit_demo, base="/t/summit").headers["location"] == "/t/summit/dispatch"
    assert text_of(portal.get("/t/summit/dispatch"), "user-name") == "Sam Summit"
    assert text_of(portal.get("/dispatch"), "user-name") == "Dana Demo"
    portal.cookies.clear()
    wrong = portal.post("/t/summit/login", data={"username": "demo", "password": user("acme", "demo")["password"]})
    assert wrong.status_code == 200


def test_the_host_header_picks_the_tenant(sandbox: SandboxServer, portal: httpx.Client) -> None:
    with httpx.Client(base_url=sandbox.url, headers={"Host": f"summit.localhost:{sandbox.port}"}) as host:
        login_as(host, user("summit", "hank"))
        page = host.get("/dispatch")
        assert text_of(page, "tenant-name") == "Summit Air & Plumbing" and text_of(page, "user-name") == "Hank Olsen"
        assert soup(page).select_one("a[data-cy=nav-dispatch]")["href"] == "/dispatch"  # type: ignore[index]
    log = portal.get("/_sandbox/requests").json()
    assert {e["tenant"] for e in log if e["path"] == "/dispatch"} == {"summit"}


def test_an_unknown_tenant_is_the_404_page(portal: httpx.Client) -> None:
    page = portal.get("/t/nowhere/login")
    assert page.status_code == 404 and text_of(page, "error-title") == "Page not found"
