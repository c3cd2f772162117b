"""`retry`: a technical failure is tried again (attempts, doubling back-off), a business failure never; the
robot's health changes once for the whole series. No browser."""

from __future__ import annotations

from pathlib import Path

from scheduler.helpers import FLOWS, SchedulerProcess, robot_runs, robots_cli


def test_technical_failures_are_retried_and_business_failures_are_not(tmp_path: Path) -> None:
    home, schedule = tmp_path / "home", tmp_path / "robots.yaml"
    schedule.write_text(f"""\
- name: technical
  flow: {FLOWS}/broken.yaml
  trigger: {{interval: 1h}}
  retry: {{attempts: 3, backoff: 0.2}}
- name: business
  flow: {FLOWS}/note.yaml
  trigger: {{interval: 1h}}
  retry: {{attempts: 3, backoff: 0.2}}
""")
    assert SchedulerProcess(schedule, home).stop() == 0  # registers the robots

    technical = robots_cli(["schedule", "trigger", "technical"], home, env={"ROBOTS_TEST_ERROR": "1"})
    assert technical.returncode == 3
    assert "robot technical: technical failure; attempt 2 of 3 in 0.2 s" in technical.stderr
    assert "robot technical: technical failure; attempt 3 of 3 in 0.4 s" in technical.stderr
    rows = robot_runs(home, "technical")
    assert [(row.attempt, row.trigger, r.status) for row, r in rows] == [
        (1, "manual", "errored"), (2, "manual", "errored"), (3, "manual", "errored")]
    assert {r.error_message for _, r in rows} == {"steps[0].log: template failed: integer division or modulo by zero"}
    assert technical.stderr.count("robot technical: failure notification") == 1

    business = robots_cli(["schedule", "trigger", "business"], home, env={"ROBOTS_TEST_FAIL": "1"})
    assert business.returncode == 1
    assert [(row.attempt, r.status) for row, r in robot_runs(home, "business")] == [(1, "failed")]
    assert "attempt 2" not in business.stderr
