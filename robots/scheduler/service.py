"""The scheduler: APScheduler 3 with its SQLAlchemy job store on the project's database, and the one path
every robot run takes (fired by the schedule or by `robots schedule trigger`).

A run of a robot is a child process (`robots schedule exec`) running the flow with the ordinary Runner, so
that SIGTERM, cancel requests and `max_runtime` reach it the same way they reach `robots run`, and a robot
that crashes or hangs never takes the scheduler with it. A robot never overlaps itself: a per-robot lock
file, held for the whole run (all its attempts), turns a second fire into a `skipped (still running)` record.
"""

from __future__ import annotations

import fcntl
import json
import logging
import os
import signal
import subprocess
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import IO, Any

from apscheduler.executors.base import BaseExecutor

from robots.errors import ConfigError, InputError
from robots.records.model import RunRecord
from robots.records.store import RunNotFound, SqlStore
from robots.scheduler.config import Robot
from robots.scheduler.notify import Notifier
from robots.scheduler.state import HEARTBEAT_S, Registry

log = logging.getLogger("robots.scheduler")

BACKSTOP_S = 60  # past max_runtime (which the run enforces itself), the scheduler ends the child
TERM_WAIT_S = 30  # after SIGTERM, how long a run may take to record itself and close its browser


def fire_job(robot: str, schedule: str = "") -> None:
    """The job function APScheduler stores (by reference). The scheduler's executor runs robots itself, with
    the fire time; this is only reached if another executor runs the job."""
    raise RuntimeError(f"robot {robot}: run by robots.scheduler's executor only")


class RobotLock:
    """One robot at a time, across threads and processes (an exclusive flock on <home>/robots/NAME.lock)."""

    def __init__(self, home: Path, name: str) -> None:
        self.path = home / "robots" / f"{name}.lock"
        self._handle: IO[str] | None = None

    def acquire(self) -> bool:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(self.path, "a+")  # noqa: SIM115 - held until release()
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.close()
            return False
        self._handle = handle
        return True

    def release(self) -> None:
        if self._handle is not None:
            fcntl.flock(self._handle, fcntl.LOCK_UN)
            self._handle.close()
            self._handle = None

    def held(self) -> bool:
        """Whether some process is running the robot now."""
        from robots.pool import flock_held

        return flock_held(self.path)


class RobotRunner:
    """Runs robots: the global pause, the no-overlap lock, attempts with back-off (technical failures only),
    one log line per run, run records, and notifications."""

    def __init__(self, store: SqlStore, home: Path, notifier: Notifier, registry: Registry) -> None:
        self.store = store
        self.home = home.resolve()
        self.notifier = notifier
        self.registry = registry
        self.stopping = threading.Event()
        self._children: dict[str, subprocess.Popen[bytes]] = {}
        self._lock = threading.Lock()

    def fire(self, robot: Robot, scheduled_for: datetime | None = None, trigger: str = "schedule") -> RunRecord:
        """Run the robot once (with its retries); its last run record."""
        paused = self.store.paused()
        if paused:
            return self.skip(robot, scheduled_for, trigger, f"skipped (robots paused: {paused['reason']})")
        lock = RobotLock(self.home, robot.name)
        if not lock.acquire():
            return self.skip(robot, scheduled_for, trigger, "skipped (still running)")
        try:
            attempts = robot.doc.retry.attempts
            record = None
            for attempt in range(1, attempts + 1):
                record = self._attempt(robot, scheduled_for, trigger, attempt)
                if (record.status != "errored" or attempt == attempts or record.failure_kind == "input"
                        or record.error_class == "InputError"):
                    break
                wait = robot.doc.retry.backoff * 2 ** (attempt - 1)
                log.info("robot %s: technical failure; attempt %d of %d in %g s", robot.name, attempt + 1,
                         attempts, wait)
                if self.stopping.wait(wait):
                    break
            assert record is not None
            self.registry.update(robot.name, last_run_id=record.run_id, last_status=record.status,
                                 last_at=record.ended_at or record.started_at)
            self.notifier.after_run(robot, record)
            return record
        finally:
            lock.release()

    def skip(self, robot: Robot, scheduled_for: datetime | None, trigger: str, why: str) -> RunRecord:
        """Record a fire that did not run (still running, paused, missed)."""
        from robots.run import new_run_id

        now = datetime.now(UTC)
        record = RunRecord(run_id=new_run_id(), flow_name=robot.flow_name, flow_path=robot.flow_path,
                           flow_sha256=robot.flow_sha256, trigger="schedule", inputs=dict(robot.doc.vars),
                           status="skipped", started_at=now, ended_at=now, error_message=why)
        self.registry.add_run(record.run_id, robot.name, scheduled_for, 0, trigger)
        self.store.save(record)  # (the robot's last result stays that of its last run that ran)
        log.info("robot %s: %s%s · run %s", robot.name, why, _for(scheduled_for), record.run_id)
        return record

    def _attempt(self, robot: Robot, scheduled_for: datetime | None, trigger: str, attempt: int) -> RunRecord:
        from robots.run import new_run_id

        run_id = new_run_id()
        self.registry.add_run(run_id, robot.name, scheduled_for, attempt, trigger)
        run_dir = self.home / "runs" / run_id
        run_dir.mkdir(parents=True, exist_ok=True)
        spec = {"run_id": run_id, "flow": robot.flow_path, "vars": robot.doc.vars, "secrets": robot.secret_map,
                "max_runtime": robot.doc.max_runtime}
        env = {**os.environ, "ROBOTS_HOME": str(self.home), "PYTHONUNBUFFERED": "1"}
        url = self.store.url.render_as_string(hide_password=False)
        env["ROBOTS_DATABASE_URL"] = url
        t0 = time.monotonic()
        with open(run_dir / "runner.log", "wb") as errors:
            # A session of its own: a terminal's Ctrl-C meant for the scheduler does not reach the run, which
            # ends on the scheduler's terms (grace, then SIGTERM).
            proc = subprocess.Popen([sys.executable, "-m", "robots.cli", "schedule", "exec"], stdin=subprocess.PIPE,
                                    stdout=subprocess.DEVNULL, stderr=errors, env=env, start_new_session=True)
            with self._lock:
                self._children[run_id] = proc
            try:
                assert proc.stdin is not None
                proc.stdin.write(json.dumps(spec).encode())
                proc.stdin.close()
                self._wait(proc, robot)
            finally:
                with self._lock:
                    self._children.pop(run_id, None)
        record = self._record(robot, run_id, run_dir, proc.returncode)
        seconds = time.monotonic() - t0
        log.info("robot %s: run %s %s · %d pages · %d rows · %.1f s%s%s%s", robot.name, run_id, record.status,
                 record.pages, record.rows, seconds, _for(scheduled_for),
                 f" · attempt {attempt} of {robot.doc.retry.attempts}" if robot.doc.retry.attempts > 1 else "",
                 f" · {record.error_message}" if record.error_message else "")
        return record

    def _wait(self, proc: subprocess.Popen[bytes], robot: Robot) -> None:
        limit = robot.doc.max_runtime + BACKSTOP_S if robot.doc.max_runtime else None
        try:
            proc.wait(timeout=limit)
        except subprocess.TimeoutExpired:
            log.warning("robot %s: the run did not stop at its max_runtime; ending it", robot.name)
            _end(proc)

    def _record(self, robot: Robot, run_id: str, run_dir: Path, code: int | None) -> RunRecord:
        try:
            record = self.store.get(run_id)
        except RunNotFound:
            record = None
        if record is not None and record.status == "running":
            from robots.run import Runner

            Runner(store=self.store, home=self.home).sweep()  # the child died: end its Chrome, mark it
            record = self.store.get(run_id)
        if record is None:
            # The child stopped before its run started (a missing secret, an invalid flow): record why.
            message = _last_error(run_dir / "runner.log") or f"the run process exited with code {code}"
            now = datetime.now(UTC)
            record = RunRecord(run_id=run_id, flow_name=robot.flow_name, flow_path=robot.flow_path,
                               flow_sha256=robot.flow_sha256, trigger="schedule", inputs=dict(robot.doc.vars),
                               status="interrupted" if code == 130 else "errored", started_at=now, ended_at=now,
                               error_class={2: "InputError", 130: "Interrupted"}.get(code or 0, "TechnicalError"),
                               error_message=message,
                               failure_kind="technical", run_dir=str(run_dir))
            self.store.save(record)
        return record

    def running(self) -> list[str]:
        with self._lock:
            return list(self._children)

    def terminate_all(self) -> None:
        """SIGTERM every run: each records itself `interrupted` and closes its browser."""
        with self._lock:
            children = list(self._children.values())
        for proc in children:
            if proc.poll() is None:
                proc.send_signal(signal.SIGTERM)


def _end(proc: subprocess.Popen[bytes]) -> None:
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(TERM_WAIT_S)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


def _for(scheduled_for: datetime | None) -> str:
    return f" · fire time {scheduled_for.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if scheduled_for else ""


def _last_error(path: Path) -> str | None:
    try:
        lines = path.read_text(encoding="utf-8", errors="replace").splitlines()
    except FileNotFoundError:
        return None
    for line in reversed(lines):
        if line.startswith("error: "):
            return line.removeprefix("error: ")
    return None


class RobotScheduler:
    """The long-running scheduler process: `start()`, then `tick()` about once a second, then `shutdown()`."""

    def __init__(self, robots: list[Robot], store: SqlStore, home: Path, *, workers: int = 10,
                 outbox: Any = None) -> None:
        self.robots = {r.name: r for r in robots}
        self.store = store
        self.home = home.resolve()
        self.registry = Registry(store.engine)
        self.outbox = outbox
        self.runner = RobotRunner(store, self.home, Notifier(self.registry, outbox), self.registry)
        self.workers = workers
        self._scheduler: Any = None
        self._pool: ThreadPoolExecutor | None = None
        self._lock_handle: IO[str] | None = None
        self._paused: set[str] = set()
        self._last_beat = 0.0

    # ---- lifecycle
    def start(self) -> None:
        from apscheduler.events import EVENT_JOB_MAX_INSTANCES
        from apscheduler.jobstores.sqlalchemy import SQLAlchemyJobStore
        from apscheduler.schedulers.background import BackgroundScheduler

        self._single_scheduler()
        other = self.registry.claim_scheduler()
        if other is not None:
            self._release_lock()
            raise ConfigError(f"a scheduler already runs on this database (pid {other['pid']} on {other['host']}, "
                              f"since {other['since']}); APScheduler's job store must not be shared by two "
                              f"(a scheduler that was killed lets go {3 * HEARTBEAT_S:g} s after its last heartbeat)")
        self._last_beat = time.monotonic()
        logging.getLogger("apscheduler").setLevel(logging.ERROR)  # each fire gets our own log line instead
        self.registry.register(list(self.robots.values()))
        self._pool = ThreadPoolExecutor(self.workers, thread_name_prefix="robot")
        self._scheduler = BackgroundScheduler(
            # Every job-store transaction takes SQLite's write lock up front (BEGIN IMMEDIATE, see SqlStore): its
            # reads are followed by writes (`CREATE TABLE` after the check, a job's next fire after the due-jobs
            # query), and a deferred transaction that another process wrote past fails at once with "database is
            # locked" instead of waiting - runs write the same file while the scheduler starts and fires.
            jobstores={"default": SQLAlchemyJobStore(engine=self.store.engine.execution_options(robots_write=True))},
            executors={"default": _Executor(self)}, timezone=UTC)
        self._scheduler.add_listener(self._max_instances, EVENT_JOB_MAX_INSTANCES)
        self._scheduler.start(paused=True)  # jobs are put in order before anything fires
        self._sync_jobs()
        self._scheduler.resume()
        for name, job in sorted((j.id, j) for j in self._scheduler.get_jobs()):
            log.info("robot %s: %s · next fire %s", name, self.robots[name].doc.trigger.describe(),
                     f"{job.next_run_time.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if job.next_run_time else "paused")

    def _single_scheduler(self) -> None:
        path = self.home / "scheduler.lock"
        path.parent.mkdir(parents=True, exist_ok=True)
        handle = open(path, "a+")  # noqa: SIM115 - held for the scheduler's life
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            handle.seek(0)
            other = handle.read().strip()
            handle.close()
            raise ConfigError(f"a scheduler is already running with {self.home} (pid {other or '?'}); APScheduler's "
                              "job store must not be shared by two schedulers") from None
        handle.seek(0)
        handle.truncate()
        handle.write(str(os.getpid()))
        handle.flush()
        self._lock_handle = handle

    def _sync_jobs(self) -> None:
        """The job store holds exactly the enabled robots. A job whose schedule is unchanged is kept as stored, so
        what was missed while no scheduler ran is handled by misfire_grace and coalesce; a changed one is replaced."""
        sched = self._scheduler
        self._paused = self.registry.paused_names()
        for job in sched.get_jobs():
            robot = self.robots.get(job.id)
            if robot is None or not robot.doc.enabled:
                log.info("robot %s: removed from the job store (%s)", job.id,
                         "disabled" if robot else "no longer in the schedule files")
                sched.remove_job(job.id)
        for robot in self.robots.values():
            if not robot.doc.enabled:
                continue
            job = sched.get_job(robot.name)
            sha = robot.schedule_sha256
            if job is None and robot.doc.trigger.date is not None and self._fired(robot):
                continue  # a one-off robot whose date came and went (APScheduler dropped the job): not again
            if job is not None and job.kwargs.get("schedule") == sha:
                if robot.name in self._paused and job.next_run_time is not None:
                    job.pause()
                elif robot.name not in self._paused and job.next_run_time is None:
                    job.resume()
                continue
            if job is not None:
                log.info("robot %s: its schedule changed; job replaced", robot.name)
            sched.add_job(fire_job, robot.doc.trigger.build(), id=robot.name, name=robot.name,
                          kwargs={"robot": robot.name, "schedule": sha}, replace_existing=True,
                          misfire_grace_time=int(robot.doc.misfire_grace) if robot.doc.misfire_grace else None,
                          coalesce=robot.doc.coalesce, max_instances=1,
                          next_run_time=None if robot.name in self._paused else _undefined())

    def _fired(self, robot: Robot) -> bool:
        when = robot.doc.trigger.build().run_date
        return any(row.scheduled_for == when for row in self.registry.runs(robot.name))

    def tick(self) -> None:
        """Renew the claim on the database; apply `robots schedule pause/resume NAME` given in other processes."""
        if time.monotonic() - self._last_beat >= HEARTBEAT_S:
            self.registry.heartbeat()
            self._last_beat = time.monotonic()
        paused = self.registry.paused_names()
        if paused == self._paused:
            return
        for name in paused - self._paused:
            if self._scheduler.get_job(name) is not None:
                self._scheduler.pause_job(name)
                log.info("robot %s: paused", name)
        for name in self._paused - paused:
            if self._scheduler.get_job(name) is not None:
                self._scheduler.resume_job(name)
                job = self._scheduler.get_job(name)
                log.info("robot %s: resumed · next fire %s", name,
                         f"{job.next_run_time.astimezone(UTC):%Y-%m-%d %H:%M:%S} UTC" if job.next_run_time else "-")
        self._paused = paused

    def shutdown(self, grace: float) -> None:
        """Fire nothing more; let running robots finish for up to `grace` seconds, then SIGTERM them (they are
        recorded `interrupted` and their browsers closed)."""
        self.runner.stopping.set()
        if self._scheduler is not None and self._scheduler.running:
            self._scheduler.shutdown(wait=False)
        deadline = time.monotonic() + grace
        running = self.runner.running()
        if running:
            log.info("stopping: waiting up to %g s for %d running robot run(s): %s", grace, len(running),
                     ", ".join(running))
        while self.runner.running() and time.monotonic() < deadline:
            time.sleep(0.1)  # back-off: polling for the runs to end within the grace period
        if self.runner.running():
            log.info("stopping: grace period over; interrupting %s", ", ".join(self.runner.running()))
            self.runner.terminate_all()
        if self._pool is not None:
            self._pool.shutdown(wait=True)
        if self._lock_handle is not None:
            self.registry.release_scheduler()
        self._release_lock()

    def _release_lock(self) -> None:
        if self._lock_handle is not None:
            self._lock_handle.close()
            self._lock_handle = None

    # ---- APScheduler hooks
    def _max_instances(self, event: Any) -> None:
        robot = self.robots.get(event.job_id)
        if robot is not None:
            for t in event.scheduled_run_times:
                self.runner.skip(robot, t, "schedule", "skipped (still running)")

    def submit(self, job: Any, run_times: list[datetime], done: Any) -> None:
        assert self._pool is not None
        self._pool.submit(self._run_job, job, run_times, done)

    def _run_job(self, job: Any, run_times: list[datetime], done: Any) -> None:
        robot = self.robots.get(job.id)
        try:
            for t in run_times:
                if robot is None or self.runner.stopping.is_set():
                    break
                late = datetime.now(UTC) - t
                if job.misfire_grace_time is not None and late > timedelta(seconds=job.misfire_grace_time):
                    self.runner.skip(robot, t, "schedule", f"skipped (missed by {late.total_seconds():.0f} s, "
                                                           f"more than misfire_grace {job.misfire_grace_time} s)")
                    continue
                self.runner.fire(robot, t, "schedule")
        except Exception:
            log.exception("robot %s: the scheduler failed to run it", job.id)
        finally:
            done()


def _undefined() -> Any:
    from apscheduler.util import undefined

    return undefined


class _Executor(BaseExecutor):  # type: ignore[misc]
    """Hands fires to the RobotScheduler with their fire times (APScheduler's own executors call the job function
    without them, and a robot needs them for misfire records and its log line)."""

    def __init__(self, service: RobotScheduler) -> None:
        super().__init__()
        self.service = service

    def _do_submit_job(self, job: Any, run_times: list[datetime]) -> None:
        self.service.submit(job, run_times, lambda: self._run_job_success(job.id, []))


def load_robot(store: SqlStore, name: str) -> Robot:
    """A robot as the scheduler last loaded it (for `robots schedule trigger NAME` in another process)."""
    return Registry(store.engine).get(name).robot


def require_sql(store: Any) -> SqlStore:
    if not isinstance(store, SqlStore):
        raise InputError("the scheduler needs a SQL database (ROBOTS_DATABASE_URL is memory://): its jobs, "
                         "robots and webhook outbox are kept there")
    return store
