"""The sandbox in a real headless Chromium: the script-drawn schedule board, the modal that covers the page,
and the default flow's selectors on layout B; the back-office forms (typeahead XHR, lines added by script,
validation errors, a confirm dialog), an upload's checksum, an iframe and a print window. One browser for the
module."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import Select, WebDriverWait

from robots.packs.sera.sandbox import SandboxServer

from .helpers import FIXED_NOW, login, plain_chrome, set_clock

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chrome() -> Iterator[WebDriver]:
    with plain_chrome("sera-sandbox-chrome-") as driver:
        yield driver


@pytest.fixture
def browser(sandbox: SandboxServer, chrome: WebDriver) -> WebDriver:
    """Chromium signed in as the demo user (the session cookie is taken from an HTTP sign-in)."""
    sandbox.reset()
    with httpx.Client(base_url=sandbox.url, timeout=10) as client:
        set_clock(client, FIXED_NOW)
        login(client)
        cookie = client.cookies["sera_session"]
    chrome.delete_all_cookies()
    chrome.get(sandbox.url + "/login")
    chrome.add_cookie({"name": "sera_session", "value": cookie, "path": "/"})
    return chrome


def test_the_schedule_board_appears_only_after_its_xhr(sandbox: SandboxServer, browser: WebDriver) -> None:
    httpx.post(sandbox.url + "/_sandbox/faults", json={"name": "latency", "ms": 800, "paths": ["/api/"]})
    browser.get(sandbox.url + "/dispatch/board?date=2026-03-02")
    board = browser.find_element(By.CSS_SELECTOR, "[data-cy=schedule-board]")
    assert board.get_attribute("aria-busy") == "true"
    assert browser.find_elements(By.CSS_SELECTOR, "[data-cy=schedule-appointment]") == []
    WebDriverWait(browser, 10, poll_frequency=0.1).until(
        lambda d: d.find_element(By.CSS_SELECTOR, "[data-cy=schedule-board]").get_attribute("data-loaded") == "true"
    )
    assert browser.find_element(By.CSS_SELECTOR, "[data-cy=schedule-date]").text == "Monday, March 2, 2026"
    drawn = len(browser.find_elements(By.CSS_SELECTOR, "[data-cy=schedule-appointment]"))
    technicians = [e.text for e in browser.find_elements(By.CSS_SELECTOR, "[data-cy=schedule-technician]")]
    assert technicians == ["Marcus Reyes", "Tara Nguyen", "Luis Ortega", "Kim Patel", "Dwayne Brooks"]
    browser.get(sandbox.url + "/dispatch?date=2026-03-02")
    assert drawn == len(browser.find_elements(By.CSS_SELECTOR, "[data-cy=dispatch-appointment]")) > 0


def test_the_whats_new_modal_blocks_clicks_until_closed(sandbox: SandboxServer, browser: WebDriver) -> None:
    httpx.post(sandbox.url + "/_sandbox/faults", json={"name": "whats_new"})
    browser.get(sandbox.url + "/dispatch")
    assert browser.find_element(By.CSS_SELECTOR, "[data-cy=whats-new-modal]").is_displayed()
    with pytest.raises(ElementClickInterceptedException):
        browser.find_element(By.CSS_SELECTOR, "[data-cy=nav-customers]").click()
    browser.find_element(By.CSS_SELECTOR, "[data-cy=whats-new-close]").click()
    WebDriverWait(browser, 5, poll_frequency=0.1).until(
        lambda d: not d.find_elements(By.CSS_SELECTOR, "[data-cy=whats-new-modal]")
    )
    browser.find_element(By.CSS_SELECTOR, "[data-cy=nav-customers]").click()
    WebDriverWait(browser, 5, poll_frequency=0.1).until(lambda d: d.current_url.endswith("/customers"))
    browser.get(sandbox.url + "/dispatch")  # dismissed for good
    assert browser.find_elements(By.CSS_SELECTOR, "[data-cy=whats-new-modal]") == []


def _wait(browser: WebDriver, css: str, timeout: float = 10) -> None:
    WebDriverWait(browser, timeout, poll_frequency=0.1).until(lambda d: d.find_elements(By.CSS_SELECTOR, css))


def _writes(sandbox: SandboxServer) -> dict[str, int]:
    result: dict[str, int] = httpx.get(sandbox.url + "/_sandbox/writes").json()["writes"]["acme"]
    return result


def test_new_work_order_form_with_typeahead_and_script_added_lines(sandbox: SandboxServer, browser: WebDriver) -> None:
    browser.get(sandbox.url + "/jobs/new")
    browser.find_element(By.CSS_SELECTOR, "[data-cy=job-customer-search]").send_keys("O'Brien")
    _wait(browser, "[data-cy=job-customer-option][data-id='1003']")  # drawn from the XHR's JSON
    browser.find_element(By.CSS_SELECTOR, "[data-cy=job-customer-option][data-id='1003']").click()
    _wait(browser, "[data-cy=job-location][data-loaded=true]")
    for query in ("Diagnostic Visit", "AC Tune-Up"):
        browser.find_element(By.CSS_SELECTOR, "[data-cy=line-search]").send_keys(query)
        _wait(browser, "[data-cy=line-search-result]")
        browser.find_element(By.CSS_SELECTOR, "[data-cy=line-search-result]").click()
    rows = browser.find_elements(By.CSS_SELECTOR, "[data-cy=job-form-line]")
    assert len(rows) == 2
    rows[1].find_element(By.CSS_SELECTOR, "[data-cy=job-form-line-quantity]").clear()
    rows[1].find_element(By.CSS_SELECTOR, "[data-cy=job-form-line-quantity]").send_keys("2")
    shown_total = browser.find_element(By.CSS_SELECTOR, "[data-cy=job-form-total]").text
    assert shown_total.startswith("$") and shown_total != "$0.00"
    Select(browser.find_element(By.CSS_SELECTOR, "[data-cy=job-form-type]")).select_by_visible_text("AC Tune-Up")
    browser.find_element(By.CSS_SELECTOR, "[data-cy=job-form-date]").send_keys("03/05/2026")
    browser.find_element(By.CSS_SELECTOR, "[data-cy=job-form-time]").send_keys("10:00 AM")
    browser.find_element(By.CSS_SELECTOR, "[data-cy=job-form-submit]").click()
    _wait(browser, "[data-cy=job-notice], [data-cy=form-errors]")
    errors = [e.text for e in browser.find_elements(By.CSS_SELECTOR, ".field-error")]
    assert errors == []
    assert browser.find_element(By.CSS_SELECTOR, "[data-cy=job-status]").text == "Scheduled"
    assert len(browser.find_elements(By.CSS_SELECTOR, "[data-cy=job-line-item]")) == 2
    assert browser.find_element(By.CSS_SELECTOR, "[data-cy=job-grand-total]").text == shown_total
    assert _writes(sandbox) == {"work_orders": 1}


def test_membership_form_shows_errors_then_saves(sandbox: SandboxServer, browser: WebDriver) -> None:
    browser.get(sandbox.url + "/customers/1003")
    browser.find_element(By.CSS_SELECTOR, "[data-cy=customer-new-membership]").click()
    _wait(browser, "[data-cy=membership-form]")
    browser.find_element(By.CSS_SELECTOR, "[data-cy=membership-autopay]").click()
    browser.find_element(By.CSS_SELECTOR, "[data-cy=membership-submit]").click()
    _wait(browser, "[data-cy=error-program_id]")
    assert browser.find_element(By.CSS_SELECTOR, "[data-cy=error-payment_method_ref]").text.startswith("Autopay needs")
    Select(browser.find_element(By.CSS_SELECTOR, "[data-cy=membership-program]")).select_by_value("2")
    Select(browser.find_element(By.CSS_SELECTOR, "[data-cy=membership-cadence]")).select_by_value("monthly")
    browser.find_element(By.CSS_SELECTOR, "[data-cy=membership-price]").send_keys("17.95")
    browser.find_element(By.CSS_SELECTOR, "[data-cy=membership-payment-method]").send_keys("pm_Browser1234")
    browser.find_element(By.CSS_SELECTOR, "[data-cy=membership-submit]").click()
    _wait(browser, "[data-cy=membership-notice]")
    assert browser.find_element(By.CSS_SELECTOR, "[data-cy=membership-price]").text == "$17.95"
    assert browser.find_element(By.CSS_SELECTOR, "[data-cy=membership-autopay]").text == "On"


def test_void_an_invoice_through_its_confirm_dialog(sandbox: SandboxServer, browser: WebDriver) -> None:
    browser.get(sandbox.url + "/invoices?status=finalized")
    browser.find_element(By.CSS_SELECTOR, "[data-cy=invoice-link]").click()
    _wait(browser, "[data-cy=invoice-void]")
    assert not browser.find_element(By.CSS_SELECTOR, "[data-cy=void-dialog]").is_displayed()
    browser.find_element(By.CSS_SELECTOR, "[data-cy=invoice-void]").click()
    browser.find_element(By.CSS_SELECTOR, "[data-cy=void-reason]").send_keys("Entered twice")
    browser.find_element(By.CSS_SELECTOR, "[data-cy=void-confirm]").click()
    browser.find_element(By.CSS_SELECTOR, "[data-cy=void-submit]").click()
    _wait(browser, "[data-cy=invoice-notice]")
    assert browser.find_element(By.CSS_SELECTOR, "[data-cy=invoice-status]").text == "Voided"


def test_upload_checksum_iframe_viewer_and_print_window(sandbox: SandboxServer, browser: WebDriver,
                                                       tmp_path: Path) -> None:  # fmt: skip
    sample = tmp_path / "gauge-readings.txt"
    sample.write_text("Suction 118 psi\nLiquid 350 psi\n", encoding="utf-8")
    digest = hashlib.sha256(sample.read_bytes()).hexdigest()
    browser.get(sandbox.url + "/jobs?status=completed")
    browser.find_element(By.CSS_SELECTOR, "[data-cy=job-row] a").click()
    _wait(browser, "[data-cy=attachment-file]")
    browser.find_element(By.CSS_SELECTOR, "[data-cy=attachment-file]").send_keys(str(sample))
    browser.find_element(By.CSS_SELECTOR, "[data-cy=attachment-submit]").click()
    _wait(browser, "[data-cy=upload-sha256]")
    assert browser.find_element(By.CSS_SELECTOR, "[data-cy=upload-sha256]").text == digest
    assert browser.find_elements(By.CSS_SELECTOR, "[data-cy=viewer-file-sha256]") == []  # inside the iframe
    browser.switch_to.frame(browser.find_element(By.CSS_SELECTOR, "iframe[data-cy=attachment-viewer]"))
    try:
        _wait(browser, "[data-cy=viewer-file-sha256]")
        assert browser.find_element(By.CSS_SELECTOR, "[data-cy=viewer-file-sha256]").text == digest
        assert "Suction 118 psi" in browser.find_element(By.CSS_SELECTOR, "[data-cy=viewer-preview]").text
    finally:
        browser.switch_to.default_content()
    main = browser.current_window_handle
    number = browser.find_element(By.CSS_SELECTOR, "[data-cy=job-number]").text
    browser.find_element(By.CSS_SELECTOR, "[data-cy=job-print]").click()
    WebDriverWait(browser, 10, poll_frequency=0.1).until(lambda d: len(d.window_handles) == 2)
    popup = next(h for h in browser.window_handles if h != main)
    browser.switch_to.window(popup)
    try:
        _wait(browser, "[data-cy=print-number]")
        assert browser.find_element(By.CSS_SELECTOR, "[data-cy=print-number]").text == number
        assert browser.find_elements(By.CSS_SELECTOR, "[data-cy=print-line-item]")
    finally:
        browser.close()
        browser.switch_to.window(main)
