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
