"""Wrong credentials end a run as a classified business failure, with evidence; Chrome is always ended."""

from __future__ import annotations

import json
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pyotp
import pytest

from robots.auth.vault import env_name
from robots.testing import run_flow_cli, tracked_pids_alive
from robots.testing.helpers import cli_env, wait_for_chrome

ROOT = Path(__file__).resolve().parents[2]
FLOW = str(ROOT / "flows/sera/list_customers.yaml")

pytestmark = pytest.mark.browser


def _record(home: Path, run_id: str) -> dict:
    out = subprocess.run([sys.executable, "-m", "robots.cli", "runs", "show", run_id, "--json"],
                         capture_output=True, text=True, env=cli_env(home), check=True)
    return json.loads(out.stdout)


def test_wrong_password_is_login_rejected(sandbox, sandbox_env, tmp_path):
    env = {**sandbox_env, env_name("sera_password"): "not the password"}
    run = run_flow_cli([FLOW], tmp_path, env=env)
    assert run.returncode == 1, run.stderr
    assert run.stdout == ""
    assert "error: login rejected: Invalid username or password.\n" in run.stderr
    record = _record(tmp_path, run.run_id)
    assert record["status"] == "failed" and record["failure_kind"] == "business"
    assert record["error_class"] == "CredentialsRejected"
    assert record["error_message"] == "login rejected: Invalid username or password."
    failed = [s for s in record["steps"] if s["status"] != "passed"]
    assert [(s["name"], s["status"]) for s in failed] == [("steps[0] call", "failed"),
                                                           ("sign_in: steps[1] login", "failed")]
    [ev] = record["evidence"]
    shot = tmp_path / "runs" / run.run_id / ev["screenshot"]
    assert shot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert "Invalid username or password." in (tmp_path / "runs" / run.run_id / ev["html"]).read_text()
    assert ev["url"].startswith(sandbox.url + "/login")
    assert tracked_pids_alive(tmp_path / "runs" / run.run_id) == []


def test_wrong_totp_code_is_mfa_rejected(sandbox, sandbox_env, tmp_path):
    env = {**sandbox_env, env_name("sera_totp"): pyotp.random_base32()}
    run = run_flow_cli([FLOW], tmp_path, env=env)
    assert run.returncode == 1, run.stderr
    assert "error: MFA code rejected: Invalid verification code.\n" in run.stderr
    record = _record(tmp_path, run.run_id)
    assert record["status"] == "failed" and record["failure_kind"] == "business"
    assert record["error_message"] == "MFA code rejected: Invalid verification code."
    [ev] = record["evidence"]
    assert (tmp_path / "runs" / run.run_id / ev["screenshot"]).stat().st_size > 1000
    assert tracked_pids_alive(tmp_path / "runs" / run.run_id) == []


def test_unreachable_portal_is_a_technical_error_not_a_timeout(tmp_path, sandbox_env):
    with socket.socket() as s:  # a loopback port that nothing listens on once this block ends
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    env = {**sandbox_env, "ROBOTS_PORTAL_URL": f"http://127.0.0.1:{port}"}
    run = run_flow_cli([FLOW], tmp_path, env=env)
    assert run.returncode == 3, run.stderr
    message = f"could not reach http://127.0.0.1:{port}/login: ERR_CONNECTION_REFUSED"
    assert f"error: {message}\n" in run.stderr
    record = _record(tmp_path, run.run_id)
    assert record["status"] == "errored" and record["failure_kind"] == "technical"
    assert (record["error_class"], record["error_message"]) == ("PortalUnreachable", message)
    assert tracked_pids_alive(tmp_path / "runs" / run.run_id) == []


def _start_and_wait_for_chrome(tmp_path: Path, env: dict) -> tuple[subprocess.Popen, Path]:
    proc = subprocess.Popen([sys.executable, "-m", "robots.cli", "run", FLOW], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, env={**cli_env(tmp_path), **env})
    run_dir = wait_for_chrome(tmp_path)
    if run_dir is None:
        proc.kill()
        raise AssertionError("the run never started Chrome")
    return proc, run_dir


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["SIGINT", "SIGTERM"])
def test_a_signal_interrupts_the_run_and_ends_chrome(sandbox, sandbox_env, tmp_path, sig):
    proc, run_dir = _start_and_wait_for_chrome(tmp_path, sandbox_env)
    try:
        assert tracked_pids_alive(run_dir) != []
        proc.send_signal(sig)
        out, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 130, err
    assert out == ""
    assert tracked_pids_alive(run_dir) == []
    record = _record(tmp_path, run_dir.name)
    assert record["status"] == "interrupted"
    assert record["error_message"] == f"interrupted by {sig.name}"


def test_a_killed_runner_leaves_orphans_that_the_next_start_sweeps(sandbox, sandbox_env, tmp_path):
    proc, run_dir = _start_and_wait_for_chrome(tmp_path, sandbox_env)
    proc.kill()  # SIGKILL: no cleanup runs in the runner
    proc.communicate(timeout=30)
    orphans = tracked_pids_alive(run_dir)
    assert orphans != []  # chromedriver leads its own process group, so Chrome outlived its runner
    assert _record(tmp_path, run_dir.name)["status"] == "running"
    done = subprocess.run([sys.executable, "-m", "robots.cli", "runs", "sweep"], capture_output=True, text=True,
                          env=cli_env(tmp_path), timeout=60, check=False)
    assert done.returncode == 0, done.stderr
    assert done.stderr.endswith(f"swept 1 run: {run_dir.name}\n")
    assert tracked_pids_alive(run_dir) == []
    record = _record(tmp_path, run_dir.name)
    assert record["status"] == "interrupted"
    assert record["error_message"].startswith("the runner process ended without finishing the run")
    again = subprocess.run([sys.executable, "-m", "robots.cli", "runs", "sweep"], capture_output=True, text=True,
                           env=cli_env(tmp_path), timeout=60, check=True)
    assert again.stderr == "swept 0 runs\n"


def test_pause_on_failure_keeps_chrome_open_until_enter(sandbox, sandbox_env, tmp_path):
    """Run in a pseudo-terminal, as a person at a keyboard would."""
    import os
    import pty

    master, slave = pty.openpty()
    env = {**cli_env(tmp_path), **sandbox_env, env_name("sera_password"): "not the password"}
    proc = subprocess.Popen([sys.executable, "-m", "robots.cli", "run", FLOW, "--pause-on-failure"],
                            stdin=slave, stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env)
    os.close(slave)
    try:
        deadline = time.monotonic() + 90
        seen = b""
        while b"press Enter to close it" not in seen and time.monotonic() < deadline:
            line = proc.stderr.readline()
            if not line:
                break
            seen += line
        assert b"paused on failure: login rejected: Invalid username or password." in seen, seen
        [run_dir] = list((tmp_path / "runs").iterdir())
        assert tracked_pids_alive(run_dir) != []  # Chrome is still there to be looked at
        os.write(master, b"\n")
        proc.communicate(timeout=60)
    finally:
        os.close(master)
        if proc.poll() is None:
            proc.kill()
            proc.communicate()
    assert proc.returncode == 1
    assert tracked_pids_alive(run_dir) == []
