"""--headed without a display: a virtual one (Xvfb) is started for the run and ended with it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from robots.testing import run_flow_cli, tracked_pids_alive

FLOW = str(Path(__file__).resolve().parent / "flows" / "sign_in_page.yaml")

pytestmark = pytest.mark.browser


def test_headed_runs_on_a_virtual_display_without_one(sandbox, tmp_path):
    run = run_flow_cli([FLOW, "--headed"], tmp_path, env={"ROBOTS_PORTAL_URL": sandbox.url, "DISPLAY": ""})
    assert run.returncode == 0, run.stderr
    [run_dir] = run.run_dirs
    roles = [p["role"] for p in json.loads((run_dir / "processes.json").read_text())["processes"]]
    assert roles[0] == "xvfb" and "chromedriver" in roles and "chrome" in roles
    assert tracked_pids_alive(run_dir) == []
