"""Helpers for the sandbox tests: a browser-like sign-in over plain HTTP, the sandbox clock, and a plain headless
Chromium (Selenium itself, not robots' launcher: these tests are about the portal, not the runner)."""

from __future__ import annotations

import contextlib
import os
import re
import tempfile
from collections.abc import Iterator
from datetime import datetime
from typing import Any

import httpx
import pyotp
from bs4 import BeautifulSoup
from selenium import webdriver
from selenium.webdriver.chrome.service import Service
from selenium.webdriver.remote.webdriver import WebDriver

from robots.packs.sera.sandbox import credentials, users


@contextlib.contextmanager
def plain_chrome(prefix: str) -> Iterator[WebDriver]:
    """A headless Chromium with a fresh profile (its folder named with `prefix`), quit on the way out."""
    os.environ.setdefault("SE_OFFLINE", "true")
    with tempfile.TemporaryDirectory(prefix=prefix) as profile:
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


# A fixed instant 10 s into a TOTP window, so a test's codes never straddle a window boundary.
FIXED_NOW = "2026-03-02T15:00:10Z"


def set_clock(client: httpx.Client, instant: str) -> datetime:
    response = client.post("/_sandbox/clock", json={"set": instant})
    response.raise_for_status()
    return datetime.fromisoformat(response.json()["now"])


def advance_clock(client: httpx.Client, seconds: float) -> datetime:
    response = client.post("/_sandbox/clock", json={"advance": seconds})
    response.raise_for_status()
    return datetime.fromisoformat(response.json()["now"])


def sandbox_now(client: httpx.Client) -> datetime:
    return datetime.fromisoformat(client.get("/_sandbox/clock").json()["now"])


def current_code(client: httpx.Client) -> str:
    return pyotp.TOTP(credentials()["totp_secret"]).at(sandbox_now(client))


def soup(response: httpx.Response) -> BeautifulSoup:
    return BeautifulSoup(response.text, "html.parser")


def csrf_token(client: httpx.Client, path: str = "/login") -> str:
    page = client.get(path)
    assert page.status_code == 200
    field = soup(page).find("input", attrs={"name": "csrf_token"})
    assert field is not None
    return str(field["value"])


def submit_password(client: httpx.Client, password: str | None = None, next_path: str | None = None) -> httpx.Response:
    creds = credentials()
    form = {
        "username": creds["username"],
        "password": creds["password"] if password is None else password,
        "csrf_token": csrf_token(client),
    }
    if next_path:
        form["next"] = next_path
    return client.post("/login", data=form)


def login(client: httpx.Client, next_path: str | None = None) -> httpx.Response:
    """Sign in as the demo user; returns the response to the MFA step (a redirect on success)."""
    response = submit_password(client, next_path=next_path)
    assert response.status_code == 303 and response.headers["location"] == "/mfa"
    return client.post("/mfa", data={"code": current_code(client)})


def text_of(response: httpx.Response, data_cy: str) -> str | None:
    node = soup(response).select_one(f'[data-cy="{data_cy}"]')
    return None if node is None else re.sub(r"\s+", " ", node.get_text()).strip()


def user(tenant: str, username: str) -> dict[str, Any]:
    """A seeded account from `users()`."""
    return next(u for u in users() if u["tenant"] == tenant and u["username"] == username)


def submit_password_as(client: httpx.Client, account: dict[str, Any], base: str = "",
                       password: str | None = None) -> httpx.Response:  # fmt: skip
    form = {
        "username": str(account["username"]),
        "password": str(account["password"]) if password is None else password,
        "csrf_token": csrf_token(client, base + "/login"),
    }
    return client.post(base + "/login", data=form)


def last_code(client: httpx.Client, to: str) -> str:
    messages = client.get("/_sandbox/outbox", params={"to": to}).json()["messages"]
    assert messages, f"no message to {to}"
    return str(messages[-1]["code"])


def login_as(client: httpx.Client, account: dict[str, Any], base: str = "") -> httpx.Response:
    """Sign in with any seeded account and its second factor; returns the final redirect."""
    response = submit_password_as(client, account, base)
    assert response.status_code == 303, response.text
    if response.headers["location"] != base + "/mfa":
        return response
    if account["mfa"] == "totp":
        code = pyotp.TOTP(str(account["totp_secret"])).at(sandbox_now(client))
    else:
        code = last_code(client, str(account["phone"] if account["mfa"] == "sms" else account["email"]))
    return client.post(base + "/mfa", data={"code": code})
