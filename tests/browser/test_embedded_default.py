"""docs/CONTRACTS.md C1: with no portal URL, `python runner.py flows/sera/list_customers.yaml` starts the bundled
sandbox by itself, uses its demo account, says so on stderr and stops it afterwards."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import httpx
import pytest

from robots.testing.helpers import cli_env

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser


def test_runner_py_with_nothing_configured_uses_the_bundled_sandbox(tmp_path):
    env = cli_env(tmp_path, ROBOTS_SANDBOX_SIZE="small")
    done = subprocess.run([sys.executable, "runner.py", "flows/sera/list_customers.yaml"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr
    m = re.search(r"^robots: no portal URL configured for 'sera'; started the bundled sandbox at "
                  r"(http://127\.0\.0\.1:\d+) \(demo account\)$", done.stderr, re.M)
    assert m, done.stderr
    assert re.search(r"^run \S+ passed · 3 pages · 120 rows · [\d.]+ s · list_customers$", done.stderr, re.M)
    customers = json.loads(done.stdout)["customers"]
    assert len(customers) == 120
    assert customers[2]["name"] == "Zoë O'Brien" and customers[2]["email"] == "zoe.obrien@example.com"
    assert customers[2]["phones"] == ["+15125550143"] and customers[2]["balance_cents"] == 123450
    with pytest.raises(httpx.ConnectError):  # the sandbox was stopped with the run
        httpx.get(m.group(1) + "/login", timeout=5)


def test_a_loop_of_writes_that_each_call_sign_in_signs_in_once_on_the_bundled_sandbox(tmp_path):
    """No session store for the bundled sandbox (it ends with the run): the second `call: sign_in.yaml` of the
    run holds the first's sign-in rather than waiting for a login form the signed-in portal no longer shows."""
    env = cli_env(tmp_path, ROBOTS_SANDBOX_SIZE="small")
    done = subprocess.run([sys.executable, "runner.py", "tests/packs/sera/flows/create_customers.yaml", "--var",
                           "count=2",
                           "--var", "label=e", "--report", "json"], cwd=ROOT, env=env,
                          capture_output=True, text=True, timeout=300, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    created = json.loads(done.stdout)["customers"]
    assert [(c["customer"]["name"], c["created"], c["submits"]) for c in created] == [
        ("Write Test e 1", True, 1), ("Write Test e 2", True, 1)]
    [report] = (tmp_path / "runs").glob("*/report.json")
    steps = [s["name"] for s in json.loads(report.read_text())["steps"]]
    assert steps.count("create_customer: sign_in: steps[1] login") == 1
    assert steps.count("create_customer: steps[0] call") == 2
