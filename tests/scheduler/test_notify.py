"""Notifications go out once per change of a robot's state (failure, then recovery), not on every failed run:
through the one webhook outbox (a local HTTP server receives them, signed) and to a command. `robots pause`
stops every robot for a maintenance window. Runs are started with `robots schedule trigger`, the scheduler's
own path, while the scheduler runs; no browser."""

from __future__ import annotations

import json
import shlex
import sys
from pathlib import Path

from robots.outbox import verify
from scheduler.helpers import FLOWS, SchedulerProcess, robot_runs, robots_cli, store_of, wait_until
from scheduler.receiver import Receiver

SECRET = "hooks-secret-for-tests"


def test_failure_and_recovery_are_sent_once_per_change(tmp_path: Path) -> None:
    """About a minute on a busy 2-core machine: four runs, each a CLI process plus the run's own process."""
    home, schedule, events = tmp_path / "home", tmp_path / "robots.yaml", tmp_path / "events.jsonl"
    command = (f"{shlex.quote(sys.executable)} -c "
               + shlex.quote(f"import sys; open({str(events)!r}, 'a').write(sys.stdin.read() + '\\n')"))
    env = {"ROBOTS_SECRET_WEBHOOK_SECRET": SECRET, "ROBOTS_WEBHOOK_BACKOFF": "0.2",
           "ROBOTS_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"}  # the receiver listens on loopback
    with Receiver() as receiver:
        schedule.write_text(f"""\
- name: flaky
  flow: {FLOWS}/note.yaml
  trigger: {{interval: 1h}}
  notify:
    webhooks: [{receiver.url}]
    command: {json.dumps(command)}
""")
        sched = SchedulerProcess(schedule, home, env=env)
        try:
            codes = [robots_cli(["schedule", "trigger", "flaky"], home, env={**env, "ROBOTS_TEST_FAIL": fail})
                     for fail in ("1", "1", "0", "0")]
            wait_until(lambda: len(receiver.received) >= 2, 30, "two webhooks")
        finally:
            assert sched.stop() == 0
    assert [c.returncode for c in codes] == [1, 1, 0, 0]
    assert codes[0].stderr.splitlines()[-2] == "error: the test asked for a failure"
    runs = [r for _, r in robot_runs(home, "flaky")]
    assert [r.status for r in runs] == ["failed", "failed", "passed", "passed"]
    assert all(r.trigger == "schedule" for r in runs)

    sent = [json.loads(r["body"]) for r in receiver.received]
    assert [(e["event"], e["robot"], e["run_id"], e["status"]) for e in sent] == [
        ("robot.failure", "flaky", runs[0].run_id, "failed"), ("robot.recovery", "flaky", runs[2].run_id, "passed")]
    assert sent[0]["error"] == "the test asked for a failure"
    assert sent[0]["failure_kind"] == "business"
    assert [verify(SECRET, r["headers"], r["body"]) for r in receiver.received] == [e["event_id"] for e in sent]
    by_command = [json.loads(line) for line in events.read_text().splitlines()]
    assert [(e["kind"], e["run_id"]) for e in by_command] == [("failure", runs[0].run_id),
                                                              ("recovery", runs[2].run_id)]
    listed = json.loads(robots_cli(["schedule", "list", "--json"], home).stdout)["robots"]
    assert [(r["name"], r["last_status"], r["last_run_id"], r["health"]) for r in listed] == [
        ("flaky", "passed", runs[3].run_id, "ok")]


def test_robots_pause_stops_every_robot_until_resume(tmp_path: Path) -> None:
    home, schedule = tmp_path / "home", tmp_path / "robots.yaml"
    schedule.write_text(f"- name: nightly\n  flow: {FLOWS}/note.yaml\n  trigger: {{interval: 1h}}\n")
    assert SchedulerProcess(schedule, home).stop() == 0  # it registers the robot

    paused = robots_cli(["pause", "--reason", "portal maintenance"], home)
    assert (paused.returncode, paused.stderr) == (0, "all robots paused (portal maintenance); robots resume starts "
                                                     "them again\n")
    skipped = robots_cli(["schedule", "trigger", "nightly"], home)
    assert skipped.returncode == 0
    assert skipped.stderr.splitlines()[-1] == "skipped (robots paused: portal maintenance)"
    listed = robots_cli(["schedule", "list"], home).stderr.splitlines()
    assert listed[0] == "scheduler: none is running on this database (robots schedule run FILE)"
    assert listed[1].startswith("all robots are paused since ")
    assert listed[1].endswith(" by cli: portal maintenance (robots resume)")

    resumed = robots_cli(["resume"], home)
    assert (resumed.returncode, resumed.stderr) == (0, "all robots resumed\n")
    ran = robots_cli(["schedule", "trigger", "nightly"], home)
    assert ran.returncode == 0, ran.stderr
    runs = [r for _, r in robot_runs(home, "nightly")]
    assert [(r.status, r.error_message) for r in runs] == [
        ("skipped", "skipped (robots paused: portal maintenance)"), ("passed", None)]
    store = store_of(home)
    try:
        assert store.paused() is None
    finally:
        store.close()


def test_webhooks_need_their_signing_secret(tmp_path: Path) -> None:
    home, schedule = tmp_path / "home", tmp_path / "robots.yaml"
    schedule.write_text(f"- name: nightly\n  flow: {FLOWS}/note.yaml\n  trigger: {{interval: 1h}}\n"
                        "  notify: {webhooks: ['http://127.0.0.1:9/hooks']}\n")
    done = robots_cli(["schedule", "run", str(schedule)], home, env={"ROBOTS_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"})
    assert (done.returncode, done.stderr) == (2, (  # at its place in the file, as `robots schedule validate` says it
        f"{schedule}:4:22: [0].notify.webhooks: webhooks are signed with the secret 'webhook_secret' (HMAC-SHA256), "
        "and secret 'webhook_secret' not found; looked in the environment (ROBOTS_SECRET_WEBHOOK_SECRET), the vault "
        f"({home}/vault), a command (ROBOTS_SECRET_COMMAND is not set); set it, e.g. robots secrets set "
        "webhook_secret\n1 problem found; nothing was run.\n"))
