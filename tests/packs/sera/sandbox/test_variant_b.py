"""Layout variant B (docs/CONTRACTS.md C6): on B's HTML the first candidate of every selector in selectors/sera/
matches nothing while a later candidate still matches; on the default layout the first candidate matches.

CSS is evaluated by soupsieve (BeautifulSoup's engine) and XPath by lxml, from the same WebDriver form that
robots.locators gives Selenium.
"""

from __future__ import annotations

from pathlib import Path

import httpx
import lxml.html
import pytest
import yaml
from bs4 import BeautifulSoup

from robots.locators import parse_locator
from robots.packs.sera.sandbox import users

from .helpers import advance_clock, login, submit_password

CATALOG = Path(__file__).resolve().parents[4] / "selectors" / "sera"

def matches(html: str, candidate: str) -> int:
    by, value = parse_locator(candidate).webdriver()
    if by == "css selector":
        return len(BeautifulSoup(html, "html.parser").select(value))
    return len(lxml.html.fromstring(html).xpath(value))


#: the pages of the read flows' catalogs (flows/sera/), by catalog name
READ_PAGES = {
    "customer": "/customers/1003", "jobs": "/jobs", "job": "/jobs/50005", "schedule": "/dispatch/board",
    "pricebook": "/pricebook", "estimates": "/estimates", "invoices": "/invoices", "payments": "/payments",
    "memberships": "/memberships", "programs": "/memberships/programs", "users": "/settings/users",
    "pager": "/invoices",
}


def pages(client: httpx.Client) -> dict[str, str]:
    """The HTML each catalog describes, in whatever layout is switched on (errors shown, so they exist)."""
    login_error = submit_password(client, password="wrong").text
    client.cookies.clear()
    # an SMS account's MFA page: it also shows where the code went and the resend control
    _password(client, "dina")
    mfa_error = client.post("/mfa", data={"code": "000000"}).text
    client.cookies.clear()
    advance_clock(client, 30)  # a fresh TOTP window: each code signs in once
    login(client)
    customers = client.get("/customers").text
    reads = {page: client.get(path).text for page, path in READ_PAGES.items()}
    writes = write_pages(client)
    files = membership_and_file_pages(client)
    client.cookies.clear()
    return {"login": login_error, "mfa": mfa_error, "nav": customers, "customers": customers, **reads, **writes,
            **files, **sign_in_pages(client)}


def membership_and_file_pages(client: httpx.Client) -> dict[str, str]:
    """The membership form submitted empty (its field errors shown), a new membership's page, a work order's page
    after a refused (empty) upload, and the attachment viewer listing a file."""
    path = "/customers/1003/memberships/new"
    token = BeautifulSoup(client.get(path).text, "html.parser").select_one("input[name=csrf_token]")
    assert token is not None
    empty = client.post(path, data={"csrf_token": token["value"]})
    assert empty.status_code == 422
    made = client.post(path, data={"csrf_token": token["value"], "program_id": "1", "cadence": "monthly",
                                   "interval_count": "1", "price": "19.00", "start_date": "03/02/2026"})  # fmt: skip
    assert made.status_code == 303
    job = BeautifulSoup(client.get("/jobs/50005").text, "html.parser").select_one(
        "form[enctype='multipart/form-data'] input[name=csrf_token]")
    assert job is not None
    sent = client.post("/jobs/50005/attachments", data={"csrf_token": job["value"]},
                       files={"file": ("notes.txt", b"coil cleaned\n", "text/plain")})  # fmt: skip
    assert sent.status_code == 303
    return {"membership_form": empty.text, "membership": client.get(made.headers["location"]).text,
            "attachment_form": client.get("/jobs/50005?upload_error=empty").text,
            "attachments": client.get("/jobs/50005/attachments/viewer").text}


def write_pages(client: httpx.Client) -> dict[str, str]:
    """The write flows' forms, each submitted empty once so that their error messages show."""
    form = BeautifulSoup(client.get("/customers/new").text, "html.parser").select_one("input[name=csrf_token]")
    assert form is not None
    refused = client.post("/customers/new", data={"csrf_token": form["value"], "type": "residential"})
    assert refused.status_code == 422
    invoice = BeautifulSoup(client.get("/invoices/300001").text, "html.parser").select_one("input[name=csrf_token]")
    assert invoice is not None
    not_voided = client.post("/invoices/300001/void", data={"csrf_token": invoice["value"]})
    assert not_voided.status_code == 422
    job = BeautifulSoup(client.get("/jobs/50009").text, "html.parser").select_one("input[name=csrf_token]")
    assert job is not None
    illegal = client.post("/jobs/50009/status", data={"csrf_token": job["value"], "status": "completed"})
    assert illegal.status_code == 409
    pay = BeautifulSoup(client.get("/invoices/300004/payments/new").text, "html.parser").select_one(
        "input[name=csrf_token]")
    assert pay is not None
    no_amount = client.post("/invoices/300004/payments/new", data={"csrf_token": pay["value"], "method": "cash"})
    assert no_amount.status_code == 422
    return {"customer_form": refused.text, "invoice": not_voided.text, "job_status": illegal.text,
            "payment_form": no_amount.text, **work_order_pages(client)}


def work_order_pages(client: httpx.Client) -> dict[str, str]:
    """The new-work-order form refused with a line item on it (no job type), and a work order's technician forms
    after a refused second lead."""
    new = BeautifulSoup(client.get("/jobs/new?customer_id=1003").text, "html.parser").select_one(
        "input[name=csrf_token]")
    assert new is not None
    no_type = client.post("/jobs/new", data={"csrf_token": new["value"], "customer_id": "1003", "location_id": "7061",
                                             "line_item_id": "1", "line_quantity": "2", "line_price": "150.00"})
    assert no_type.status_code == 422
    job = BeautifulSoup(client.get("/jobs/50009").text, "html.parser").select_one("input[name=csrf_token]")
    assert job is not None
    second_lead = client.post("/jobs/50009/assignments", data={"csrf_token": job["value"], "technician_id": "1",
                                                               "role": "lead"})
    assert second_lead.status_code == 409
    return {"work_order_form": no_type.text, "job_assign": second_lead.text}


def _password(client: httpx.Client, username: str) -> None:
    user = next(u for u in users() if u["username"] == username and u["tenant"] == "acme")
    token = BeautifulSoup(client.get("/login").text, "html.parser").select_one("input[name=csrf_token]")
    assert token is not None
    client.post("/login", data={"username": username, "password": user["password"], "csrf_token": token["value"]})


def sign_in_pages(client: httpx.Client) -> dict[str, str]:
    """The identity provider after a refused password, the password-expired, new-device, maintenance and 429 pages."""
    idp = client.get(client.get("/sso/start").headers["location"])
    assert idp.status_code == 200
    form = BeautifulSoup(idp.text, "html.parser")
    fields = {f["name"]: f.get("value", "") for f in form.select("form input[type=hidden]")}
    idp_error = client.post("/idp/authorize", data={**fields, "email": "sage@acme.example.com", "password": "no"})
    _password(client, "pat")
    expired = client.get("/password-expired")
    client.cookies.clear()
    _password(client, "nora")
    device = client.get("/device-check")
    client.cookies.clear()
    client.post("/_sandbox/faults", json={"name": "maintenance"}).raise_for_status()
    down = client.get("/customers")
    client.delete("/_sandbox/faults/maintenance").raise_for_status()
    assert (idp_error.status_code, expired.status_code, device.status_code, down.status_code) == (200, 200, 200, 503)
    client.post("/_sandbox/faults", json={"name": "rate_limit", "retry_after": 2}).raise_for_status()
    throttled = client.get("/customers")
    client.delete("/_sandbox/faults/rate_limit").raise_for_status()
    assert throttled.status_code == 429
    return {"idp": idp_error.text, "password": expired.text, "device": device.text, "maintenance": down.text,
            "throttled": throttled.text}


def catalog() -> list[tuple[str, str, list[str]]]:
    entries = []
    for path in sorted(CATALOG.glob("*.yaml")):
        for name, candidates in (yaml.safe_load(path.read_text()) or {}).items():
            entries.append((path.stem, name, list(candidates)))
    return entries


@pytest.fixture
def both_layouts(portal: httpx.Client) -> dict[str, dict[str, str]]:
    default = pages(portal)
    portal.cookies.clear()
    portal.post("/_sandbox/faults", json={"name": "layout_b"}).raise_for_status()
    return {"a": default, "b": pages(portal)}


def test_the_catalog_is_not_empty() -> None:
    assert len(catalog()) >= 10


def test_every_first_choice_selector_breaks_under_b_and_a_fallback_still_matches(
    both_layouts: dict[str, dict[str, str]],
) -> None:
    problems = []
    for page, name, candidates in catalog():
        if page not in both_layouts["a"]:
            problems.append(f"{page}.yaml: no sandbox page known for this catalog; teach test_variant_b.pages()")
            continue
        a, b = both_layouts["a"][page], both_layouts["b"][page]
        first, later = candidates[0], candidates[1:]
        if not matches(a, first):
            problems.append(f"{page}.{name}: first candidate {first} matches nothing on the default layout")
        if matches(b, first):
            problems.append(f"{page}.{name}: first candidate {first} still matches under B")
        if not any(matches(b, c) for c in later):
            problems.append(f"{page}.{name}: no later candidate of {later} matches under B")
    assert problems == []


def test_b_keeps_the_data_the_same(both_layouts: dict[str, dict[str, str]]) -> None:
    def rows(html: str) -> dict[str, dict[str, str]]:
        table = BeautifulSoup(html, "html.parser").select_one("main table")
        assert table is not None
        headers = [th.get_text(strip=True) for th in table.select("thead th")]
        return {
            str(tr["data-id"]): dict(zip(headers, (td.get_text(strip=True) for td in tr.select("td")), strict=True))
            for tr in table.select("tbody tr")
        }

    a, b = rows(both_layouts["a"]["customers"]), rows(both_layouts["b"]["customers"])
    assert a == b and len(a) == 50
    assert list(next(iter(a.values()))) != list(next(iter(b.values())))  # same cells, other column order
