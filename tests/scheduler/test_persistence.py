"""Jobs live in APScheduler's SQL job store on the project's database: a stopped scheduler picks up where it
left off (misfire_grace and coalesce decide what happens to fire times missed while it was down), and a
changed schedule file replaces jobs cleanly. No browser: the robots run a flow that needs none."""

from __future__ import annotations

import json
import sqlite3
import threading
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

from robots.scheduler.state import Registry
from scheduler.helpers import FLOWS, SchedulerProcess, finished, robot_runs, robots_cli, store_of, wait_until


def _next_runs(home: Path) -> dict[str, datetime | None]:
    store = store_of(home)
    try:
        return Registry(store.engine).next_run_times()
    finally:
        store.close()


def test_missed_fire_times_after_a_restart_are_coalesced_or_each_run(tmp_path: Path) -> None:
    """Over a minute on a busy 2-core machine: every run of a robot is a Python process of its own (about
    2-3 s each here), and the robot without coalesce runs each missed fire time one after the other."""
    home, schedule = tmp_path / "home", tmp_path / "robots.yaml"
    schedule.write_text(f"""\
- name: coalesced
  flow: {FLOWS}/note.yaml
  trigger: {{interval: 2}}
  misfire_grace: 10m
  coalesce: true
- name: each
  flow: {FLOWS}/note.yaml
  trigger: {{interval: 2}}
  misfire_grace: 10m
  coalesce: false
- name: strict
  flow: {FLOWS}/note.yaml
  trigger: {{interval: 2}}
  misfire_grace: 1
  coalesce: false
""")
    first = SchedulerProcess(schedule, home)
    wait_until(lambda: finished(home, "coalesced") and finished(home, "each"), 90, "a first run of both robots")
    assert first.stop() == 0
    assert "scheduler stopped" in first.stderr
    stored = _next_runs(home)
    assert sorted(stored) == ["coalesced", "each", "strict"]
    # While no scheduler runs, let three fire times of each robot go by (the clock passing an instant).
    last_missed = {name: t + timedelta(seconds=4) for name, t in stored.items() if t is not None}
    wait_until(lambda: datetime.now(UTC) > max(last_missed.values()) + timedelta(seconds=0.5), 30,
               "three fire times to pass")
    before = {name: {row.run_id for row, _ in robot_runs(home, name)} for name in stored}

    second = SchedulerProcess(schedule, home)
    missed_each = [stored["each"] + timedelta(seconds=2 * k) for k in range(3)]  # type: ignore[operator]
    missed_strict = [stored["strict"] + timedelta(seconds=2 * k) for k in range(2)]  # type: ignore[operator]

    def caught_up() -> bool:
        done = {row.scheduled_for for row, r in robot_runs(home, "each") if r.status == "passed"}
        strict = {row.scheduled_for for row, r in robot_runs(home, "strict") if r.status == "skipped"}
        return (set(missed_each) <= done and set(missed_strict) <= strict
                and any(row.run_id not in before["coalesced"] for row, _ in robot_runs(home, "coalesced")))
    wait_until(caught_up, 120, "the missed fire times to be run")
    assert second.stop() == 0

    new = [(row, r) for row, r in robot_runs(home, "coalesced") if row.run_id not in before["coalesced"]]
    first_after = new[0][0]
    # Coalesced: one run for all the missed fire times, the latest of them; the earlier ones never ran.
    assert first_after.scheduled_for >= last_missed["coalesced"]
    fire_times = [row.scheduled_for for row, _ in robot_runs(home, "coalesced")]
    assert stored["coalesced"] not in fire_times
    assert stored["coalesced"] + timedelta(seconds=2) not in fire_times  # type: ignore[operator]
    assert len(fire_times) == len(set(fire_times))
    # Without coalesce: every missed fire time ran, each its own run, each passed.
    each = {row.scheduled_for: r for row, r in robot_runs(home, "each") if row.run_id not in before["each"]}
    assert [each[t].status for t in missed_each] == ["passed", "passed", "passed"]
    assert len({each[t].run_id for t in missed_each}) == 3
    # Later than misfire_grace: recorded as skipped, not run.
    strict = {row.scheduled_for: r for row, r in robot_runs(home, "strict")}
    for t in missed_strict:
        message = strict[t].error_message or ""
        assert message.startswith("skipped (missed by ") and message.endswith(" s, more than misfire_grace 1 s)")


def test_a_changed_schedule_file_replaces_jobs_cleanly(tmp_path: Path) -> None:
    home, schedule = tmp_path / "home", tmp_path / "robots.yaml"

    def write(robots: dict[str, str]) -> None:
        schedule.write_text("".join(f"- name: {name}\n  flow: {FLOWS}/note.yaml\n  trigger: {{interval: {every}}}\n"
                                    for name, every in robots.items()))

    write({"alpha": "1h", "beta": "1h"})
    assert SchedulerProcess(schedule, home).stop() == 0
    first = _next_runs(home)
    assert sorted(first) == ["alpha", "beta"]

    assert SchedulerProcess(schedule, home).stop() == 0  # the same file: the jobs are kept as they were
    assert _next_runs(home) == first

    write({"alpha": "2h", "gamma": "1h"})  # alpha changed, beta removed, gamma added
    started = datetime.now(UTC)
    sched = SchedulerProcess(schedule, home)
    assert sched.stop() == 0
    now = _next_runs(home)
    assert sorted(now) == ["alpha", "gamma"]  # one job per robot: no duplicate, nothing left of beta
    assert now["alpha"] is not None and now["alpha"] >= started + timedelta(hours=2) - timedelta(seconds=1)
    assert "robot alpha: its schedule changed; job replaced" in sched.stderr
    assert "robot beta: removed from the job store (no longer in the schedule files)" in sched.stderr
    listed = json.loads(robots_cli(["schedule", "list", "--json"], home).stdout)
    assert [(r["name"], r["trigger"]) for r in listed["robots"]] == [("alpha", "every 2h"), ("gamma", "every 1h")]


def test_pausing_one_robot_reaches_the_running_scheduler(tmp_path: Path) -> None:
    home, schedule = tmp_path / "home", tmp_path / "robots.yaml"
    schedule.write_text(f"- name: alpha\n  flow: {FLOWS}/note.yaml\n  trigger: {{interval: 1h}}\n")
    sched = SchedulerProcess(schedule, home)
    try:
        second = robots_cli(["schedule", "run", str(schedule)], home)
        assert second.returncode == 2
        assert second.stderr.startswith("error: a scheduler is already running with ")
        elsewhere = robots_cli(["schedule", "run", str(schedule)], tmp_path / "other-home",
                               env={"ROBOTS_DATABASE_URL": f"sqlite:///{home}/robots.db"})  # same database
        assert elsewhere.returncode == 2
        assert elsewhere.stderr.startswith(f"error: a scheduler already runs on this database (pid {sched.proc.pid} ")
        listed = json.loads(robots_cli(["schedule", "list", "--json"], home).stdout)
        assert listed["scheduler"]["pid"] == sched.proc.pid
        done = robots_cli(["schedule", "pause", "alpha"], home)
        assert (done.returncode, done.stderr) == (0, "robot alpha paused\n")
        wait_until(lambda: _next_runs(home)["alpha"] is None, 30, "the scheduler to pause the job")
        listed = json.loads(robots_cli(["schedule", "list", "--json"], home).stdout)["robots"]
        assert [(r["name"], r["paused"], r["next_run_at"]) for r in listed] == [("alpha", True, None)]

        done = robots_cli(["schedule", "resume", "alpha"], home)
        assert (done.returncode, done.stderr) == (0, "robot alpha resumed\n")
        wait_until(lambda: _next_runs(home)["alpha"] is not None, 30, "the scheduler to resume the job")
        unknown = robots_cli(["schedule", "pause", "alpah"], home)
        assert (unknown.returncode, unknown.stderr) == (2, "error: no robot named 'alpah' (did you mean 'alpha'?); "
                                                           "known: alpha\n")
    finally:
        assert sched.stop() == 0
    assert "robot alpha: paused" in sched.stderr and "robot alpha: resumed" in sched.stderr


def test_a_one_off_robot_runs_once_across_restarts(tmp_path: Path) -> None:
    home, schedule = tmp_path / "home", tmp_path / "robots.yaml"
    when = (datetime.now(UTC) + timedelta(seconds=3)).replace(microsecond=0)
    schedule.write_text(f"- name: once\n  flow: {FLOWS}/note.yaml\n  trigger: {{date: '{when.isoformat()}'}}\n")
    sched = SchedulerProcess(schedule, home)
    wait_until(lambda: finished(home, "once"), 60, "the one-off run")
    assert sched.stop() == 0
    assert _next_runs(home) == {}  # APScheduler drops a date job once it fired
    assert SchedulerProcess(schedule, home).stop() == 0  # a restart does not bring it back
    assert _next_runs(home) == {}
    assert [(row.scheduled_for, r.status) for row, r in robot_runs(home, "once")] == [(when, "passed")]


class BusyWriter:
    """Another process's runs saving their records: the database's write lock held most of the time, in short
    transactions with short gaps, until the block ends."""

    def __init__(self, database: Path) -> None:
        self.database = database
        self.commits = 0
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._write, daemon=True)

    def __enter__(self) -> BusyWriter:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(30)

    def _write(self) -> None:
        db = sqlite3.connect(self.database, isolation_level=None, timeout=30)
        try:
            db.execute("CREATE TABLE IF NOT EXISTS busy_writer (n INTEGER)")
            while not self._stop.is_set():
                db.execute("BEGIN IMMEDIATE")
                db.execute("INSERT INTO busy_writer VALUES (?)", (self.commits,))
                time.sleep(0.15)  # a write transaction in progress
                db.execute("COMMIT")
                self.commits += 1
                time.sleep(0.02)  # back-off: a short gap in which others get the lock
        finally:
            db.close()


def test_a_first_scheduler_starts_while_runs_keep_writing_the_same_database(tmp_path: Path) -> None:
    """Unattended, runs write the SQLite file while a scheduler starts for the first time on it. APScheduler's job
    store checks for its table and then creates it in one transaction; begun deferred, such a transaction fails at
    once with "database is locked" when another writer commits in between, whatever the busy timeout. A first
    scheduler starts on each of three databases that another writer keeps busy."""
    schedule = tmp_path / "robots.yaml"
    schedule.write_text(f"- name: later\n  flow: {FLOWS}/note.yaml\n  trigger: {{interval: 3600}}\n")
    for attempt in range(3):
        home = tmp_path / f"home-{attempt}"
        store_of(home).close()  # the database, migrated and in WAL mode, as a first run leaves it
        with BusyWriter(home / "robots.db") as busy:
            sched = SchedulerProcess(schedule, home)
            assert sched.stop() == 0, sched.stderr
        assert "database is locked" not in sched.stderr
        assert busy.commits > 3  # the writer really wrote throughout
        assert list(_next_runs(home)) == ["later"]
