"""Signing in unattended, through real Chromium against the sandbox: every second factor, SSO, the ways a
sign-in fails, and the session store (restore, re-login mid-flow, lockout safety, rotation)."""

from __future__ import annotations

import email.message
import email.utils
import json
import re
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlalchemy import update

from robots import load_flow
from robots.engine import Listener, Runner
from robots.portals import open_portal
from robots.records import SqlStore
from robots.records.model import RunRecord, StepRecord
from robots.records.schema import SessionRow
from robots.sandbox import credentials
from robots.sandbox.accounts import USERS
from robots.testing.fixtures import reset_sandbox
from robots.testing.helpers import cli_env

FLOWS = Path(__file__).resolve().parent / "flows"
ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser


def _demo() -> dict[str, str]:
    c = credentials()
    return {"sera_username": c["username"], "sera_password": c["password"], "sera_totp": c["totp_secret"],
            "sera_mfa_to": ""}


def _user(name: str, **extra: str) -> dict[str, str]:
    u = USERS[name]
    return {"sera_username": u.username, "sera_password": u.password, "sera_totp": u.totp_secret,
            "sera_mfa_to": u.phone or u.email or "", **extra}


class _After(Listener):
    """Calls `action` when a step whose name ends with `suffix` has finished (the n-th time)."""

    def __init__(self, suffix: str, action: Callable[[], None], times: int = 1):
        self.suffix, self.action, self.left = suffix, action, times

    def step_finished(self, record: StepRecord) -> None:
        if self.left and record.name.endswith(self.suffix):
            self.left -= 1
            self.action()


class _Before(Listener):
    """Calls `action` when a step of `kind` starts (at the places in `where`, or only the first time)."""

    def __init__(self, kind: str, action: Callable[[], None], where: tuple[str, ...] = ()):
        self.kind, self.action, self.where, self.done = kind, action, where, False

    def step_started(self, call: Any, index: int) -> None:
        if call.kind != self.kind or (self.done and not self.where):
            return
        if not self.where or call.where in self.where:
            self.done = True
            self.action()


def _run(sandbox: Any, tmp_path: Path, flow: str, secrets: dict[str, str], *, listener: Listener | None = None,
         vars: dict[str, Any] | None = None) -> RunRecord:
    store = SqlStore(f"sqlite:///{tmp_path / 'robots.db'}")
    try:
        with open_portal("sera", url=sandbox.url) as portal:
            runner = Runner(store=store, home=tmp_path, trigger="test", listener=listener)
            return runner.run(load_flow(FLOWS / flow), secrets=secrets, portal=portal, vars=vars)
    finally:
        store.close()


def _requests(sandbox: Any) -> list[tuple[str, str]]:
    return [(r["method"], r["path"]) for r in httpx.get(f"{sandbox.url}/_sandbox/requests").json()]


def _revoke(sandbox: Any) -> None:
    httpx.post(f"{sandbox.url}/_sandbox/sessions/revoke", json={}).raise_for_status()


def _names(record: RunRecord) -> list[str]:
    return [s.name for s in record.steps]


def _ok(record: RunRecord) -> None:
    assert record.status == "passed", (record.error_message, [(s.name, s.status) for s in record.steps])


SUMMARY = re.compile(r"Showing 1–\d+ of [\d,]+ customers")


def test_totp_sign_in_then_the_stored_session_is_restored_without_the_login_page(sandbox, tmp_path):
    first = _run(sandbox, tmp_path, "signed_in_read.yaml", _demo())
    _ok(first)
    assert SUMMARY.fullmatch(first.outputs["first"])
    assert [n for n in _names(first) if n.startswith("sign_in: ")] == [
        "sign_in: steps[0] open", "sign_in: steps[1] login", "sign_in: steps[2] mfa", "sign_in: steps[3] read_text",
        "sign_in: steps[4] set_output"]
    mfa = next(s for s in first.steps if s.name == "sign_in: steps[2] mfa")
    assert mfa.output_summary == "totp"
    seen_before = len(_requests(sandbox))

    second = _run(sandbox, tmp_path, "signed_in_read.yaml", _demo())
    _ok(second)
    assert second.outputs == first.outputs
    assert _names(second)[:3] == ["steps[0] call", "session restored", "steps[1] open"]
    later = _requests(sandbox)[seen_before:]
    assert not [r for r in later if r[1] in ("/login", "/mfa")], later
    assert ("GET", "/") in later  # the health probe


def test_sms_code_is_read_from_the_outbox(sandbox, tmp_path):
    record = _run(sandbox, tmp_path, "signed_in_read.yaml", _user("dina"))
    _ok(record)
    mfa = next(s for s in record.steps if s.name == "sign_in: steps[2] mfa")
    assert mfa.output_summary == "code"
    sent = httpx.get(f"{sandbox.url}/_sandbox/outbox", params={"to": "+15125550101"}).json()["messages"]
    assert [m["channel"] for m in sent] == ["sms"]


def test_email_code_is_read_from_a_maildir(sandbox, tmp_path):
    """A mail server stand-in delivers the portal's e-mails into a Maildir (one RFC 822 file each)."""
    maildir = tmp_path / "Maildir"
    for sub in ("new", "cur", "tmp"):
        (maildir / sub).mkdir(parents=True)
    stop = threading.Event()

    def deliver() -> None:
        delivered: set[int] = set()
        while not stop.is_set():
            for m in httpx.get(f"{sandbox.url}/_sandbox/outbox").json()["messages"]:
                if m["channel"] == "email" and m["id"] not in delivered:
                    delivered.add(m["id"])
                    msg = email.message.EmailMessage()
                    msg["From"], msg["To"], msg["Subject"] = "no-reply@sera.example", m["to"], m["subject"]
                    msg["Date"] = email.utils.format_datetime(datetime.now(UTC))
                    msg.set_content(m["body"])
                    (maildir / "new" / f"{time.time_ns()}.{m['id']}.sandbox").write_bytes(bytes(msg))
            stop.wait(0.1)

    courier = threading.Thread(target=deliver, daemon=True)
    courier.start()
    try:
        record = _run(sandbox, tmp_path, "maildir_sign_in.yaml", _user("casey"), vars={"maildir": str(maildir)})
    finally:
        stop.set()
        courier.join()
    _ok(record)
    assert SUMMARY.fullmatch(record.outputs["first"])
    assert len(list((maildir / "new").iterdir())) == 1


def test_an_expired_sms_code_is_replaced_by_a_new_one(sandbox, tmp_path):
    def six_minutes_pass() -> None:  # the code (5 minutes' life) expires before the robot types it
        httpx.post(f"{sandbox.url}/_sandbox/clock", json={"advance": 360}).raise_for_status()

    record = _run(sandbox, tmp_path, "signed_in_read.yaml", _user("dina"), listener=_Before("mfa", six_minutes_pass))
    _ok(record)
    sent = httpx.get(f"{sandbox.url}/_sandbox/outbox", params={"to": "+15125550101"}).json()["messages"]
    assert len(sent) == 2  # the first code, then the one the robot asked for after "This code has expired"
    assert ("POST", "/mfa/resend") in _requests(sandbox)


def test_a_wrong_totp_code_fails_with_the_portals_message(sandbox, tmp_path):
    secrets = {**_demo(), "sera_totp": "KRUGKIDROVUWG2ZAMJZG653OEBTG6ZDY"}  # another account's secret
    record = _run(sandbox, tmp_path, "signed_in_read.yaml", secrets)
    assert record.status == "failed"
    assert record.error_message == "MFA code rejected: Invalid verification code."
    assert [m for m in _requests(sandbox) if m == ("POST", "/mfa")] == [("POST", "/mfa")] * 2  # retried once


def test_a_totp_code_already_used_in_this_window_is_retried_with_the_next_one(sandbox, tmp_path):
    """Two sign-ins inside one 30-second window: the second robot's first code was used by the first."""
    for name in ("one", "two"):
        (tmp_path / name).mkdir()
    first = _run(sandbox, tmp_path / "one", "signed_in_read.yaml", _demo())
    second = _run(sandbox, tmp_path / "two", "signed_in_read.yaml", _demo())
    _ok(first)
    _ok(second)
    mfa_posts = [m for m in _requests(sandbox) if m == ("POST", "/mfa")]
    assert len(mfa_posts) in (2, 3)  # 3 when both sign-ins fell into the same window (the usual case)


def test_a_wrong_password_fails_and_is_not_tried_again(sandbox, tmp_path):
    secrets = {**_user("tom"), "sera_password": "Truck 42 pass 2025!"}
    first = _run(sandbox, tmp_path, "signed_in_read.yaml", secrets)
    assert first.status == "failed"
    assert first.error_class == "CredentialsRejected"
    assert first.error_message == "login rejected: Invalid username or password."
    posts = _requests(sandbox).count(("POST", "/login"))

    second = _run(sandbox, tmp_path, "signed_in_read.yaml", secrets)
    assert second.status == "failed"
    assert second.error_class == "CredentialsRejected"
    assert re.fullmatch(
        r"not signing in: the portal rejected this password at \d{4}-\d\d-\d\d \d\d:\d\d:\d\d UTC "
        r"\(login rejected: Invalid username or password\.\); robots will not try it again for 60 "
        r"minutes\. Set the right password \(robots secrets set\) or clear the block: robots sessions clear",
        second.error_message or "")
    assert _requests(sandbox).count(("POST", "/login")) == posts  # the portal saw no second attempt
    assert second.browser is None  # no Chrome was started for it

    # The right password is a different one: it is tried (the flow only signs in: a technician may not open the
    # customer list, and the read would wait out its step timeout for nothing).
    right = _run(sandbox, tmp_path, "signed_in_only.yaml", _user("tom"))
    _ok(right)
    assert [(s.name, s.status, s.output_summary) for s in right.steps if s.name.startswith("sign_in: ")][1:] == [
        ("sign_in: steps[1] login", "passed", "nav.main"), ("sign_in: steps[2] mfa", "passed", "none"),
        ("sign_in: steps[3] read_text", "passed", "technician"), ("sign_in: steps[4] set_output", "passed", None)]


def test_a_locked_account_fails_with_the_portals_message(sandbox, tmp_path):
    with httpx.Client(base_url=sandbox.url) as client:
        for _ in range(10):  # the sandbox locks an account after 10 wrong passwords
            page = client.get("/login").text
            token = re.search(r'name="csrf_token" value="([^"]+)"', page)
            assert token
            client.post("/login", data={"username": "tom", "password": "guess", "csrf_token": token.group(1)})
    record = _run(sandbox, tmp_path, "signed_in_read.yaml", _user("tom"))
    assert record.status == "failed"
    assert record.error_message == ("login rejected: Too many failed sign-in attempts. Your account is locked; "
                                    "try again in 15 minutes.")


def test_an_expired_password_ends_the_run_with_a_business_failure(sandbox, tmp_path):
    record = _run(sandbox, tmp_path, "signed_in_read.yaml", _user("pat"))
    assert record.status == "failed"
    assert record.error_message == ("the portal demands a password change before this account can sign in: "
                                    "Your password has expired")


def test_a_new_device_confirmation_ends_the_run_with_a_business_failure(sandbox, tmp_path):
    record = _run(sandbox, tmp_path, "signed_in_read.yaml", _user("nora"))
    assert (record.status, record.failure_kind) == ("failed", "business")
    assert record.error_message == ("the portal asks to confirm this new device (a person must open the link it "
                                    "e-mailed): Confirm that this is you")


def test_sso_through_the_identity_provider(sandbox, tmp_path):
    sage = USERS["sage"]
    record = _run(sandbox, tmp_path, "sso_read.yaml",
                  {"sera_sso_email": sage.email or "", "sera_sso_password": sage.password})
    _ok(record)
    assert SUMMARY.fullmatch(record.outputs["first"])
    seen = _requests(sandbox)
    assert ("POST", "/idp/authorize") in seen and ("GET", "/sso/callback") in seen
    sso = next(s for s in record.steps if s.name.endswith("sso"))
    assert sso.output_summary == "signed in"


def test_sso_with_a_wrong_password_fails_with_the_identity_providers_message(sandbox, tmp_path):
    sage = USERS["sage"]
    record = _run(sandbox, tmp_path, "sso_read.yaml",
                  {"sera_sso_email": sage.email or "", "sera_sso_password": "not it"})
    assert record.status == "failed"
    assert record.error_message == "SSO login rejected: Incorrect e-mail or password."


def test_a_session_revoked_mid_flow_is_signed_in_again_and_the_step_resumed(sandbox, tmp_path):
    record = _run(sandbox, tmp_path, "signed_in_read.yaml", _demo(),
                  listener=_After("steps[2] read_text", lambda: _revoke(sandbox)))
    _ok(record)
    assert SUMMARY.fullmatch(record.outputs["second"])
    names = _names(record)
    assert "re-login: sign_in: steps[1] login" in names
    resumed = next(s for s in record.steps if s.name == "steps[3] open")
    assert resumed.status == "passed"


def test_a_second_expiry_in_one_run_is_a_failure(sandbox, tmp_path):
    record = _run(sandbox, tmp_path, "signed_in_read.yaml", _demo(),
                  listener=_Before("open", lambda: _revoke(sandbox), where=("steps[1]", "steps[3]")))
    assert record.status == "errored"
    assert record.error_class == "SessionLost"
    assert record.error_message == ("the portal ended the session again during steps[3].open; "
                                    "a run signs in again only once")


def test_a_write_step_is_not_repeated_after_the_session_ended(sandbox, tmp_path):
    record = _run(sandbox, tmp_path, "signed_in_write.yaml", _demo(),
                  listener=_After("steps[2] read_text", lambda: _revoke(sandbox)))
    assert record.status == "errored"
    assert record.error_message == (
        "the portal ended the session during write step steps[3].open; it was not repeated because it is not "
        "marked `idempotent: true` (check in the portal whether it went through)")


def test_a_block_whose_write_had_begun_is_repeated_only_when_marked_idempotent(sandbox, tmp_path):
    """The session ends inside a block after its write step ran: the block is not run again (it would submit
    again) unless the flow marks it `idempotent: true` - a block whose steps check whether the write went
    through (the Sera write flows' probe loops)."""
    revoke = _After("steps[1].if.steps[0] open", lambda: _revoke(sandbox))
    record = _run(sandbox, tmp_path, "signed_in_block_write.yaml", _demo(), listener=revoke)
    assert (record.status, record.error_class) == ("errored", "SessionLost")
    assert record.error_message == (
        "the portal ended the session during steps[1].if, after its write step steps[1].if.steps[0].open had "
        "begun; the block was not repeated because it is not marked `idempotent: true` (mark it so when its steps "
        "check whether the write went through before repeating it; check in the portal whether it did)")

    # The marked copy on a fresh portal: with the codes of the first run forgotten on both sides, its two
    # sign-ins need not wait out TOTP windows (the portal accepts each code once).
    reset_sandbox(sandbox)
    marked = tmp_path / "marked" / "signed_in_block_write.yaml"
    marked.parent.mkdir()
    marked.write_text((FLOWS / "signed_in_block_write.yaml").read_text().replace(
        "  - if:\n", "  - if:\n      idempotent: true\n").replace("../../../", f"{ROOT}/")
        + f"selectors: {ROOT / 'selectors' / 'sera'}\n")
    record = _run(sandbox, tmp_path, str(marked), _demo(),
                  listener=_After("steps[1].if.steps[0] open", lambda: _revoke(sandbox)))
    _ok(record)
    assert SUMMARY.fullmatch(record.outputs["second"])
    assert [n for n in _names(record) if n.endswith("steps[0] open")] == ["sign_in: steps[0] open",
                                                                          "steps[1].if.steps[0] open",
                                                                          "re-login: sign_in: steps[0] open",
                                                                          "steps[1].if.steps[0] open"]


def test_an_old_stored_session_is_refreshed_and_the_rotated_cookie_kept(sandbox, tmp_path):
    _ok(_run(sandbox, tmp_path, "signed_in_read.yaml", _demo()))
    store = SqlStore(f"sqlite:///{tmp_path / 'robots.db'}")
    with store.engine.begin() as c:
        before = c.execute(SessionRow.__table__.select()).one()
        c.execute(update(SessionRow).values(saved_at=datetime.now(UTC) - timedelta(minutes=20)))
    store.close()

    second = _run(sandbox, tmp_path, "signed_in_read.yaml", _demo())
    _ok(second)
    assert "session restored" in _names(second)
    assert ("POST", "/session/refresh") in _requests(sandbox)
    store = SqlStore(f"sqlite:///{tmp_path / 'robots.db'}")
    with store.engine.connect() as c:
        after = c.execute(SessionRow.__table__.select()).one()
    store.close()
    assert after.data != before.data and after.saved_at > before.saved_at


def test_two_workers_on_one_account_sign_in_once_and_share_the_session(sandbox, sandbox_env, tmp_path):
    """The portal allows one session per user (a new sign-in ends the others): two robots that each signed in
    would log each other out. With the shared store, one signs in and the other waits for its session."""
    httpx.post(f"{sandbox.url}/_sandbox/sessions/policy", json={"single_session": True}).raise_for_status()
    env = {**cli_env(tmp_path), **sandbox_env}
    workers = [subprocess.Popen([sys.executable, "-m", "robots.cli", "run", str(FLOWS / "signed_in_read.yaml")],
                                env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
               for _ in range(2)]
    done = [w.communicate(timeout=240) for w in workers]
    assert [w.returncode for w in workers] == [0, 0], [err for _, err in done]
    assert json.loads(done[0][0]) == json.loads(done[1][0])
    assert _requests(sandbox).count(("POST", "/login")) == 1
    store = SqlStore(f"sqlite:///{tmp_path / 'robots.db'}")
    try:
        records = store.list()
    finally:
        store.close()
    assert sorted("session restored" in _names(r) for r in records) == [False, True]


def test_a_portal_in_maintenance_is_a_business_failure_not_a_timeout(sandbox, tmp_path):
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "maintenance"}).raise_for_status()
    record = _run(sandbox, tmp_path, "signed_in_read.yaml", _demo())
    assert record.status == "failed"
    assert record.error_message == "the portal is down for maintenance: Sera is down for scheduled maintenance"


def test_a_token_the_portal_keeps_in_local_storage_is_restored_with_the_cookies(sandbox, tmp_path):
    """The schedule board's script calls the portal's API with a bearer token that the sign-in left in local
    storage (sandbox policy `api_token`); a session restored with its cookies alone would be sent back to the
    login page. The Sera profile keeps `sera.apiToken` with the session."""
    httpx.post(f"{sandbox.url}/_sandbox/sessions/policy", json={"api_token": True}).raise_for_status()
    board = "../../../flows/sera/dispatch_board.yaml"
    first = _run(sandbox, tmp_path, board, _demo(), vars={"date": "2026-03-09"})
    _ok(first)
    seen_before = len(_requests(sandbox))

    second = _run(sandbox, tmp_path, board, _demo(), vars={"date": "2026-03-09"})
    _ok(second)
    assert "session restored" in _names(second)
    def board_of(run: RunRecord) -> list[dict[str, Any]]:
        return [{k: v for k, v in a.items() if k != "scraped_at"} for a in run.outputs["appointments"]]

    assert board_of(second) == board_of(first) and len(board_of(first)) == 8
    later = [(r["method"], r["path"], r["status"]) for r in httpx.get(f"{sandbox.url}/_sandbox/requests").json()
             ][seen_before:]  # fmt: skip
    assert ("GET", "/api/dispatch", 200) in later
    assert not [r for r in later if r[1] in ("/login", "/mfa") or r[2] == 401], later


def test_a_run_waiting_for_a_browser_never_holds_the_sign_in_another_run_needs(sandbox, sandbox_env, tmp_path):
    """ROBOTS_MAX_BROWSERS=1, two runs of a flow that signs in twice (its second sign-in inside a called flow). The
    second run is started while the first signs in: it waits for the browser slot without taking the account's
    sign-in lease, so the first run's nested sign-in goes through (taken the other way round, each waited for
    what the other held until the lease gave up after 300 s)."""
    from robots.testing.helpers import tracked_pids_alive, wait_for_chrome

    env = cli_env(tmp_path, **sandbox_env, ROBOTS_MAX_BROWSERS="1")

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "robots.cli", "run", "-v", str(FLOWS / "signed_in_twice.yaml")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def end(proc: subprocess.Popen[str]) -> None:  # SIGTERM: a runner that hangs still ends its Chrome
        if proc.poll() is None:
            proc.terminate()
            try:
                proc.wait(timeout=60)
            except subprocess.TimeoutExpired:
                proc.kill()

    first = start()
    try:
        assert wait_for_chrome(tmp_path, 120) is not None
        second = start()
        try:
            outs = [proc.communicate(timeout=150) for proc in (first, second)]
        finally:
            end(second)
    finally:
        end(first)
    assert [first.returncode, second.returncode] == [0, 0], [err for _, err in outs]
    assert [json.loads(out)["customer"] for out, _ in outs] == ["1003", "1003"]
    assert "robots: all 1 browser slots are in use (ROBOTS_MAX_BROWSERS); waiting for one" in outs[1][1]
    assert [tracked_pids_alive(d) for d in (tmp_path / "runs").iterdir()] == [[], []]
