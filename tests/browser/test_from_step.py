"""`--from-step` keeps the run's context: the sign-in (a call of a flow that declares `session:`) and the steps
marked `setup: true` before the range still run (real Chromium, the real sandbox, the CLI)."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from robots.testing import run_flow_cli
from robots.testing.helpers import cli_env

ROOT = Path(__file__).resolve().parents[2]
SETUP_FLOW = Path(__file__).resolve().parent / "flows" / "setup_steps.yaml"

pytestmark = pytest.mark.browser


def _steps(home: Path, run_id: str) -> list[tuple[str, str]]:
    out = subprocess.run([sys.executable, "-m", "robots.cli", "runs", "show", run_id, "--json"],
                         capture_output=True, text=True, env=cli_env(home), check=True)
    top = [s for s in json.loads(out.stdout)["steps"] if re.fullmatch(r"steps\[\d+\] \w+", s["name"])]
    return [(s["name"], s["status"]) for s in top]


def test_from_step_still_signs_in(sandbox, sandbox_env, tmp_path):
    run = run_flow_cli([str(ROOT / "flows/sera/list_customers.yaml"), "--var", "q=smith", "--var", "fetch=browser",
                        "--from-step", "1"], tmp_path, env=sandbox_env, timeout=240)
    assert run.returncode == 0, run.stderr
    customers = json.loads(run.stdout)["customers"]
    assert customers
    assert _steps(tmp_path, run.run_id) == [("steps[0] call", "passed"), ("steps[1] open", "passed"),
                                            ("steps[2] paginate", "passed"), ("steps[3] set_output", "passed")]


def test_from_step_runs_the_setup_steps_before_it(sandbox, sandbox_env, tmp_path):
    run = run_flow_cli([str(SETUP_FLOW), "--from-step", "by_q"], tmp_path, env=sandbox_env, timeout=240)
    assert run.returncode == 0, run.stderr
    outputs = json.loads(run.stdout)
    assert outputs["q"] == "jones"
    assert _steps(tmp_path, run.run_id) == [("steps[0] call", "passed"), ("steps[1] set", "passed"),
                                            ("steps[2] open", "skipped"), ("steps[3] open", "passed"),
                                            ("steps[4] read_text", "passed"), ("steps[5] set_output", "passed")]
