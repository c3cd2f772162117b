"""Accounts per role and second factor, and the traps of real sign-ins: SMS and e-mail codes (expiry, resend
cooldown, a new code invalidating the old), expired passwords, remembered devices, roles and their 403 page,
session lifetime, revocation and cookie rotation. Time moves by the sandbox clock, never by waiting."""

from __future__ import annotations

import httpx
import pytest

from robots.packs.sera.sandbox import credentials, users

from .helpers import advance_clock, last_code, login_as, soup, submit_password_as, text_of, user


def test_users_lists_every_role_and_second_factor_and_credentials_is_unchanged() -> None:
    accounts = users()
    acme = [u for u in accounts if u["tenant"] == "acme"]
    assert {u["role"] for u in acme} == {"admin", "dispatcher", "csr", "technician"}
    assert {u["mfa"] for u in acme} == {"totp", "sms", "email", "none"}
    demo = user("acme", "demo")
    assert credentials() == {"tenant": "acme", "username": "demo", "password": demo["password"],
                             "totp_secret": demo["totp_secret"]}  # fmt: skip
    assert {u["tenant"] for u in accounts} == {"acme", "summit"}


@pytest.mark.parametrize("username", ["dina", "casey"])
def test_a_code_sent_by_sms_or_email_signs_in_once(portal: httpx.Client, username: str) -> None:
    account = user("acme", username)
    to = str(account["phone"] or account["email"])
    assert submit_password_as(portal, account).headers["location"] == "/mfa"
    page = portal.get("/mfa")
    destination = text_of(page, "mfa-destination")
    assert destination in ("(•••) •••-0101", "c•••@acme.example.com")
    assert soup(page).select_one("button[data-cy=mfa-resend]") is not None
    message = portal.get("/_sandbox/outbox", params={"to": to}).json()["messages"][-1]
    assert message["channel"] == ("sms" if username == "dina" else "email")
    assert message["code"] in message["body"] and message["tenant"] == "acme"
    assert portal.post("/mfa", data={"code": message["code"]}).headers["location"] == "/dispatch"
    assert portal.get("/dispatch").status_code == 200


def test_codes_expire_by_the_sandbox_clock(portal: httpx.Client) -> None:
    account = user("acme", "dina")
    submit_password_as(portal, account)
    code = last_code(portal, "+15125550101")
    advance_clock(portal, 5 * 60 + 1)
    response = portal.post("/mfa", data={"code": code})
    assert response.status_code == 200
    assert text_of(response, "mfa-error") == "This code has expired. Request a new code."


def test_a_resend_inside_the_cooldown_silently_keeps_the_old_code(portal: httpx.Client) -> None:
    account = user("acme", "casey")
    to = str(account["email"])
    submit_password_as(portal, account)
    first = last_code(portal, to)
    advance_clock(portal, 30)
    resent = portal.post("/mfa/resend")
    assert resent.headers["location"] == "/mfa?resent=1"
    assert text_of(portal.get("/mfa?resent=1"), "mfa-notice") == "We sent a new code to your e-mail."
    assert len(portal.get("/_sandbox/outbox", params={"to": to}).json()["messages"]) == 1  # nothing was sent
    assert portal.post("/mfa", data={"code": first}).headers["location"] == "/dispatch"


def test_a_new_code_after_the_cooldown_invalidates_the_previous_one(portal: httpx.Client) -> None:
    account = user("acme", "dina")
    submit_password_as(portal, account)
    first = last_code(portal, "+15125550101")
    advance_clock(portal, 61)
    portal.post("/mfa/resend")
    second = last_code(portal, "+15125550101")
    assert len(portal.get("/_sandbox/outbox", params={"to": "+15125550101"}).json()["messages"]) == 2
    if first != second:  # one in a million they are equal
        assert text_of(portal.post("/mfa", data={"code": first}), "mfa-error") == "Invalid verification code."
        advance_clock(portal, 2)  # past the throttle of the wrong code
    assert portal.post("/mfa", data={"code": second}).headers["location"] == "/dispatch"


def test_a_user_without_a_second_factor_lands_on_the_board(portal: httpx.Client) -> None:
    response = submit_password_as(portal, user("acme", "tom"))
    assert response.headers["location"] == "/dispatch"
    assert text_of(portal.get("/dispatch"), "user-name") == "Tom Tech"


def test_an_expired_password_ends_on_the_password_expired_page(portal: httpx.Client) -> None:
    account = user("acme", "pat")
    response = submit_password_as(portal, account)
    assert response.headers["location"] == "/password-expired"
    page = portal.get("/password-expired")
    assert text_of(page, "password-expired") == "Your password has expired"
    assert portal.get("/dispatch").headers["location"] == "/login?next=/dispatch"  # not signed in
    weak = portal.post("/password-expired", data={"current_password": account["password"], "new_password": "short",
                                                  "confirm_password": "short"})  # fmt: skip
    assert weak.status_code == 422
    assert text_of(weak, "password-error") == "The new password must be at least 12 characters long."
    new = "A brand new password 1!"
    done = portal.post("/password-expired", data={"current_password": account["password"], "new_password": new,
                                                  "confirm_password": new})  # fmt: skip
    assert done.headers["location"] == "/login?changed=1"
    assert text_of(portal.get("/login?changed=1"), "login-notice") == (
        "Your password was changed. Please sign in with your new password."
    )
    assert submit_password_as(portal, account, password=new).headers["location"] == "/dispatch"


def test_remember_this_device_skips_the_second_factor_next_time(portal: httpx.Client) -> None:
    account = user("acme", "dina")
    submit_password_as(portal, account)
    page = soup(portal.get("/mfa"))
    assert page.select_one("input[type=checkbox][name=remember][data-cy=mfa-remember]") is not None
    done = portal.post("/mfa", data={"code": last_code(portal, "+15125550101"), "remember": "1"})
    assert "sera_device" in portal.cookies and "max-age=2592000" in done.headers["set-cookie"].lower()
    portal.get("/logout")
    assert submit_password_as(portal, account).headers["location"] == "/dispatch"
    portal.cookies.delete("sera_session")
    other = user("acme", "casey")  # the device is remembered for dina only
    assert submit_password_as(portal, other).headers["location"] == "/mfa"


@pytest.mark.parametrize(
    ("username", "menu"),
    [
        ("demo", ["nav-dispatch", "nav-schedule-board", "nav-jobs", "nav-customers", "nav-memberships", "nav-estimates",
                  "nav-invoices", "nav-payments", "nav-pricebook", "nav-reports", "nav-users"]),
        ("dina", ["nav-dispatch", "nav-schedule-board", "nav-jobs", "nav-customers", "nav-memberships", "nav-estimates",
                  "nav-pricebook"]),
        ("casey", ["nav-dispatch", "nav-schedule-board", "nav-jobs", "nav-customers", "nav-memberships",
                   "nav-estimates",
                   "nav-invoices", "nav-payments"]),
        ("tom", ["nav-dispatch", "nav-schedule-board", "nav-jobs"]),
    ],
)  # fmt: skip
def test_menus_differ_by_role(portal: httpx.Client, username: str, menu: list[str]) -> None:
    login_as(portal, user("acme", username))
    nav = soup(portal.get("/dispatch")).select_one("nav[data-cy=main-nav]")
    assert nav is not None
    assert [a["data-cy"] for a in nav.select("a")] == menu


@pytest.mark.parametrize(("username", "path"), [("tom", "/customers"), ("tom", "/customers/1003"),
                                                 ("casey", "/pricebook"), ("dina", "/customers/export")])  # fmt: skip
def test_a_forbidden_page_is_the_portals_403(portal: httpx.Client, username: str, path: str) -> None:
    login_as(portal, user("acme", username))
    page = portal.get(path)
    assert page.status_code == 403 and page.headers["content-type"].startswith("text/html")
    assert text_of(page, "error-message") == "You don't have permission to view this page."


def test_a_session_ends_at_its_absolute_lifetime_however_active(portal: httpx.Client) -> None:
    portal.post("/_sandbox/sessions/policy", json={"absolute_lifetime": 3600, "idle_timeout": 1800}).raise_for_status()
    login_as(portal, user("acme", "tom"))
    for _ in range(3):
        advance_clock(portal, 1000)
        assert portal.get("/jobs").status_code == 200
    advance_clock(portal, 700)
    assert portal.get("/jobs").headers["location"] == "/login?expired=1&next=/jobs"
    assert portal.get("/_sandbox/sessions").json()["policy"]["absolute_lifetime"] == 3600


def test_a_bad_session_policy_is_refused(portal: httpx.Client) -> None:
    bad = portal.post("/_sandbox/sessions/policy", json={"idle": 5})
    assert bad.status_code == 400 and "unknown setting idle" in bad.json()["error"]


def test_refresh_rotates_the_session_cookie(portal: httpx.Client) -> None:
    login_as(portal, user("acme", "tom"))
    old = portal.cookies["sera_session"]
    refreshed = portal.post("/session/refresh")
    assert refreshed.status_code == 200 and refreshed.json()["ok"] is True
    assert set(refreshed.json()) == {"ok", "expires_at", "idle_expires_at"}
    new = portal.cookies["sera_session"]
    assert new != old
    assert portal.get("/jobs").status_code == 200
    with httpx.Client(base_url=str(portal.base_url), cookies={"sera_session": old}) as stale:
        assert stale.get("/jobs").headers["location"] == "/login?expired=1&next=/jobs"
        gone = stale.post("/session/refresh")
        assert gone.status_code == 401 and gone.json()["login"] == "/login?expired=1"
