"""Signing in over plain HTTP: CSRF, wrong passwords, one-use TOTP codes, throttles, sessions, sign-out."""

from __future__ import annotations

import httpx

from robots.packs.sera.sandbox import credentials

from .helpers import advance_clock, csrf_token, current_code, login, soup, submit_password, text_of


def test_login_page_has_the_form_a_robot_expects(portal: httpx.Client) -> None:
    page = soup(portal.get("/login"))
    form = page.find("form", attrs={"data-cy": "login-form"})
    assert form is not None and form["method"] == "post" and form["action"] == "/login"
    assert page.select_one("input#username[name=username][data-cy=login-username][autocomplete=username]")
    assert page.select_one("input#password[name=password][type=password][data-cy=login-password]")
    assert page.select_one("input[type=hidden][name=csrf_token]")
    button = page.select_one("button#login-button[type=submit][data-cy=login-submit]")
    assert button is not None and button.get_text(strip=True) == "Sign in"


def test_root_sends_a_visitor_to_login(portal: httpx.Client) -> None:
    response = portal.get("/")
    assert response.status_code == 303 and response.headers["location"] == "/login"


def test_a_post_without_a_valid_csrf_token_is_refused(portal: httpx.Client) -> None:
    creds = credentials()
    csrf_token(portal)  # the pre-login cookie exists, but the token is wrong
    response = portal.post("/login", data={"username": "demo", "password": creds["password"], "csrf_token": "x"})
    assert response.status_code == 200
    assert text_of(response, "login-notice") == "Your session timed out. Please sign in again."
    portal.cookies.clear()
    response = portal.post("/login", data={"username": "demo", "password": creds["password"]})
    assert text_of(response, "login-notice") == "Your session timed out. Please sign in again."
    assert "sera_mfa" not in portal.cookies


def test_a_wrong_password_re_renders_the_form_with_the_message(portal: httpx.Client) -> None:
    response = submit_password(portal, password="wrong")
    assert response.status_code == 200
    assert (
        '<div class="alert alert-error" role="alert" data-cy="login-error">Invalid username or password.</div>'
        in response.text
    )
    assert credentials()["password"] not in response.text


def test_signing_in_with_a_totp_code_reaches_the_dispatch_board(portal: httpx.Client) -> None:
    response = submit_password(portal)
    assert response.status_code == 303 and response.headers["location"] == "/mfa"
    mfa = portal.get("/mfa")
    assert text_of(mfa, "mfa-heading") == "Two-step verification"
    assert "Enter the 6-digit code from your authenticator app." in mfa.text
    assert soup(mfa).select_one("input#code[name=code][data-cy=mfa-code][autocomplete=one-time-code]")
    assert soup(mfa).select_one("button#verify-button[data-cy=mfa-submit]")
    response = portal.post("/mfa", data={"code": current_code(portal)})
    assert response.status_code == 303 and response.headers["location"] == "/dispatch"
    assert "httponly" in response.headers["set-cookie"].lower()
    assert "samesite=lax" in response.headers["set-cookie"].lower()
    board = portal.get("/dispatch")
    assert board.status_code == 200
    assert "<h1>Dispatch board</h1>" in board.text
    assert text_of(board, "dispatch-date") == "Monday, March 2, 2026"  # 09:00 in Chicago at FIXED_NOW
    assert text_of(board, "user-name") == "Dana Demo"
    assert portal.get("/customers").status_code == 200
    assert portal.get("/").headers["location"] == "/dispatch"


def test_a_totp_code_is_accepted_only_once(portal: httpx.Client) -> None:
    code = current_code(portal)
    submit_password(portal)
    assert portal.post("/mfa", data={"code": code}).status_code == 303
    portal.cookies.clear()
    submit_password(portal)
    response = portal.post("/mfa", data={"code": code})
    assert response.status_code == 200
    assert text_of(response, "mfa-error") == "Invalid verification code."


def test_a_correct_code_fails_during_the_throttle_after_a_wrong_one(portal: httpx.Client) -> None:
    submit_password(portal)
    assert text_of(portal.post("/mfa", data={"code": "000000"}), "mfa-error") == "Invalid verification code."
    response = portal.post("/mfa", data={"code": current_code(portal)})
    assert text_of(response, "mfa-error") == "Invalid verification code."
    advance_clock(portal, 30)  # the next window: the throttle (2 s) is over and the code is new
    assert portal.post("/mfa", data={"code": current_code(portal)}).headers["location"] == "/dispatch"


def test_five_wrong_codes_end_the_sign_in(portal: httpx.Client) -> None:
    submit_password(portal)
    for _ in range(4):
        assert portal.post("/mfa", data={"code": "123456"}).status_code == 200
    response = portal.post("/mfa", data={"code": "123456"})
    assert response.status_code == 303
    page = portal.get(response.headers["location"])
    assert text_of(page, "login-notice") == "Too many attempts. Please sign in again."
    assert portal.get("/mfa").headers["location"] == "/login"


def test_the_mfa_page_without_a_pending_sign_in_goes_back_to_login(portal: httpx.Client) -> None:
    assert portal.get("/mfa").headers["location"] == "/login"
    assert portal.post("/mfa", data={"code": "123456"}).headers["location"] == "/login"


def test_a_page_without_a_session_redirects_to_login_and_back_after_sign_in(portal: httpx.Client) -> None:
    response = portal.get("/customers", params={"page": 2})
    assert response.status_code == 303
    assert response.headers["location"] == "/login?next=/customers%3Fpage%3D2"
    next_field = soup(portal.get(response.headers["location"])).find("input", attrs={"name": "next"})
    assert next_field is not None and next_field["value"] == "/customers?page=2"
    done = login(portal, next_path="/customers?page=2")
    assert done.headers["location"] == "/customers?page=2"


def test_next_must_be_a_local_path(portal: httpx.Client) -> None:
    assert login(portal, next_path="https://evil.example.com/").headers["location"] == "/dispatch"


def test_an_idle_session_expires_by_the_sandbox_clock(portal: httpx.Client) -> None:
    login(portal)
    advance_clock(portal, 29 * 60)
    assert portal.get("/customers").status_code == 200  # activity keeps the session alive
    advance_clock(portal, 31 * 60)
    response = portal.get("/customers")
    assert response.status_code == 303
    assert response.headers["location"] == "/login?expired=1&next=/customers"
    page = portal.get(response.headers["location"])
    assert text_of(page, "session-expired") == "Your session has expired. Please sign in again."


def test_sign_out_ends_the_session(portal: httpx.Client) -> None:
    login(portal)
    cookie = portal.cookies["sera_session"]
    response = portal.get("/logout")
    assert response.status_code == 303 and response.headers["location"] == "/login"
    portal.cookies.set("sera_session", cookie)
    assert portal.get("/dispatch").headers["location"].startswith("/login?expired=1")


def test_repeated_wrong_passwords_lock_the_account_for_a_while(portal: httpx.Client) -> None:
    for _ in range(10):
        assert text_of(submit_password(portal, password="nope"), "login-error") == "Invalid username or password."
    locked = submit_password(portal)
    assert locked.status_code == 200
    assert text_of(locked, "login-error") == (
        "Too many failed sign-in attempts. Your account is locked; try again in 15 minutes."
    )
    advance_clock(portal, 15 * 60)
    assert submit_password(portal).headers["location"] == "/mfa"
