"""The portal's own 429 Too many requests (issue 9), real Chromium against the sandbox's `rate_limit` fault: the
runner waits what the portal asks (its throttled page states the wait; the hybrid walk reads the Retry-After
header), repeats, and still returns every record; a portal that keeps answering 429 ends the run with the
`portal_throttled` failure and its exact message.

The tests share one home (ROBOTS_HOME and its SQLite store): only the first signs in, the others restore that
session (docs/CONTRACTS.md C6). The fault covers /customers only, so the sign-in is never throttled."""

from __future__ import annotations

import json
import sqlite3
from datetime import datetime
from pathlib import Path
from typing import Any

import httpx
import pytest

from robots.testing import run_flow_cli

ROOT = Path(__file__).resolve().parents[2]
LIST = str(ROOT / "flows" / "sera" / "list_customers.yaml")
#: seed 18 at 30 %: the requests for /customers answer 429, 200, 200, 429, 429, 200, ... (one roll a request)
FAULT = {"name": "rate_limit", "percent": 30, "seed": 18, "retry_after": 1, "paths": ["/customers"]}
ARGS = ["--var", "q=Austin", "--var", "page_size=100", "--report", "json"]

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def home(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("throttled")


def austin_ids(sandbox: Any) -> list[str]:
    conn = sqlite3.connect(f"file:{sandbox.db_path}?mode=ro", uri=True)
    try:
        rows = conn.execute("SELECT id FROM customers WHERE name LIKE '%Austin%' OR number LIKE '%Austin%' OR "
                            "email LIKE '%Austin%' OR city LIKE '%Austin%'").fetchall()
    finally:
        conn.close()
    return sorted(str(r[0]) for r in rows)


def customer_requests(sandbox: Any) -> list[dict[str, Any]]:
    return [e for e in httpx.get(f"{sandbox.url}/_sandbox/requests").json() if e["path"] == "/customers"]


def at(entry: dict[str, Any]) -> datetime:
    return datetime.fromisoformat(entry["at"].replace("Z", "+00:00"))


def assert_waited_after_each_429(requests: list[dict[str, Any]], retry_after: float) -> int:
    """Each 429's next request for the same page came after the wait the portal asked for; how many were checked."""
    checked = 0
    for n, entry in enumerate(requests):
        again = next((e for e in requests[n + 1:] if e["query"] == entry["query"]), None)
        if entry["status"] == 429 and again is not None:
            assert (at(again) - at(entry)).total_seconds() >= retry_after, (entry, again)
            checked += 1
    return checked


def throttled_steps(home: Path, run_id: str) -> list[dict[str, Any]]:
    record = json.loads((home / "runs" / run_id / "report.json").read_text())
    return [s for s in record["steps"] if s["name"].endswith(" throttled")]


@pytest.mark.parametrize("fetch", ["script", "http"])
def test_a_read_under_the_portals_429_waits_its_retry_after_and_returns_every_record(sandbox, sandbox_env, home,
                                                                                       fetch):
    """fetch: script - the page the browser fetches answers 429 (the wait read from the page's words); http - the
    hybrid walk's client sees the status and the Retry-After header. The first page, opened by the browser,
    meets the throttled page in both."""
    httpx.post(f"{sandbox.url}/_sandbox/faults", json=FAULT).raise_for_status()
    done = run_flow_cli([LIST, *ARGS, "--var", f"fetch={fetch}"], home, env=sandbox_env)
    assert done.returncode == 0, done.stderr
    ids = [c["id"] for c in done.outputs["customers"]]
    assert sorted(ids) == austin_ids(sandbox) and len(ids) == 896
    requests = customer_requests(sandbox)
    statuses = [e["status"] for e in requests]
    assert statuses[:6] == [429, 200, 200, 429, 429, 200]
    assert statuses.count(200) == 9  # every page once
    assert assert_waited_after_each_429(requests, 1.0) == statuses.count(429)
    steps = throttled_steps(home, done.run_id)
    assert len(steps) == statuses.count(429)
    assert steps[0]["name"] == "list_customers.yaml steps[1].open throttled"
    assert steps[0]["output_summary"] == ("the portal answered 429 Too many requests; waited 1 s (its Retry-After), "
                                          "then tried again")
    assert {s["status"] for s in steps} == {"retried"}
    assert all(s["name"].startswith("GET ") for s in steps[1:])
    assert done.stderr.count("throttled: the portal answered 429 Too many requests") == statuses.count(429)


def test_a_portal_that_keeps_answering_429_ends_the_run_throttled_with_its_exact_message(sandbox, sandbox_env,
                                                                                          home):
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={**FAULT, "percent": 100}).raise_for_status()
    done = run_flow_cli([LIST, *ARGS], home, env=sandbox_env)
    assert done.returncode == 3, done.stderr
    message = ("the portal kept answering 429 Too many requests to list_customers.yaml steps[1].open (3 attempts, "
               "waited 2 × 1 s; it asks for 1 s more)")
    record = json.loads((home / "runs" / done.run_id / "report.json").read_text())
    assert (record["status"], record["failure_kind"], record["error_class"], record["error_message"]) == (
        "errored", "portal_throttled", "PortalThrottled", message)
    assert message in done.stderr
    requests = customer_requests(sandbox)
    assert [e["status"] for e in requests] == [429, 429, 429]
    assert assert_waited_after_each_429(requests, 1.0) == 2


def test_a_write_that_meets_the_429_page_is_not_submitted_again(sandbox, sandbox_env, home):
    """A 429 should mean the portal did nothing, but a write not marked idempotent is never repeated by the runner:
    the run ends throttled and says to check the portal. (Seed 0 at 50 %: the form's GET passes, its POST is 429.)"""
    fault = {"name": "rate_limit", "percent": 50, "seed": 0, "retry_after": 1, "paths": ["/customers/new"]}
    httpx.post(f"{sandbox.url}/_sandbox/faults", json=fault).raise_for_status()
    done = run_flow_cli([str(Path(__file__).parent / "flows" / "throttled_write.yaml"), "--report", "json"], home,
                        env=sandbox_env)
    assert done.returncode == 3, done.stderr
    record = json.loads((home / "runs" / done.run_id / "report.json").read_text())
    assert (record["failure_kind"], record["error_message"]) == (
        "portal_throttled", "the portal answered 429 Too many requests to write step throttled_write.yaml "
        "steps[3].click; it was not repeated because it is not marked `idempotent: true` (check in the portal whether "
        "it went through)")
    log = httpx.get(f"{sandbox.url}/_sandbox/requests").json()
    assert [(e["method"], e["status"]) for e in log if e["path"] == "/customers/new"] == [("GET", 200), ("POST", 429)]
    assert httpx.get(f"{sandbox.url}/_sandbox/writes").json()["writes"]["acme"] == {}
