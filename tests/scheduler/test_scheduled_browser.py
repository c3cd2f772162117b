"""Scheduled robots in real Chromium against the sandbox: a robot never overlaps itself, max_runtime stops a
run as errored with its evidence, SIGTERM ends what outlives the grace period as interrupted with its
browser closed, and the browser pool (ROBOTS_MAX_BROWSERS) queues runs and cancel stops them."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from robots.testing import tracked_pids_alive
from robots.testing.helpers import cli_env
from scheduler.helpers import FLOWS, SchedulerProcess, finished, robot_runs, robots_cli, store_of, wait_until

pytestmark = pytest.mark.browser


def _chrome_up(run_dir: Path) -> bool:
    try:
        return any(p["role"] == "chrome" for p in json.loads((run_dir / "processes.json").read_text())["processes"])
    except (FileNotFoundError, ValueError):
        return False


def test_no_overlap_max_runtime_and_sigterm(sandbox_env: dict[str, str], tmp_path: Path) -> None:
    """Over a minute: one run is held until its max_runtime (20 s) and Chrome starts slowly on a busy machine."""
    home, schedule = tmp_path / "home", tmp_path / "robots.yaml"
    schedule.write_text(f"""\
- name: holder
  flow: {FLOWS}/hold.yaml
  trigger: {{interval: 2}}
  max_runtime: 20
  misfire_grace: 30
""")
    sched = SchedulerProcess(schedule, home, env=sandbox_env, grace=2)
    try:
        wait_until(lambda: [r for _, r in robot_runs(home, "holder") if r.run_dir and _chrome_up(Path(r.run_dir))],
                   120, "the first run's Chrome")
        listed = json.loads(robots_cli(["schedule", "list", "--json"], home).stdout)["robots"]
        assert [(r["name"], r["running"]) for r in listed] == [("holder", True)]
        timed_out = wait_until(lambda: [r for r in finished(home, "holder") if r.status == "errored"], 180,
                               "the first run to reach its max_runtime")[0]
        assert timed_out.ended_at is not None
        # A later run: wait for its Chrome, then stop the scheduler.
        second = wait_until(lambda: [Path(r.run_dir) for _, r in robot_runs(home, "holder")
                                     if r.status == "running" and r.run_dir and _chrome_up(Path(r.run_dir))],
                            120, "a later run's Chrome")[0]
        runs = robot_runs(home, "holder")
    finally:
        code = sched.stop()
    assert code == 0, sched.stderr
    assert "scheduler stopping (SIGTERM): running robots have 2 s to finish" in sched.stderr

    # max_runtime: errored (technical), stopped in its waiting step, evidence kept.
    assert (timed_out.error_class, timed_out.failure_kind) == ("RunTimedOut", "technical")
    assert timed_out.error_message == "the run went over its max_runtime of 20 s and was stopped"
    assert [(s.name, s.status) for s in timed_out.steps] == [("steps[0] open", "passed"),
                                                             ("steps[1] wait_for", "errored")]
    [evidence] = timed_out.evidence
    assert evidence.screenshot and (Path(timed_out.run_dir or "") / evidence.screenshot).is_file()

    # Fires while it ran were skipped, not a second browser.
    during = [r for _, r in runs if r.status == "skipped" and timed_out.started_at < r.started_at < timed_out.ended_at]
    assert during and {r.error_message for r in during} == {"skipped (still running)"}
    assert not any((Path(r.run_dir) / "processes.json").exists() for r in during if r.run_dir)
    assert "robot holder: skipped (still running)" in sched.stderr

    # SIGTERM: the run that outlived the 2 s grace is interrupted, its browser closed.
    store = store_of(home)
    try:
        last = store.get(second.name)
    finally:
        store.close()
    assert (last.status, last.error_message) == ("interrupted", "interrupted by SIGTERM")
    every_dir = [Path(r.run_dir) for _, r in robot_runs(home, "holder") if r.run_dir]
    assert {d.name: tracked_pids_alive(d) for d in every_dir if tracked_pids_alive(d)} == {}


def test_sigterm_lets_a_running_robot_finish_within_the_grace(tmp_path: Path) -> None:
    home, schedule = tmp_path / "home", tmp_path / "robots.yaml"
    schedule.write_text(f"- name: quick\n  flow: {FLOWS}/note.yaml\n  trigger: {{interval: 1}}\n")
    sched = SchedulerProcess(schedule, home, grace=60)
    going = wait_until(lambda: [r for _, r in robot_runs(home, "quick") if r.status == "running"], 60,
                       "a run to be going")[0]
    assert sched.stop() == 0
    runs = {r.run_id: r.status for _, r in robot_runs(home, "quick")}
    assert runs[going.run_id] == "passed"
    assert set(runs.values()) <= {"passed", "skipped"}
    assert "running robots have 60 s to finish" in sched.stderr
    assert "interrupting" not in sched.stderr


def test_the_pool_queues_runs_and_cancel_stops_them(sandbox_env: dict[str, str], tmp_path: Path) -> None:
    """Two `robots run` processes with ROBOTS_MAX_BROWSERS=1: the second waits for the first one's browser;
    `robots runs cancel` ends each (recorded canceled, browser closed)."""
    home = tmp_path / "home"
    env = cli_env(home, **sandbox_env, ROBOTS_MAX_BROWSERS="1")

    def start() -> subprocess.Popen[str]:
        return subprocess.Popen([sys.executable, "-m", "robots.cli", "run", "-v", str(FLOWS / "hold.yaml")],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)

    def run_dirs() -> list[Path]:
        return sorted((home / "runs").iterdir()) if (home / "runs").is_dir() else []

    first = start()
    first_dir = wait_until(lambda: [d for d in run_dirs() if _chrome_up(d)], 120, "the first run's Chrome")[0]
    second = start()
    second_dir = wait_until(lambda: [d for d in run_dirs() if d != first_dir and (d / "owner.json").exists()], 60,
                            "the second run to start")[0]
    assert not (second_dir / "processes.json").exists()  # no browser for it while the first holds the only slot

    cancel = robots_cli(["runs", "cancel", first_dir.name], home, env=env)
    assert (cancel.returncode, cancel.stderr) == (0, f"run {first_dir.name} canceled\n")
    _, first_err = first.communicate(timeout=60)
    assert first.returncode == 130
    assert "error: canceled by robots runs cancel" in first_err
    assert tracked_pids_alive(first_dir) == []

    wait_until(lambda: _chrome_up(second_dir), 120, "the second run's Chrome, once the slot is free")
    cancel = robots_cli(["runs", "cancel", second_dir.name], home, env=env)
    assert (cancel.returncode, cancel.stderr) == (0, f"run {second_dir.name} canceled\n")
    _, second_err = second.communicate(timeout=60)
    assert second.returncode == 130
    assert "robots: all 1 browser slots are in use (ROBOTS_MAX_BROWSERS); waiting for one" in second_err
    assert tracked_pids_alive(second_dir) == []

    store = store_of(home)
    try:
        first_rec, second_rec = store.get(first_dir.name), store.get(second_dir.name)
    finally:
        store.close()
    assert [(r.status, r.error_class, r.error_message) for r in (first_rec, second_rec)] == [
        ("canceled", "Canceled", "canceled by robots runs cancel")] * 2
    assert first_rec.ended_at is not None
    # The second browser started only after the first one's run had ended.
    chrome_started = (second_dir / "processes.json").stat().st_mtime
    assert chrome_started >= first_rec.ended_at.timestamp() - 1.0

    again = robots_cli(["runs", "cancel", first_dir.name], home, env=env)
    assert (again.returncode, again.stderr) == (2, f"error: run {first_dir.name} is not running (it is canceled)\n")


def test_drift_is_notified_once(sandbox, sandbox_env: dict[str, str], tmp_path: Path) -> None:
    """Under the sandbox's layout B the sign-in page's first-choice selectors fail and fallbacks match: the
    robot passes with drift, and the drift webhook goes out once, not again for the same drift. Near a minute
    on a busy machine: two browser runs are what it takes to show "not again"."""
    import httpx

    from robots.outbox import verify
    from scheduler.receiver import Receiver

    home, schedule = tmp_path / "home", tmp_path / "robots.yaml"
    env = {**sandbox_env, "ROBOTS_SECRET_WEBHOOK_SECRET": "drift-secret",
           "ROBOTS_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"}  # the receiver listens on loopback
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "layout_b"}).raise_for_status()
    with Receiver() as receiver:
        schedule.write_text(f"""\
- name: peeker
  flow: {FLOWS}/peek.yaml
  trigger: {{interval: 1h}}
  notify: {{webhooks: [{receiver.url}]}}
""")
        assert SchedulerProcess(schedule, home, env=env).stop() == 0  # registers the robot
        codes = [robots_cli(["schedule", "trigger", "peeker"], home, env=env).returncode for _ in range(2)]
        wait_until(lambda: receiver.received, 30, "the drift webhook")
    assert codes == [0, 0]
    runs = [r for _, r in robot_runs(home, "peeker")]
    assert [r.status for r in runs] == ["passed", "passed"]
    [got] = receiver.received
    event = json.loads(got["body"])
    assert verify("drift-secret", got["headers"], got["body"]) == event["event_id"]
    assert (event["event"], event["run_id"]) == ("robot.drift", runs[0].run_id)
    assert event["drift"].startswith("login.username: matched fallback ")


def test_robots_share_the_browser_pool(sandbox_env: dict[str, str], tmp_path: Path) -> None:
    """Two robots started at once with ROBOTS_MAX_BROWSERS=1: both pass, one browser after the other."""
    home, schedule = tmp_path / "home", tmp_path / "robots.yaml"
    schedule.write_text("".join(f"- name: {name}\n  flow: {FLOWS}/peek.yaml\n  trigger: {{interval: 1h}}\n"
                                for name in ("left", "right")))
    env = {**sandbox_env, "ROBOTS_MAX_BROWSERS": "1"}
    assert SchedulerProcess(schedule, home, env=env).stop() == 0  # registers the robots
    procs = [subprocess.Popen([sys.executable, "-m", "robots.cli", "schedule", "trigger", name],
                              stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True, env=cli_env(home, **env))
             for name in ("left", "right")]
    outcomes = [(p.communicate(timeout=240)[1], p.returncode) for p in procs]
    assert [code for _, code in outcomes] == [0, 0], outcomes
    records = sorted((r for name in ("left", "right") for _, r in robot_runs(home, name)),
                     key=lambda r: (Path(r.run_dir or "") / "processes.json").stat().st_mtime)
    assert [r.status for r in records] == ["passed", "passed"]
    first, second = records
    assert first.ended_at is not None
    second_chrome = (Path(second.run_dir or "") / "processes.json").stat().st_mtime
    assert second_chrome >= first.ended_at.timestamp() - 1.0  # it waited for the first one's browser
    assert all(tracked_pids_alive(Path(r.run_dir or "")) == [] for r in records)


def test_pause_can_cancel_the_runs_going_on(sandbox_env: dict[str, str], tmp_path: Path) -> None:
    home = tmp_path / "home"
    env = cli_env(home, **sandbox_env)
    proc = subprocess.Popen([sys.executable, "-m", "robots.cli", "run", str(FLOWS / "hold.yaml")],
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env)
    run_dir = wait_until(lambda: [d for d in (home / "runs").glob("*") if _chrome_up(d)], 120, "Chrome")[0]
    paused = robots_cli(["pause", "--reason", "Sera upgrade", "--cancel-running"], home, env=env)
    assert (paused.returncode, paused.stderr) == (0, "all robots paused (Sera upgrade); robots resume starts them "
                                                     f"again; canceling {run_dir.name}\n")
    _, err = proc.communicate(timeout=60)
    assert proc.returncode == 130
    assert err.splitlines()[-1] == "error: canceled by robots pause"
    assert tracked_pids_alive(run_dir) == []
    assert robots_cli(["resume"], home, env=env).stderr == "all robots resumed\n"


def test_a_robot_signs_in_with_secrets_stored_under_its_own_names(sandbox_env: dict[str, str],
                                                                   tmp_path: Path) -> None:
    """The Sera customer list as a robot: the flow's secret sera_password is looked up as ops_password."""
    from robots.auth.vault import env_name

    home, schedule = tmp_path / "home", tmp_path / "robots.yaml"
    root = Path(__file__).resolve().parents[2]
    schedule.write_text(f"""\
- name: austin_customers
  flow: {root}/flows/sera/list_customers.yaml
  vars: {{q: Austin}}
  secrets: {{sera_password: ops_password}}
  trigger: {{interval: 1h}}
""")
    env = {k: v for k, v in sandbox_env.items() if k != env_name("sera_password")}
    env[env_name("ops_password")] = sandbox_env[env_name("sera_password")]
    assert SchedulerProcess(schedule, home, env=env).stop() == 0  # registers the robot
    done = robots_cli(["schedule", "trigger", "austin_customers"], home, env=env)
    assert done.returncode == 0, done.stderr
    [(_, record)] = robot_runs(home, "austin_customers")
    assert (record.status, record.trigger, record.inputs["q"]) == ("passed", "schedule", "Austin")
    customers = record.outputs["customers"]
    assert customers and all("Austin" in (c["city"] or "") or "austin" in str(c).lower() for c in customers)
    assert done.stderr.splitlines()[-1] == (f"run {record.run_id} passed · {record.pages} pages · "
                                            f"{record.rows} rows · austin_customers")
