"""paginate's hybrid mode (`fetch: http`): signed in with the browser, pages read over HTTP with its cookies, the
same scrapers; a page whose content needs JavaScript is read in the browser. Real Chromium, the sandbox."""

from __future__ import annotations

import json
from pathlib import Path

import httpx
import pytest

from robots.testing import run_flow_cli

HERE = Path(__file__).parent
ROOT = HERE.parents[2]
VOLATILE = ("source_url", "scraped_at")

pytestmark = pytest.mark.browser


def strip(records: list[dict]) -> list[dict]:
    return [{k: v for k, v in r.items() if k not in VOLATILE} for r in records]


def test_hybrid_reads_the_same_customers_as_the_browser_and_falls_back_for_javascript(sandbox, sandbox_env,
                                                                                       tmp_path):
    hybrid = run_flow_cli([str(HERE / "flows" / "hybrid_reads.yaml"), "--report", "json", "-v"], tmp_path,
                          env=sandbox_env)
    assert hybrid.returncode == 0, hybrid.stderr
    # Every customers page was fetched once, with the browser's session: one sign-in, no redirect to the login.
    log = httpx.get(f"{sandbox.url}/_sandbox/requests").json()
    pages = [e for e in log if e["path"] == "/customers"]
    assert [e["status"] for e in pages] == [200] * ((len(hybrid.outputs["customers"]) + 24) // 25)
    assert len([e for e in log if e["path"] == "/mfa" and e["method"] == "POST"]) == 1
    browser = run_flow_cli([str(ROOT / "flows" / "sera" / "list_customers.yaml"), "--var", "q=Austin", "--var",
                            "page_size=25"], tmp_path / "browser", env=sandbox_env)  # fmt: skip
    assert browser.returncode == 0, browser.stderr
    customers = hybrid.outputs["customers"]
    assert len(customers) > 25  # more than one page
    assert strip(customers) == strip(browser.outputs["customers"])
    assert all(c["source_url"].startswith(f"{sandbox.url}/customers?page") for c in customers[25:])
    # The board's appointments are drawn by JavaScript: not in the fetched HTML, so each day is read in the browser.
    appointments = hybrid.outputs["appointments"]
    assert {a["start_at"][:10] for a in appointments} == {"2026-03-09", "2026-03-10"}
    assert len([a for a in appointments if a["start_at"].startswith("2026-03-09")]) == 8
    assert hybrid.stderr.count("needs the browser: no element matched 'css:main .board .appt'") == 2


def test_pages_fetched_from_inside_the_browser_under_layout_b_record_the_drift_on_the_paginate_step(
        sandbox, sandbox_env, tmp_path):
    """fetch: script - the browser's page fetches each page (no navigation), with the same scrapers and drift."""
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "layout_b"}).raise_for_status()
    done = run_flow_cli([str(HERE / "flows" / "hybrid_reads.yaml"), "--var", "fetch=script", "--report", "json",
                         "-v"], tmp_path, env=sandbox_env)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert len(done.outputs["customers"]) > 25
    log = httpx.get(f"{sandbox.url}/_sandbox/requests").json()
    pages = [e for e in log if e["path"] == "/customers"]
    assert [(e["status"], e.get("fetch_mode")) for e in pages] == [(200, "cors")] * ((len(done.outputs["customers"])
                                                                                       + 24) // 25)
    assert done.stderr.count("needs the browser: no element matched 'css:main .board .appt'") == 2
    record = json.loads((tmp_path / "runs" / done.run_id / "report.json").read_text())
    [customers_step] = [s for s in record["steps"] if s["step_id"] == "customers"]
    assert customers_step["drift"] == (
        "customers.table: matched fallback css:main table after data-cy:customers-table, id:customers-table failed; "
        "customers.next_page: matched fallback css:a[rel=next] after css:[data-cy=pagination] a[rel=next] failed")
