"""Signing in to the single-page front end (/app/) with flows/sera/spa/sign_in.yaml, in a real Chromium against the
sandbox: a notification already on screen is no refusal (issue 17, failure 6), a refusal is quoted in the portal's
words, and a rejected TOTP code is retried in place, without a page load, then reported in the portal's words
(failure 7)."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pyotp
import pytest

from robots.engine import Listener
from robots.packs.sera.sandbox import credentials

from .helpers import app_requests, demo, passed, run

pytestmark = pytest.mark.browser


def _page_loads(sandbox) -> list[str]:
    return [e["path"] for e in app_requests(sandbox) if e.get("fetch_mode") == "navigate"]


def _code_answers(sandbox) -> list[int]:
    return [e["status"] for e in app_requests(sandbox) if e["path"] == "/app/api/session/code"]


def test_a_notification_on_screen_before_submitting_is_no_refusal(sandbox, tmp_path):
    """The app greets with "Please sign in to continue." (a notification its catalog's `login.error` also matches,
    as the portal puts refusals there too); the right password signs in."""
    record = passed(run(sandbox, tmp_path, "sign_in"))
    assert record.outputs == {"user": "Dana Demo"}
    steps = {s.name: s.output_summary for s in record.steps}
    assert (steps["steps[1] login"], steps["steps[2] mfa"]) == ("mfa.code", "totp")
    assert _page_loads(sandbox) == ["/app/"]
    assert _code_answers(sandbox) == [200]


def test_a_wrong_password_is_refused_in_the_portals_words(sandbox, tmp_path):
    record = run(sandbox, tmp_path, "sign_in", demo(sera_password="not the password"))
    assert (record.status, record.error_class) == ("failed", "CredentialsRejected")
    assert record.error_message == "login rejected: Invalid username or password."
    assert [(e["method"], e["status"]) for e in app_requests(sandbox) if e["path"] == "/app/api/session"] == [
        ("GET", 200), ("POST", 401)]


def test_a_wrong_totp_code_is_retried_in_place_then_refused_in_the_portals_words(sandbox, tmp_path):
    record = run(sandbox, tmp_path, "sign_in", demo(sera_totp=pyotp.random_base32()))
    assert (record.status, record.failure_kind) == ("failed", "business")
    assert record.error_message == "MFA code rejected: Invalid verification code."
    assert _code_answers(sandbox) == [422, 422]  # retried once, with the next window's code
    assert _page_loads(sandbox) == ["/app/"]  # on the page the app drew: no reload


class _CodeTakenFirst(Listener):
    """Right before the flow's `mfa` step, another sign-in (over HTTP) takes the code of the current TOTP window."""

    def __init__(self, url: str) -> None:
        self.url = url

    def step_started(self, call: Any, index: int) -> None:
        if call.kind != "mfa":
            return
        account = credentials()
        otp = pyotp.TOTP(account["totp_secret"])
        if otp.interval - time.time() % otp.interval < 8:  # the step must type its code in the same window
            time.sleep(otp.interval - time.time() % otp.interval + 0.1)
        with httpx.Client(base_url=self.url, headers={"X-Requested-With": "XMLHttpRequest"}, timeout=10) as client:
            client.post("/app/api/session", json={"username": account["username"], "password": account["password"]})
            assert client.post("/app/api/session/code", json={"code": otp.now()}).status_code == 200


def test_a_code_used_already_in_this_window_is_replaced_in_place_by_the_next_one(sandbox, tmp_path):
    """Another sign-in took this window's code: the flow's first code is refused, and the retry replaces the code
    the app kept in its field (six digits at most) with the next window's, on the same page."""
    record = passed(run(sandbox, tmp_path, "sign_in", listener=_CodeTakenFirst(sandbox.url)))
    assert record.outputs == {"user": "Dana Demo"}
    assert _code_answers(sandbox) == [200, 422, 200]
    assert _page_loads(sandbox) == ["/app/"]
