"""Inputs are whole before anything starts (issue 18), against the real sandbox: a composite flow given a bad list
signs in nowhere, writes nothing and starts no browser; an empty result written as CSV still has its header."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import httpx
import pytest

from robots.testing import run_flow_cli

ROOT = Path(__file__).resolve().parents[3]
COMPOSITE = Path(__file__).resolve().parent / "flows" / "customer_with_work_order.yaml"

pytestmark = pytest.mark.browser


def writes(sandbox: Any) -> dict[str, int]:
    return httpx.get(f"{sandbox.url}/_sandbox/writes").json()["writes"].get("acme", {})


def test_a_composite_flow_with_a_bad_list_writes_nothing_and_starts_no_browser(sandbox, sandbox_env, tmp_path):
    run = run_flow_cli([str(COMPOSITE), "--var", "key=k-18", "--var", "name=Ada Inputs", "--var",
                        "email=ada.inputs@example.com", "--var", "lines=[{code: DIA-100, quantity: 1}"],
                       tmp_path, env=sandbox_env)
    assert (run.returncode, run.stdout, run.stderr) == (2, "", (
        f"error: {COMPOSITE}: var 'lines' must be a list in JSON or YAML flow syntax, like [a, b] or "
        "[{code: DIA-100, quantity: 1}]; '[{code: DIA-100, quantity: 1}' is not: at column 30: YAML syntax error: "
        "expected ',' or ']', but got '<stream end>'\n"))
    assert writes(sandbox) == {}
    assert not (tmp_path / "runs").exists()  # no run folder: no processes.json, no browser was started


def test_an_empty_result_written_as_csv_has_its_header(sandbox, sandbox_env, tmp_path):
    target = tmp_path / "customers.csv"
    run = run_flow_cli([str(ROOT / "flows/sera/list_customers.yaml"), "--var", "q=no such customer zzz",
                        "--output", str(target)], tmp_path / "home", env=sandbox_env)
    assert run.returncode == 0, run.stderr
    assert target.read_bytes() == (
        b"source_url,scraped_at,id,number,name,type,status,raw_status,raw_type,email,phones,city,tags,balance_cents,"
        b"created_at,modified_at,do_not_service,locations,primary_contact\r\n")
