"""A portal that answers a page with an HTTP error (the sandbox's server_error fault) ends the waiting step at once
with an error that names the answer, not a selector timeout (real Chromium, the real sandbox, the CLI)."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from pathlib import Path
from urllib.parse import quote_plus

import httpx
import markupsafe
import pytest

from robots.masking import MASK, encodings
from robots.packs.sera.sandbox import credentials
from robots.testing import tracked_pids_alive
from robots.testing.helpers import cli_env

FLOW = Path(__file__).resolve().parent / "flows" / "jobs_long_wait.yaml"

pytestmark = pytest.mark.browser

#: far below the flow's 600 s step timeout: a run that waited for the selector would be stopped here
WELL_BEFORE_THE_TIMEOUT = 150


def _run(args: list[str], home: Path, env: dict[str, str]) -> subprocess.CompletedProcess[str]:
    """`robots run ARGS` stopped (SIGTERM: the runner ends its Chrome) when it outlives WELL_BEFORE_THE_TIMEOUT."""
    proc = subprocess.Popen([sys.executable, "-m", "robots.cli", "run", *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**cli_env(home), **env})
    try:
        out, err = proc.communicate(timeout=WELL_BEFORE_THE_TIMEOUT)
    except subprocess.TimeoutExpired:
        proc.send_signal(signal.SIGTERM)
        out, err = proc.communicate(timeout=60)
        pytest.fail(f"the run still waited after {WELL_BEFORE_THE_TIMEOUT} s (the step may wait 600 s):\n{err}")
    return subprocess.CompletedProcess(proc.args, proc.returncode, out, err)


def _record(home: Path) -> dict:
    [run_dir] = (home / "runs").iterdir()
    out = subprocess.run([sys.executable, "-m", "robots.cli", "runs", "show", run_dir.name, "--json"],
                         capture_output=True, text=True, env=cli_env(home), check=True)
    return json.loads(out.stdout)


def test_a_page_the_portal_answers_with_500_ends_the_step_at_once_naming_the_answer(sandbox, sandbox_env, tmp_path):
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "server_error", "paths": ["/jobs"]}).raise_for_status()
    report = tmp_path / "report.html"
    run = _run([str(FLOW), "--var", "path=/jobs?q=furnace&page=2", "--report", f"html={report}"], tmp_path,
               sandbox_env)
    message = "the portal answered HTTP 500 on GET /jobs?q=furnace&page=2 (while waiting for 'jobs.table')"
    assert run.returncode == 3, run.stderr
    assert f"error: {message}\n" in run.stderr
    assert run.stdout == ""
    record = _record(tmp_path)
    assert (record["status"], record["failure_kind"]) == ("errored", "technical")
    assert (record["error_class"], record["error_message"]) == ("PortalFailed", message)
    failed = [(s["name"], s["status"], s["error_message"]) for s in record["steps"] if s["status"] != "passed"]
    assert failed == [("steps[3] read_text", "errored", message)]
    assert str(markupsafe.escape(message)) in report.read_text()
    assert tracked_pids_alive(tmp_path / "runs" / record["run_id"]) == []


def test_a_4xx_answer_is_named_the_same_way_with_the_secrets_in_its_url_masked(sandbox, sandbox_env, tmp_path):
    password = credentials()["password"]
    run = _run([str(FLOW), "--var", f"path=/jobs/99999999?k={quote_plus(password)}"], tmp_path, sandbox_env)
    message = f"the portal answered HTTP 404 on GET /jobs/99999999?k={MASK} (while waiting for 'jobs.table')"
    assert run.returncode == 3, run.stderr
    assert f"error: {message}\n" in run.stderr
    assert _record(tmp_path)["error_message"] == message
    assert not any(form in run.stderr for form in encodings(password))
