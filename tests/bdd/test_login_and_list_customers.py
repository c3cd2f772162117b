"""Step definitions for features/login_and_list_customers.feature: the Runner in-process, real Chromium,
the sandbox portal, a real SQLite record store."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from pytest_bdd import given, parsers, scenarios, then, when

from robots import load_flow
from robots.engine import Runner
from robots.portals import open_portal
from robots.records import SqlStore
from robots.sandbox import credentials
from robots.testing import tracked_pids_alive

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser

scenarios("login_and_list_customers.feature")


@given("the sandbox Sera portal with its seeded customers", target_fixture="portal_state")
def portal_state(sandbox):
    return {"url": sandbox.url, "customers": httpx.get(f"{sandbox.url}/_sandbox/stats").json()["customers"]}


def _run(portal_state, tmp_path, flow_file, secrets):
    flow = load_flow(ROOT / flow_file)
    store = SqlStore(f"sqlite:///{tmp_path / 'robots.db'}")
    try:
        with open_portal(flow.portal, url=portal_state["url"]) as portal:
            record = Runner(store=store, home=tmp_path, trigger="bdd").run(flow, secrets=secrets, portal=portal)
        assert store.get(record.run_id) == record
    finally:
        store.close()
    assert tracked_pids_alive(Path(record.run_dir)) == []
    return record


def _demo_secrets():
    c = credentials()
    return {"sera_username": c["username"], "sera_password": c["password"], "sera_totp": c["totp_secret"]}


@when(parsers.parse('I run the flow "{flow_file}" with the demo account'), target_fixture="record")
def run_demo(portal_state, tmp_path, flow_file):
    return _run(portal_state, tmp_path, flow_file, _demo_secrets())


@when(parsers.parse('I run the flow "{flow_file}" with the demo account but {secret} "{value}"'),
      target_fixture="record")
def run_with_wrong_secret(portal_state, tmp_path, flow_file, secret, value):
    secrets = _demo_secrets()
    assert secret in secrets
    secrets[secret] = value
    return _run(portal_state, tmp_path, flow_file, secrets)


@then("the run passed")
def run_passed(record):
    assert (record.status, record.error_message) == ("passed", None)


@then("the output has as many customers as the portal holds")
def as_many_as_the_portal(record, portal_state):
    assert len(record.outputs["customers"]) == portal_state["customers"]


@then("no customer appears twice")
def no_duplicates(record):
    ids = [c["id"] for c in record.outputs["customers"]]
    assert len(ids) == len(set(ids))


@then("every customer has a balance in cents and a status from the closed list")
def normalized(record):
    for c in record.outputs["customers"]:
        assert type(c["balance_cents"]) is int
        assert c["status"] in ("active", "inactive", "on_hold")


@then(parsers.parse('the run failed with "{message}"'))
def failed_with(record, message):
    assert (record.status, record.failure_kind, record.error_message) == ("failed", "business", message)


@then("a screenshot of the failing page was saved")
def screenshot_saved(record):
    [ev] = record.evidence
    assert (Path(record.run_dir) / ev.screenshot).read_bytes()[:4] == b"\x89PNG"
