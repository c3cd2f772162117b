"""The command line of unattended robots: `robots schedule validate|list|run|trigger|pause|resume`, the global
`robots pause` / `robots resume`. Registered by robots/cli/__init__.py; like every command module, it turns
errors into text and exit codes (robots/cli/common.py)."""

from __future__ import annotations

import json
import logging
import signal
import sys
import threading
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from robots.cli.common import err, error_lines, fail, home, out, raise_interrupted, setup_logging, sql_store
from robots.errors import FlowError, RobotsError

schedule_app = typer.Typer(help="Unattended robots: flows on a schedule (schedules/*.yaml).", no_args_is_help=True)
log = logging.getLogger("robots.scheduler")


def _when(value: datetime | None) -> str:
    return f"{value.astimezone(UTC):%Y-%m-%d %H:%M:%S}" if value else "-"


# ---------------------------------------------------------------------------------------- validate
@schedule_app.command("validate")
def validate(files: Annotated[list[Path], typer.Argument(help="schedule files or folders of them")]) -> None:
    """Check schedule files and every flow they name, and that what the scheduler's start needs resolves (the webhook
    signing secret, each webhook's host, each notify command's program), without starting anything (exit 2 on a
    problem)."""
    from robots.scheduler.config import load_schedules, schedule_files

    try:
        robots = load_schedules(files)
    except FlowError as e:
        for issue in e.issues:
            err.print(str(issue), markup=False)
        n = len(e.issues)
        err.print(f"{n} problem{'s' if n != 1 else ''} found", markup=False)
        raise typer.Exit(2) from None
    except RobotsError as e:  # e.g. a bad ROBOTS_WEBHOOK_ALLOW_NETWORKS
        raise fail(e) from None
    n, f = len(robots), len(schedule_files(files))
    err.print(f"{n} robot{'s' if n != 1 else ''} valid in {f} file{'s' if f != 1 else ''}", markup=False)


# -------------------------------------------------------------------------------------------- list
@schedule_app.command("list")
def list_robots(json_: Annotated[bool, typer.Option("--json", help="as JSON")] = False) -> None:
    """The robots the scheduler loaded: trigger, next fire time (UTC), state and last result."""
    from robots.scheduler.service import RobotLock
    from robots.scheduler.state import Registry

    try:
        store = sql_store()
        registry = Registry(store.engine)
        states, scheduler = registry.all(), registry.scheduler()
        paused = store.paused()
    except RobotsError as e:
        raise fail(e) from None
    if json_:
        sys.stdout.write(json.dumps({"paused": paused, "scheduler": scheduler, "robots": [{
            "name": s.robot.name, "flow": s.robot.flow_name, "trigger": s.robot.doc.trigger.describe(),
            "enabled": s.robot.doc.enabled, "paused": s.paused, "tags": s.robot.doc.tags,
            "running": RobotLock(home(), s.robot.name).held(),
            "next_run_at": s.next_run_at.isoformat() if s.next_run_at else None, "last_status": s.last_status,
            "last_run_id": s.last_run_id, "last_at": s.last_at.isoformat() if s.last_at else None,
            "health": s.health} for s in states]}, indent=2) + "\n")
        return
    err.print(f"scheduler: pid {scheduler['pid']} on {scheduler['host']}, since {scheduler['since']}" if scheduler
              else "scheduler: none is running on this database (robots schedule run FILE)", markup=False)
    if paused:
        err.print(f"all robots are paused since {paused['since']} by {paused['by']}: {paused['reason']} "
                  "(robots resume)", markup=False)
    table = Table(show_edge=False, box=None, pad_edge=False)
    for col in ("robot", "flow", "trigger", "next fire (UTC)", "state", "last result", "last run", "health"):
        table.add_column(col)
    for s in states:
        state = ("running" if RobotLock(home(), s.robot.name).held() else "disabled" if not s.robot.doc.enabled
                 else "paused" if s.paused else "active")
        last = f"{s.last_status} {_when(s.last_at)}" if s.last_status else "-"
        table.add_row(s.robot.name, s.robot.flow_name, s.robot.doc.trigger.describe(),
                      _when(s.next_run_at) if state in ("active", "running") else "-", state, last,
                      s.last_run_id or "-",
                      s.health or "-")
    out().print(table)
    if not states:
        err.print("no robots loaded yet; start the scheduler: robots schedule run schedules/", markup=False)


# --------------------------------------------------------------------------------------------- run
@schedule_app.command("run")
def run(
    files: Annotated[list[Path], typer.Argument(help="schedule files or folders of them")],
    grace: Annotated[float, typer.Option(help="on SIGTERM, seconds running robots may take to finish before "
                                              "they are interrupted")] = 30.0,
    workers: Annotated[int, typer.Option(help="robots that may run at once (browsers are limited separately "
                                              "by ROBOTS_MAX_BROWSERS)")] = 10,
) -> None:
    """The scheduler: runs the robots of FILES on their triggers until SIGTERM or Ctrl-C. One log line per run
    on stderr; every run is recorded (robots runs)."""
    from robots.scheduler.config import load_schedules
    from robots.scheduler.service import RobotScheduler

    setup_logging(1)
    stamped = logging.Formatter("%(asctime)s robots: %(message)s", "%Y-%m-%d %H:%M:%SZ")
    stamped.converter = time.gmtime  # a long-running process's log: every line with its UTC time
    for handler in logging.getLogger("robots").handlers:
        handler.setFormatter(stamped)
    stop = threading.Event()
    got: list[str] = []

    def on_signal(signum: int, frame: Any) -> None:
        got.append(signal.Signals(signum).name)
        stop.set()

    previous = {s: signal.signal(s, on_signal) for s in (signal.SIGTERM, signal.SIGINT)}
    scheduler = None
    try:
        robots = load_schedules(files)
        store = sql_store()
        outbox = _outbox(store, needed=any(r.doc.notify.webhooks for r in robots))
        scheduler = RobotScheduler(robots, store, home(), workers=workers, outbox=outbox)
        scheduler.start()
        worker = _outbox_worker(outbox)
        err.print(f"scheduler started: {len(robots)} robot{'s' if len(robots) != 1 else ''} "
                  f"(robots schedule list); SIGTERM or Ctrl-C stops it", markup=False)
        while not stop.wait(1.0):
            scheduler.tick()
        err.print(f"scheduler stopping ({got[0]}): running robots have {grace:g} s to finish", markup=False)
        scheduler.shutdown(grace)
        scheduler = None
        if worker is not None:
            worker.stop()
        err.print("scheduler stopped", markup=False)
    except FlowError as e:
        raise fail(e) from None
    except RobotsError as e:
        raise fail(e) from None
    finally:
        if scheduler is not None:
            scheduler.shutdown(0)
        for s, h in previous.items():
            signal.signal(s, h)


def _outbox(store: Any, needed: bool) -> Any:
    """The webhook outbox, with its signing secret (`webhook_secret`: required when some robot has webhooks, which
    load_schedules has checked already, in the same words)."""
    from robots.outbox import Outbox, signing_secret
    from robots.settings import settings

    secret = signing_secret(required=needed)
    if not secret:
        return Outbox(store.engine, "")
    return Outbox(store.engine, secret, backoff_s=settings().webhook_backoff)


def _outbox_worker(outbox: Any) -> Any:
    from robots.outbox import OutboxWorker

    if not outbox.secret:
        return None
    worker = OutboxWorker(outbox)
    worker.start()
    return worker


# ----------------------------------------------------------------------------------------- trigger
@schedule_app.command("trigger")
def trigger(name: Annotated[str, typer.Argument(help="the robot's name")]) -> None:
    """Run one robot now, the way the scheduler runs it (no overlap, retries, record, notifications); waits
    for it and exits like `robots run` (0 passed, 1 failed, 3 errored, 130 interrupted or canceled)."""
    from robots.scheduler.notify import Notifier
    from robots.scheduler.service import RobotRunner
    from robots.scheduler.state import Registry

    setup_logging(1)
    try:
        store = sql_store()
        registry = Registry(store.engine)
        robot = registry.get(name).robot
        outbox = _outbox(store, needed=False)
        runner = RobotRunner(store, home(), Notifier(registry, outbox), registry)
        record = runner.fire(robot, None, "manual")
        if outbox.secret:
            outbox.deliver_due()  # once; what does not go through now waits for the scheduler's outbox worker
    except RobotsError as e:
        raise fail(e) from None
    err.print(f"run {record.run_id} {record.status} · {record.pages} pages · {record.rows} rows · {name}",
              markup=False)
    if record.status == "skipped" and record.error_message:
        err.print(record.error_message, markup=False)
    for line in error_lines(record) if record.status != "skipped" else []:
        err.print(line, markup=False)
    from robots.engine import exit_code

    raise typer.Exit(0 if record.status == "skipped" else exit_code(record))


# ------------------------------------------------------------------------------------ pause/resume
@schedule_app.command("pause")
def pause_robot(name: Annotated[str, typer.Argument(help="the robot's name")]) -> None:
    """Stop firing one robot (a run going on goes on); the scheduler applies it within a second."""
    _set_robot_paused(name, True)


@schedule_app.command("resume")
def resume_robot(name: Annotated[str, typer.Argument(help="the robot's name")]) -> None:
    """Fire a paused robot again, from its next fire time after now."""
    _set_robot_paused(name, False)


def _set_robot_paused(name: str, paused: bool) -> None:
    from robots.scheduler.state import Registry

    try:
        Registry(sql_store().engine).set_paused(name, paused)
    except RobotsError as e:
        raise fail(e) from None
    err.print(f"robot {name} {'paused' if paused else 'resumed'}", markup=False)


def pause_all(
    reason: Annotated[str, typer.Option(help="why (shown in schedule list and in skipped runs)")] = "maintenance",
    cancel_running: Annotated[bool, typer.Option(help="also cancel the runs going on now")] = False,
) -> None:
    """Pause every robot (a portal maintenance window): scheduled fires are recorded as skipped until
    `robots resume`."""
    try:
        store = sql_store()
        store.set_paused(reason)
        canceled = []
        if cancel_running:
            for record in store.list(limit=None, status="running"):
                store.request_cancel(record.run_id, "robots pause")
                canceled.append(record.run_id)
    except RobotsError as e:
        raise fail(e) from None
    err.print(f"all robots paused ({reason}); robots resume starts them again"
              + (f"; canceling {', '.join(canceled)}" if canceled else ""), markup=False)


def resume_all() -> None:
    """End a pause of every robot: scheduled fires run again."""
    try:
        store = sql_store()
        was = store.paused()
        store.set_paused(None)
    except RobotsError as e:
        raise fail(e) from None
    err.print("all robots resumed" if was else "robots were not paused", markup=False)


# ----------------------------------------------------------------------------- the run of one robot
@schedule_app.command("exec", hidden=True)
def exec_one() -> None:
    """(internal) Run one robot's flow as the scheduler asks on stdin: {run_id, flow, vars, secrets,
    max_runtime}. Its run record is the result; exit codes as `robots run`."""
    from robots.engine import exit_code
    from robots.flow.loader import load_flow
    from robots.run.launch import prepare_run

    setup_logging(0)
    spec = json.loads(sys.stdin.read())
    signal.signal(signal.SIGTERM, raise_interrupted)
    try:
        flow = load_flow(spec["flow"])
        # As `robots run` looks them up, under the names the robot stores them by (the flow's by default).
        with prepare_run(flow, trigger="schedule", home=home(), near=flow.path.parent.resolve(),
                         stored_secrets=spec["secrets"], on_masker=lambda masker: setup_logging(0, masker),
                         vars=spec["vars"]) as launch:
            record = launch.run(run_id=spec["run_id"], max_runtime=spec["max_runtime"])
    except RobotsError as e:
        raise fail(e) from None
    except KeyboardInterrupt:
        raise typer.Exit(130) from None
    for line in error_lines(record):
        err.print(line, markup=False)
    raise typer.Exit(exit_code(record))
