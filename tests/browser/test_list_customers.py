"""The walking skeleton end to end: a real Chromium runs flows/sera/list_customers.yaml against the sandbox."""

from __future__ import annotations

import json
import re
import sqlite3
from pathlib import Path

import httpx
import pytest

from robots.testing import run_flow_cli, tracked_pids_alive

ROOT = Path(__file__).resolve().parents[2]
FLOW = str(ROOT / "flows/sera/list_customers.yaml")
UTC = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")
SUMMARY = re.compile(r"^run (\S+) passed · (\d+) pages · (\d+) rows · [\d.]+ s · list_customers$", re.M)

pytestmark = pytest.mark.browser


def test_lists_every_seeded_customer_normalized_and_once(sandbox, sandbox_env, tmp_path):
    run = run_flow_cli([FLOW, "--report", "json", "--report", f"junit={tmp_path / 'junit.xml'}"], tmp_path,
                       env=sandbox_env)
    assert run.returncode == 0, run.stderr
    seeded = httpx.get(f"{sandbox.url}/_sandbox/stats").json()["customers"]
    assert seeded == 2500
    customers = run.outputs["customers"]
    assert list(run.outputs) == ["customers"]
    assert len(customers) == seeded
    assert len({c["id"] for c in customers}) == seeded
    assert [int(c["id"]) for c in customers] == sorted(int(c["id"]) for c in customers)
    for c in customers:
        assert c["id"].isdigit() and re.fullmatch(r"C-\d{6}", c["number"])
        assert isinstance(c["name"], str) and c["name"].strip() == c["name"] != ""
        assert c["type"] in ("residential", "commercial") and c["raw_type"] in ("Residential", "Commercial")
        assert c["status"] in ("active", "inactive", "on_hold")
        assert c["raw_status"] == {"active": "Active", "inactive": "Inactive", "on_hold": "On Hold"}[c["status"]]
        assert c["email"] is None or (c["email"] == c["email"].lower() and "@" in c["email"])
        assert all(re.fullmatch(r"\+1\d{10}", p) for p in c["phones"]) and len(c["phones"]) <= 1
        assert type(c["balance_cents"]) is int
        assert UTC.match(c["created_at"]) and UTC.match(c["scraped_at"])
        assert c["source_url"].startswith(f"{sandbox.url}/customers?")
        for absent in ("tags", "modified_at", "do_not_service", "locations", "primary_contact"):
            assert c[absent] is None
    # The data's messiness made it through: the normalizers really ran on varied input.
    assert any(c["balance_cents"] < 0 for c in customers) and any(c["balance_cents"] > 100000 for c in customers)
    assert any(not c["phones"] for c in customers) and any(c["email"] is None for c in customers)
    assert {c["status"] for c in customers} == {"active", "inactive", "on_hold"}

    m = SUMMARY.search(run.stderr)
    assert m, run.stderr
    assert (m.group(2), m.group(3)) == ("50", "2500")
    run_id = m.group(1)
    record = json.loads((tmp_path / "runs" / run_id / "report.json").read_text())
    assert record["status"] == "passed" and record["pages"] == 50 and record["rows"] == 2500
    assert record["outputs"]["customers"] == customers
    assert "<testsuite" in (tmp_path / "junit.xml").read_text()
    with sqlite3.connect(tmp_path / "robots.db") as db:
        assert db.execute("SELECT status FROM runs WHERE run_id = ?", (run_id,)).fetchall() == [("passed",)]
    assert tracked_pids_alive(tmp_path / "runs" / run_id) == []


def test_search_var_narrows_the_list(sandbox, sandbox_env, tmp_path):
    first = httpx.get(f"{sandbox.url}/_sandbox/stats").json()
    assert first["customers"] == 2500
    run = run_flow_cli([FLOW, "--var", "q=Austin", "--var", "page_size=100"], tmp_path, env=sandbox_env)
    assert run.returncode == 0, run.stderr
    customers = run.outputs["customers"]
    assert customers, "the sandbox seeds customers in Austin"
    assert all("austin" in json.dumps(c).lower() for c in customers)
    assert all("page_size=100" in c["source_url"] and "q=Austin" in c["source_url"] for c in customers)
    assert len(customers) < 2500


def test_layout_variant_b_passes_through_fallbacks_with_drift_recorded(sandbox, sandbox_env, tmp_path):
    """docs/CONTRACTS.md C6: under layout B every first-choice selector is broken; the flow still passes."""
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "layout_b"}).raise_for_status()
    run = run_flow_cli([FLOW, "--var", "q=Austin", "--report", "json"], tmp_path, env=sandbox_env)
    assert run.returncode == 0, run.stderr
    customers = run.outputs["customers"]
    assert customers and all(c["city"] == "Austin" or "austin" in json.dumps(c).lower() for c in customers)
    record = json.loads((tmp_path / "runs" / run.run_id / "report.json").read_text())
    drift = {s["name"]: s["drift"] for s in record["steps"] if s["drift"]}
    assert drift["sign_in: steps[1] login"] == (
        "login.username: matched fallback id:username after data-cy:login-username failed; "
        "login.password: matched fallback id:password after data-cy:login-password failed; "
        "login.submit: matched fallback id:login-button after data-cy:login-submit failed; "
        "mfa.code: matched fallback id:code after data-cy:mfa-code failed")
    assert drift["sign_in: steps[2] mfa"] == (
        "mfa.code: matched fallback id:code after data-cy:mfa-code failed; "
        "mfa.submit: matched fallback id:verify-button after data-cy:mfa-submit failed; "
        "nav.main: matched fallback css:nav[aria-label=Main] after data-cy:main-nav failed")
    # The pages are read with fetch: script (the flow's default): their drift is the paginate step's.
    assert drift["steps[2] paginate"].startswith("customers.table: matched fallback")
    assert "selector drift: login.username matched by fallback id:username" in run.stderr
