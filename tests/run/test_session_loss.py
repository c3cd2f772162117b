"""A portal session lost mid-run, through real Chromium against the sandbox, with `robots run --fresh-login`
(Runner(keep_sessions=False), which is what the option sets): the fresh sign-in skips only the stored session.
A session the portal revokes is noticed at once by the portal's signal (its profile's sign-in page), signed in
again once per run, and reported as SessionLost past that; the pages and rows the record counts are the ones the
outputs hold, however many pages were read again after a new sign-in."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from robots import load_flow
from robots.engine import Listener, Runner
from robots.packs.sera.sandbox import credentials
from robots.portals import open_portal
from robots.records import SqlStore
from robots.records.model import RunRecord, StepRecord

ROOT = Path(__file__).resolve().parents[2]
LIST = ROOT / "flows" / "sera" / "list_customers.yaml"
#: every customer, 100 a page, each page rendered in the browser and its table read by a step of its own
VARS = {"page_size": 100, "fetch": "browser"}

pytestmark = pytest.mark.browser


class _RevokeAfterPages(Listener):
    """Revokes every session of the portal when the n-th page's table has been read, for each n in `pages`
    (counting every page read in the run, including pages read again)."""

    def __init__(self, sandbox: Any, *pages: int):
        self.sandbox, self.pages, self.read = sandbox, set(pages), 0

    def step_finished(self, record: StepRecord) -> None:
        if record.name.endswith("extract_table") and record.status == "passed":
            self.read += 1
            if self.read in self.pages:
                httpx.post(f"{self.sandbox.url}/_sandbox/sessions/revoke", json={}).raise_for_status()


def _secrets() -> dict[str, str]:
    c = credentials()
    return {"sera_username": c["username"], "sera_password": c["password"], "sera_totp": c["totp_secret"],
            "sera_mfa_to": ""}


def _run_fresh(sandbox: Any, tmp_path: Path, listener: Listener) -> RunRecord:
    store = SqlStore(f"sqlite:///{tmp_path / 'robots.db'}")
    try:
        with open_portal("sera", url=sandbox.url) as portal:
            runner = Runner(store=store, home=tmp_path, trigger="test", listener=listener, keep_sessions=False)
            return runner.run(load_flow(LIST), secrets=_secrets(), portal=portal, vars=VARS)
    finally:
        store.close()


def test_fresh_login_signs_in_again_when_the_session_is_revoked_and_counts_rows_once(sandbox, tmp_path):
    total = httpx.get(f"{sandbox.url}/_sandbox/stats").json()["customers"]
    record = _run_fresh(sandbox, tmp_path, _RevokeAfterPages(sandbox, 3))
    assert record.status == "passed", (record.error_class, record.error_message)
    customers = record.outputs["customers"]
    assert len(customers) == total
    assert len({c["id"] for c in customers}) == total
    assert "re-login: sign_in: steps[1] login" in [s.name for s in record.steps]
    # the three pages read before the session ended are read again, and counted once
    assert (record.pages, record.rows) == (-(-total // 100), total)


def test_fresh_login_reports_a_second_session_loss_as_session_lost(sandbox, tmp_path):
    """The run signs in again once; the portal ending the session a second time ends the run with SessionLost.
    The page table's step on the sign-in page ends with SessionLost too (the portal's signal seen while it
    waited), not with ElementNotFound after the selector's timeout."""
    record = _run_fresh(sandbox, tmp_path, _RevokeAfterPages(sandbox, 2, 4))
    assert (record.status, record.error_class) == ("errored", "SessionLost")
    assert record.error_message == ("the portal ended the session again during steps[2].paginate; "
                                    "a run signs in again only once")
    waited = [s for s in record.steps if s.name.endswith("extract_table") and s.status != "passed"]
    assert [(s.error_class, s.error_message) for s in waited] == [
        ("SessionLost", "the portal ended the session: the browser was sent to its sign-in page (/login)")] * 2
    assert [s.name for s in record.steps].count("re-login: sign_in: steps[1] login") == 1
