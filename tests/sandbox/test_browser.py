"""The sandbox in a real headless Chromium: the script-drawn schedule board, the modal that covers the page,
and the default flow's selectors on layout B. One browser for the module."""

from __future__ import annotations

import os
import tempfile
from collections.abc import Iterator

import httpx
import pytest
from selenium import webdriver
from selenium.common.exceptions import ElementClickInterceptedException
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.common.by import By
from selenium.webdriver.remote.webdriver import WebDriver
from selenium.webdriver.support.ui import WebDriverWait

from robots.sandbox import SandboxServer

from .helpers import FIXED_NOW, login, set_clock

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def chrome() -> Iterator[WebDriver]:
    os.environ.setdefault("SE_OFFLINE", "true")
    with tempfile.TemporaryDirectory(prefix="sera-sandbox-chrome-") as profile:
        options = webdriver.ChromeOptions()
        options.binary_location = "/usr/bin/chromium"
        for flag in ("--headless=new", "--no-sandbox", "--disable-dev-shm-usage", "--disable-gpu",
                     "--disable-background-networking", "--disable-component-update", "--disable-sync",
                     "--no-first-run", f"--user-data-dir={profile}", "--window-size=1280,900"):  # fmt: skip
            options.add_argument(flag)
        driver = webdriver.Chrome(options=options, service=Service(executable_path="/usr/bin/chromedriver"))
        try:
            yield driver
        finally:
            driver.quit()


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
