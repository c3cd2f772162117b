"""`robots selectors check URL --catalog FILE` against the sandbox, in both layouts."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]

pytestmark = pytest.mark.browser


def check(url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, "-m", "robots.cli", "selectors", "check", f"{url}/login", "--catalog",
                           str(ROOT / "selectors/sera/login.yaml")], capture_output=True, text=True, timeout=120,
                          check=False)


def rows(out: str) -> list[list[str]]:
    return [[cell.strip() for cell in line.split(None, 3)] for line in out.splitlines()[1:]]


def test_check_shows_first_choices_then_drift_under_layout_b(sandbox):
    plain = check(sandbox.url)
    # login.error is only on the page after a failed sign-in: no candidate matches here, so exit 1
    assert plain.returncode == 1
    assert plain.stderr == (f"checked on {sandbox.url}/login: 4 of 5 selectors match; none of the candidates of "
                            "login.error match\n")
    table = rows(plain.stdout)
    assert ["login.username", "data-cy:login-username", "1", "used"] in table
    assert ["login.username", "css:input[autocomplete=username]", "1"] in table  # shown as written

    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "layout_b"}).raise_for_status()
    drifted = rows(check(sandbox.url).stdout)
    assert ["login.username", "data-cy:login-username", "0"] in drifted
    assert ["login.username", "id:username", "1", "used (drift: an earlier candidate failed)"] in drifted


def test_check_signs_in_first_with_a_sign_in_flow(sandbox, sandbox_env, tmp_path):
    """`--sign-in FLOW` runs the sign-in flow (the secrets as a run finds them), then checks the page behind it."""
    from robots.testing.helpers import cli_env

    done = subprocess.run([sys.executable, "-m", "robots.cli", "selectors", "check", f"{sandbox.url}/customers",
                           "--catalog", str(ROOT / "selectors/sera/customers.yaml"),
                           "--sign-in", str(ROOT / "flows/sera/sign_in.yaml")],
                          capture_output=True, text=True, timeout=180, check=False,
                          env={**cli_env(tmp_path), **sandbox_env})
    assert done.returncode == 0, done.stderr
    assert done.stderr.splitlines()[-1] == f"checked on {sandbox.url}/customers: 5 of 5 selectors match"
    assert ["customers.table", "data-cy:customers-table", "1", "used"] in rows(done.stdout)
