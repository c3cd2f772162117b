"""The sandbox's single-page front end (/app/, robots/packs/sera/sandbox/spa_api.py): its JSON endpoints give the data
layer's rows and write through it, sign-in follows the portal's rules, every data call waits its seeded latency (seen
in the request log), and in a real headless Chromium the app signs in with a password and a TOTP code, pages the
customer list in place, and saves an edit only when its undo notification closes. One browser for the module."""

from __future__ import annotations

import shutil
import sqlite3
from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pyotp
import pytest
from selenium.common.exceptions import ElementClickInterceptedException, StaleElementReferenceException
from selenium.webdriver.common.by import By
from selenium.webdriver.common.keys import Keys
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.remote.webelement import WebElement
from selenium.webdriver.support.ui import WebDriverWait

from robots.packs.sera.sandbox import SandboxServer, credentials, spa_build

from .helpers import FIXED_NOW, advance_clock, login, plain_chrome, sandbox_now, set_clock, user

XHR = {"X-Requested-With": "XMLHttpRequest"}


def _customer(row: sqlite3.Row) -> dict[str, Any]:
    """A customers row as the app's API gives it (the stored values; tags as a list)."""
    return {**{k: row[k] for k in row.keys() if k != "tags"}, "tags": [t for t in row["tags"].split(",") if t]}


def _app_sign_in(client: httpx.Client, account: dict[str, Any], base: str = "") -> None:
    """Password, then the TOTP code, through the app's JSON endpoints."""
    answer = client.post(base + "/app/api/session", headers=XHR,
                         json={"username": account["username"], "password": account["password"]})  # fmt: skip
    assert answer.json() == {"next": "code", "mfa": "totp", "destination": ""}
    code = pyotp.TOTP(str(account["totp_secret"])).at(sandbox_now(client))
    answer = client.post(base + "/app/api/session/code", headers=XHR, json={"code": code})
    assert answer.status_code == 200, answer.text
    assert answer.json()["user"]["username"] == account["username"]


def _app_requests(client: httpx.Client) -> list[dict[str, Any]]:
    return [e for e in client.get("/_sandbox/requests").json() if e["path"].startswith(("/app", "/t/summit/app"))]


# -- the JSON endpoints, over plain HTTP -----------------------------------------------------------------------


def test_customers_are_the_data_layers_rows_per_tenant(sandbox: SandboxServer, portal: httpx.Client) -> None:
    assert portal.get("/app/api/customers").json() == {"error": "Please sign in to continue.", "signed_out": True}
    _app_sign_in(portal, user("acme", "demo"))
    answer = portal.get("/app/api/customers").json()
    assert sandbox.db_path is not None
    expected = [_customer(r) for r in sandbox.rows("SELECT * FROM customers ORDER BY id")]
    assert answer == {"items": expected, "total": 120}
    assert answer["items"][2]["name"] == "Zoë O'Brien" and answer["items"][2]["balance_cents"] == 123450
    # The other tenant under /t/summit/: its own accounts and rows; acme's session is no session there.
    assert portal.get("/t/summit/app/api/customers").status_code == 401
    _app_sign_in(portal, user("summit", "demo"), "/t/summit")
    summit = portal.get("/t/summit/app/api/customers").json()["items"]
    summit_rows = sandbox.rows("SELECT * FROM customers ORDER BY id", tenant="summit")
    assert summit == [_customer(r) for r in summit_rows] and summit and summit != expected


def test_work_orders_page_and_detail_are_the_data_layers(sandbox: SandboxServer, portal: httpx.Client) -> None:
    _app_sign_in(portal, user("acme", "demo"))
    assert sandbox.db_path is not None
    answer = portal.get("/app/api/work-orders", params={"status": "scheduled", "per_page": 10, "page": 2}).json()
    ids = [r["id"] for r in sandbox.rows("SELECT id FROM work_orders WHERE status = 'scheduled' "
                                         "ORDER BY id DESC")]  # fmt: skip
    assert answer["total"] == len(ids) and answer["page"] == 2 and answer["per_page"] == 10
    assert [w["id"] for w in answer["items"]] == ids[10:20]
    first = answer["items"][0]
    row = sandbox.rows("SELECT w.*, c.name AS customer_name FROM work_orders w JOIN customers c "
                       "ON c.id = w.customer_id WHERE w.id = ?", first["id"])[0]  # fmt: skip
    for key in ("number", "customer_id", "customer_name", "job_type", "priority", "summary", "status",
                "scheduled_start_at", "scheduled_end_at", "total_cents", "location_id", "created_at"):  # fmt: skip
        assert first[key] == row[key], key
    detail = portal.get(f"/app/api/work-orders/{first['id']}").json()
    history = sandbox.rows("SELECT status FROM work_order_history WHERE work_order_id = ? ORDER BY id", first["id"])
    assert [h["status"] for h in detail["history"]] == [h["status"] for h in history]
    assert portal.get("/app/api/work-orders/1").json() == {"error": "There is no work order 1."}


def test_sign_in_rules_and_one_session_for_both_front_ends(sandbox: SandboxServer, portal: httpx.Client) -> None:
    demo = credentials()
    wrong = portal.post("/app/api/session", headers=XHR, json={"username": "demo", "password": "nope"})
    assert (wrong.status_code, wrong.json()) == (401, {"error": "Invalid username or password."})
    unmarked = portal.post("/app/api/session", json={"username": "demo", "password": demo["password"]})
    assert unmarked.status_code == 400  # a plain form post from another site is refused
    assert portal.post("/app/api/session", headers=XHR,
                       json={"username": "demo", "password": demo["password"]}).json()["next"] == "code"  # fmt: skip
    bad = portal.post("/app/api/session/code", headers=XHR, json={"code": "000000"})
    assert (bad.status_code, bad.json()) == (422, {"error": "Invalid verification code."})
    advance_clock(portal, 30)  # past the wrong code's throttle, into the next TOTP window
    code = pyotp.TOTP(demo["totp_secret"]).at(sandbox_now(portal))
    assert portal.post("/app/api/session/code", headers=XHR, json={"code": code}).status_code == 200
    assert portal.get("/customers").status_code == 200  # the classic pages accept the app's session
    advance_clock(portal, 30)  # a TOTP code is taken once: the next window's
    with httpx.Client(base_url=sandbox.url, timeout=10) as classic:
        assert login(classic).status_code == 303  # and the app accepts the classic pages' session
        assert classic.get("/app/api/session").json()["user"]["display_name"] == "Dana Demo"
    assert portal.delete("/app/api/session", headers=XHR).json() == {"ok": True}
    assert portal.get("/app/api/session").json() == {"user": None}


def test_an_edit_writes_through_the_classic_pages_data_layer(sandbox: SandboxServer, portal: httpx.Client) -> None:
    _app_sign_in(portal, user("acme", "demo"))
    edit = {"name": "Zoë O'Brien-Smith", "type": "residential", "email": "zoe@example.com", "phone": "(512) 555-0143",
            "city": "Austin", "state": "tx", "status": "active"}  # fmt: skip
    refused = portal.put("/app/api/customers/1003", headers=XHR, json={**edit, "state": "Texas"})
    assert refused.status_code == 422
    assert refused.json()["errors"] == {"state": "Enter the two-letter state code, e.g. TX."}
    saved = portal.put("/app/api/customers/1003", headers=XHR, json=edit).json()
    assert (saved["name"], saved["state"], saved["phone"]) == ("Zoë O'Brien-Smith", "TX", "5125550143")
    assert portal.get("/_sandbox/writes").json()["writes"]["acme"] == {"customers": 1}
    assert "Zoë O&#39;Brien-Smith" in portal.get("/customers/1003").text  # the server-rendered page sees it
    assert sandbox.db_path is not None
    assert sandbox.rows("SELECT name FROM customers WHERE id = 1003")[0][0] == "Zoë O'Brien-Smith"


def test_every_data_call_waits_its_seeded_latency(sandbox: SandboxServer, portal: httpx.Client) -> None:
    knobs = portal.get("/_sandbox/app").json()
    assert (knobs["latency_ms"], knobs["undo_ms"]) == ([150.0, 400.0], 5000)  # the defaults

    def calls() -> list[float]:
        _app_sign_in(portal, user("acme", "demo"))
        portal.get("/app/api/customers")
        portal.get("/app/api/work-orders")
        portal.get("/customers")  # a server-rendered page: no delay
        log = _app_requests(portal)
        assert [e["path"] for e in log] == ["/app/api/session", "/app/api/session/code", "/app/api/customers",
                                            "/app/api/work-orders"]  # fmt: skip
        return [e["latency_ms"] for e in log]

    first = calls()
    assert all(150 <= ms <= 400 for ms in first) and len(set(first)) == 4
    assert not any("latency_ms" in e for e in portal.get("/_sandbox/requests").json() if e["path"] == "/customers")
    sandbox.reset()
    set_clock(portal, FIXED_NOW)
    portal.cookies.clear()
    assert calls() == first  # seeded: the same calls wait the same after a reset
    changed = portal.post("/_sandbox/app", json={"latency_ms": [0, 5]})
    assert changed.json()["latency_ms"] == [0.0, 5.0]
    portal.get("/app/api/customers")
    assert 0 <= _app_requests(portal)[-1]["latency_ms"] <= 5
    bad = portal.post("/_sandbox/app", json={"latency_ms": "slow"})
    assert bad.json() == {"error": "latency_ms must be a delay in milliseconds, MIN-MAX like 150-400 or one number "
                                   "like 200; got 'slow'"}  # fmt: skip
    assert portal.post("/_sandbox/app", json={"undo_ms": -1}).json() == {
        "error": "undo_ms must be a whole number of milliseconds >= 0; got -1"}
    assert portal.post("/_sandbox/app", json={"undo_ms": 100}).json()["undo_ms"] == 100
    assert portal.get("/app/api/session").json()["undo_ms"] == 100  # the app reads it when it loads
    sandbox.reset()
    assert portal.get("/_sandbox/app").json()["undo_ms"] == 5000
    with pytest.raises(ValueError, match="app_latency must be a delay in milliseconds"):
        SandboxServer(size="small", app_latency="400-150")


def test_a_missing_build_names_the_command_that_builds_it(tmp_path: Path) -> None:
    with SandboxServer(size="small", spa_dir=tmp_path / "nowhere") as server:
        page = httpx.get(server.url + "/app/", timeout=10)
    assert page.status_code == 503
    assert (f"The single-page app is not built: {tmp_path / 'nowhere' / 'index.html'} does not exist. Build it with "
            "scripts/setup.sh") in page.text  # fmt: skip


def test_the_build_is_keyed_by_the_apps_sources_and_lockfile(tmp_path: Path) -> None:
    copy = tmp_path / "spa"
    shutil.copytree(spa_build.SOURCE_DIR, copy, ignore=shutil.ignore_patterns("node_modules", "dist"))
    key = spa_build.source_hash(copy)
    assert key == spa_build.source_hash()
    assert spa_build.build_dir(tmp_path / "cache", copy) == tmp_path / "cache" / f"spa-{key}"
    (copy / "node_modules").mkdir()
    (copy / "node_modules" / "x.js").write_text("x")  # what npm installs is not a source
    assert spa_build.source_hash(copy) == key
    lock = copy / "package-lock.json"
    lock.write_text(lock.read_text() + " ")
    assert spa_build.source_hash(copy) not in (key, "")
    shutil.copyfile(spa_build.SOURCE_DIR / "package-lock.json", lock)
    (copy / "src" / "App.vue").write_text((copy / "src" / "App.vue").read_text().replace("Sign out", "Log out"))
    assert spa_build.source_hash(copy) != key


# -- the app in a real Chromium ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def chrome() -> Iterator[WebDriver]:
    with plain_chrome("sera-sandbox-app-chrome-") as driver:
        yield driver


@pytest.fixture
def app(sandbox: SandboxServer, portal: httpx.Client, chrome: WebDriver) -> WebDriver:
    """Chromium on a reset sandbox with no cookies, at a blank page."""
    chrome.get("about:blank")
    chrome.delete_all_cookies()
    return chrome


def _signed_in(sandbox: SandboxServer, portal: httpx.Client, chrome: WebDriver) -> None:
    """The app's session cookie, from a sign-in over HTTP (the sign-in itself has its own test)."""
    _app_sign_in(portal, user("acme", "demo"))
    chrome.get(sandbox.url + "/app/not-a-page")  # a page of the sandbox's origin, to set its cookie
    chrome.add_cookie({"name": "sera_session", "value": portal.cookies["sera_session"], "path": "/"})


def _until(browser: WebDriver, timeout: float) -> WebDriverWait[WebDriver]:
    """A wait that looks again when an element it read was redrawn meanwhile (the app redraws as data arrives)."""
    return WebDriverWait(browser, timeout, poll_frequency=0.1, ignored_exceptions=(StaleElementReferenceException,))


def _wait(browser: WebDriver, css: str, timeout: float = 15) -> WebElement:
    _until(browser, timeout).until(
        lambda d: any(e.is_displayed() for e in d.find_elements(By.CSS_SELECTOR, css))
    )
    return next(e for e in browser.find_elements(By.CSS_SELECTOR, css) if e.is_displayed())


def _click_text(browser: WebDriver, css: str, text: str, timeout: float = 15) -> None:
    """Click the shown element of `css` whose text is `text`, once it is there and still (lists animate in)."""

    def attempt(d: WebDriver) -> bool:
        found = next((e for e in d.find_elements(By.CSS_SELECTOR, css) if e.text == text and e.is_displayed()), None)
        if found is not None:
            found.click()
        return found is not None

    WebDriverWait(browser, timeout, poll_frequency=0.1,
                  ignored_exceptions=(StaleElementReferenceException, ElementClickInterceptedException)).until(attempt)


def _input(browser: WebDriver, data_cy: str) -> WebElement:
    return _wait(browser, f"[data-cy={data_cy}] input")


def _replace(field: WebElement, text: str) -> None:
    """Select what the field holds and type over it (keys, so the app's v-model sees every change)."""
    field.send_keys(Keys.CONTROL, "a")
    field.send_keys(text)


def _table_numbers(browser: WebDriver) -> list[str]:
    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, "[data-cy=app-customer-number]")]


@pytest.mark.browser
def test_sign_in_with_password_then_a_totp_page_drawn_in_place(sandbox: SandboxServer, portal: httpx.Client,
                                                              app: WebDriver) -> None:  # fmt: skip
    app.get(sandbox.url + "/app/")
    notice = _wait(app, "[data-cy=app-notice-text]")
    assert notice.text == "Please sign in to continue."  # on screen before anything was submitted
    _input(app, "app-username").send_keys("demo")
    _input(app, "app-password").send_keys("not the password")
    app.find_element(By.CSS_SELECTOR, "[data-cy=app-login-submit]").click()
    assert _wait(app, "[data-cy=app-login-error]").text == "Invalid username or password."
    _replace(_input(app, "app-password"), credentials()["password"])
    app.find_element(By.CSS_SELECTOR, "[data-cy=app-login-submit]").click()
    code_field = _input(app, "app-code")
    assert app.current_url.endswith("/app/#/verify")
    code_field.send_keys("123456")
    app.find_element(By.CSS_SELECTOR, "[data-cy=app-verify-submit]").click()
    assert _wait(app, "[data-cy=app-verify-error]").text == "Invalid verification code."
    assert app.current_url.endswith("/app/#/verify")
    assert _input(app, "app-code").get_attribute("value") == "123456"  # the code is kept
    advance_clock(portal, 30)  # past the wrong code's throttle, into the next TOTP window
    _replace(_input(app, "app-code"), pyotp.TOTP(credentials()["totp_secret"]).at(sandbox_now(portal)))
    app.find_element(By.CSS_SELECTOR, "[data-cy=app-verify-submit]").click()
    _wait(app, "[data-cy=app-customer-number]")
    assert app.find_element(By.CSS_SELECTOR, "[data-cy=app-user]").text == "Dana Demo"
    log = _app_requests(portal)
    assert [e["path"] for e in log if e.get("fetch_mode") == "navigate"] == ["/app/"]  # one page load, no more
    assert [(e["method"], e["path"], e["status"]) for e in log if e["path"].startswith("/app/api/session")] == [
        ("GET", "/app/api/session", 200), ("POST", "/app/api/session", 401), ("POST", "/app/api/session", 200),
        ("POST", "/app/api/session/code", 422), ("POST", "/app/api/session/code", 200),
        ("GET", "/app/api/session", 200)]  # fmt: skip


@pytest.mark.browser
def test_customer_pages_are_drawn_in_place(sandbox: SandboxServer, portal: httpx.Client, app: WebDriver) -> None:
    _signed_in(sandbox, portal, app)
    app.get(sandbox.url + "/app/#/customers")
    _wait(app, "[data-cy=app-customer-number]")
    assert sandbox.db_path is not None
    numbers = [r[0] for r in sandbox.rows("SELECT number FROM customers ORDER BY id")]
    assert _table_numbers(app) == numbers[:25]
    table = app.find_element(By.CSS_SELECTOR, "[data-cy=app-customer-table] table")
    app.find_element(By.CSS_SELECTOR, "[data-cy=app-customer-table] button[aria-label='Next page']").click()
    _until(app, 10).until(lambda d: _table_numbers(d)[0] == numbers[25])
    assert _table_numbers(app) == numbers[25:50]
    assert table.is_displayed()  # the same table, its rows redrawn: no page load
    # Rows per page: a Vuetify select whose options open in an overlay.
    app.find_element(By.CSS_SELECTOR, "[data-cy=app-customer-table] .v-data-table-footer__items-per-page "
                                      ".v-field").click()  # fmt: skip
    _click_text(app, ".v-overlay-container [role=option]", "50")
    _until(app, 10).until(lambda d: len(_table_numbers(d)) == 50)
    assert _table_numbers(app) == numbers[:50]  # back to page 1
    # A filter: only the customers on hold (its select is at the top, under the app bar once the page scrolled).
    _choose(app, "app-customer-status", "On Hold")
    on_hold = [r[0] for r in sandbox.rows("SELECT number FROM customers WHERE status = 'on_hold' "
                                          "ORDER BY id")]  # fmt: skip
    _until(app, 10).until(lambda d: _table_numbers(d) == on_hold[:50])
    log = _app_requests(portal)
    assert [e["path"] for e in log if e.get("fetch_mode") == "navigate"] == ["/app/not-a-page", "/app/"]
    assert [e["path"] for e in log].count("/app/api/customers") == 1  # paged, sorted and filtered in the browser


def _edit_name(sandbox: SandboxServer, app: WebDriver, name: str) -> None:
    app.get(sandbox.url + "/app/#/customers/1003/edit")
    _replace(_input(app, "app-customer-form-name"), name)
    app.find_element(By.CSS_SELECTOR, "[data-cy=app-customer-form-save]").click()
    _until(app, 10).until(
        lambda d: d.find_elements(By.CSS_SELECTOR, "[data-cy=app-customer-detail-name]")
        and d.find_element(By.CSS_SELECTOR, "[data-cy=app-customer-detail-name]").text == name
    )


def _stored_name(sandbox: SandboxServer) -> str:
    assert sandbox.db_path is not None
    return str(sandbox.rows("SELECT name FROM customers WHERE id = 1003")[0][0])


@pytest.mark.browser
def test_an_edit_is_saved_when_its_undo_notification_closes(sandbox: SandboxServer, portal: httpx.Client,
                                                            app: WebDriver) -> None:  # fmt: skip
    _signed_in(sandbox, portal, app)
    _edit_name(sandbox, app, "Zoë O'Brien-Undo")
    notice = _wait(app, "[data-cy=app-notice-text]")
    assert notice.text == "Customer updated."
    assert _stored_name(sandbox) == "Zoë O'Brien"  # shown as saved, not saved yet:
    assert notice.is_displayed()  # the undo window was still open after the database was read
    _until(app, 30).until(
        lambda d: not any(e.is_displayed() for e in d.find_elements(By.CSS_SELECTOR, "[data-cy=app-notice-text]"))
    )
    _until(app, 10).until(lambda d: _stored_name(sandbox) == "Zoë O'Brien-Undo")
    assert portal.get("/_sandbox/writes").json()["writes"]["acme"] == {"customers": 1}
    assert "Zoë O&#39;Brien-Undo" in portal.get("/customers/1003").text
    puts = [e for e in _app_requests(portal) if e["method"] == "PUT"]
    assert [(e["path"], e["status"]) for e in puts] == [("/app/api/customers/1003", 200)]


@pytest.mark.browser
def test_an_edit_is_lost_when_the_page_is_left_inside_its_undo_window(sandbox: SandboxServer, portal: httpx.Client,
                                                                      app: WebDriver) -> None:  # fmt: skip
    portal.post("/_sandbox/app", json={"undo_ms": 600_000})  # ten minutes: the page is surely left inside it
    _signed_in(sandbox, portal, app)
    _edit_name(sandbox, app, "Zoë O'Brien-Lost")
    assert _wait(app, "[data-cy=app-notice-text]").text == "Customer updated."
    app.get(sandbox.url + "/customers/1003")  # away, to the server-rendered page, before the notification closed
    assert app.find_element(By.CSS_SELECTOR, "[data-cy=customer-name]").text == "Zoë O'Brien"
    assert _stored_name(sandbox) == "Zoë O'Brien"
    assert [e for e in _app_requests(portal) if e["method"] == "PUT"] == []  # the page that held it is gone
    assert portal.get("/_sandbox/writes").json()["writes"]["acme"] == {}


def _choose(browser: WebDriver, data_cy: str, option: str) -> None:
    """Open a Vuetify select (a combobox) and click one of its options, drawn in an overlay outside the field."""
    browser.execute_script("window.scrollTo(0, 0)")
    _wait(browser, f"[data-cy={data_cy}] .v-field").click()
    _click_text(browser, ".v-overlay-container [role=option]", option)
    _until(browser, 10).until(lambda d: not any(
        e.is_displayed() for e in d.find_elements(By.CSS_SELECTOR, ".v-overlay-container [role=option]")
    ))  # fmt: skip


def _work_order_numbers(browser: WebDriver) -> list[str]:
    return [e.text for e in browser.find_elements(By.CSS_SELECTOR, "[data-cy=app-work-order-number]")]


@pytest.mark.browser
def test_work_orders_by_status_and_a_new_one_from_the_app(sandbox: SandboxServer, portal: httpx.Client,
                                                          app: WebDriver) -> None:  # fmt: skip
    _signed_in(sandbox, portal, app)
    assert sandbox.db_path is not None
    app.get(sandbox.url + "/app/#/work-orders")
    _wait(app, "[data-cy=app-work-order-number]")
    scheduled = [r[0] for r in sandbox.rows("SELECT number FROM work_orders WHERE status = 'scheduled' "
                                            "ORDER BY id DESC")]  # fmt: skip
    _choose(app, "app-work-order-status-filter", "Scheduled")
    _until(app, 15).until(lambda d: _work_order_numbers(d) == scheduled[:25])
    # New work order: a customer from an autocomplete fed by the server, a date-time picker, a number field.
    app.find_element(By.CSS_SELECTOR, "[data-cy=app-work-order-new]").click()
    _input(app, "app-wo-customer").send_keys("O'Br")
    _click_text(app, ".v-overlay-container [role=option]", "Zoë O'Brien (C-100003)")
    location = sandbox.rows("SELECT id, name FROM service_locations WHERE customer_id = 1003")
    assert len(location) == 1  # chosen by itself
    shown = f"Service location\n{location[0]['name']} ·"
    _until(app, 15).until(lambda d: d.find_element(By.CSS_SELECTOR, "[data-cy=app-wo-location]").text.startswith(shown))
    _choose(app, "app-wo-job-type", "Furnace Repair")
    year, month = app.execute_script("const d = new Date(); return [d.getFullYear(), d.getMonth() + 1]")
    year, month = (year + 1, 1) if month == 12 else (year, month + 1)
    _input(app, "app-wo-scheduled").click()
    _wait(app, "[data-cy=app-wo-date-picker] [aria-label='Next month']").click()
    _click_text(app, "[data-cy=app-wo-date-picker] .v-date-picker-month__day button", "12")
    _click_text(app, "[data-cy=app-wo-time-picker] .v-time-picker-clock__item", "10")  # the hour, then the minutes
    _click_text(app, "[data-cy=app-wo-time-picker] .v-time-picker-clock__item", "30")
    app.find_element(By.CSS_SELECTOR, "[data-cy=app-wo-picker-ok]").click()
    assert _input(app, "app-wo-scheduled").get_attribute("value") == f"{month:02d}/12/{year} 10:30 AM"
    _replace(_input(app, "app-wo-duration"), "3")
    app.find_element(By.CSS_SELECTOR, "[data-cy=app-wo-submit]").click()
    number = _wait(app, "[data-cy=app-work-order-detail-number]").text
    row = sandbox.rows("SELECT * FROM work_orders WHERE number = ?", number)[0]
    start = datetime(year, month, 12, 10, 30, tzinfo=ZoneInfo("America/Chicago")).astimezone(UTC)
    assert (row["customer_id"], row["location_id"], row["job_type"], row["status"]) == (
        1003, location[0]["id"], "Furnace Repair", "scheduled")
    assert (row["scheduled_start_at"], row["scheduled_end_at"]) == (
        f"{start:%Y-%m-%dT%H:%M:%SZ}", f"{start + timedelta(hours=3):%Y-%m-%dT%H:%M:%SZ}")
    assert _wait(app, "[data-cy=app-notice-text]").text == f"Work order {number} created."
    assert portal.get("/_sandbox/writes").json()["writes"]["acme"] == {"work_orders": 1}
    assert number in portal.get(f"/jobs/{row['id']}").text  # the classic page has it
    calls = [e for e in _app_requests(portal) if e["path"].startswith("/app/api/")]
    assert calls and all(150 <= e["latency_ms"] <= 400 for e in calls)  # every data call waited


@pytest.mark.browser
def test_what_a_robot_meets_in_a_stock_vuetify_app(sandbox: SandboxServer, portal: httpx.Client,
                                                   app: WebDriver) -> None:  # fmt: skip
    """A spinner only for a slow load, gone when the data came; a v-model input that WebElement.clear() empties on
    screen only; selects that are ARIA comboboxes whose options are drawn in an overlay outside the field."""
    _signed_in(sandbox, portal, app)
    portal.post("/_sandbox/app", json={"latency_ms": [1500, 1500]})
    app.get(sandbox.url + "/app/#/customers/1003/edit")
    _wait(app, "[data-cy=app-loading]")  # a load slower than the spinner's delay
    name = _input(app, "app-customer-form-name")
    _until(app, 15).until(lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-cy=app-loading]"))
    assert name.get_attribute("value") == "Zoë O'Brien"
    name.clear()
    assert name.get_attribute("value") == ""  # empty on screen, but not in the app's state:
    name.send_keys("Zoe")
    assert name.get_attribute("value") == "Zoë O'BrienZoe"
    field = app.find_element(By.CSS_SELECTOR, "[data-cy=app-customer-form-status] [role=combobox]")
    assert field.get_attribute("aria-expanded") == "false"
    assert app.find_elements(By.CSS_SELECTOR, "[data-cy=app-customer-form-status] [role=option]") == []
    field.click()
    _until(app, 10).until(lambda d: field.get_attribute("aria-expanded") == "true")
    listbox = _wait(app, f"#{field.get_attribute('aria-controls')} [role=listbox]")
    assert [e.text for e in listbox.find_elements(By.CSS_SELECTOR, "[role=option]")] == ["Active", "Inactive",
                                                                                          "On Hold"]  # fmt: skip
    assert app.find_elements(By.CSS_SELECTOR, "[data-cy=app-customer-form-status] [role=option]") == []
