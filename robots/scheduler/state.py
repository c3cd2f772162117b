"""What the scheduler keeps in the store's database besides run records: the robots it loaded (so that
`schedule list`, `trigger`, `pause` and `resume` work from any process), which run came from which robot and
fire time, and each robot's health (for notifications once per change of state)."""

from __future__ import annotations

import json
import os
import socket
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, inspect, select, text, update
from sqlalchemy.engine import Engine
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from robots.errors import InputError
from robots.records.schema import ControlRow, RobotRow, RobotRunRow
from robots.scheduler.config import Robot

JOBS_TABLE = "apscheduler_jobs"
SCHEDULER_ROW = "scheduler"
HEARTBEAT_S = 10.0  # a running scheduler renews its claim this often; one silent for 3x this is gone


class RobotNotFound(InputError, LookupError):
    """No robot of that name was loaded by a scheduler on this database."""


@dataclass
class RobotState:
    robot: Robot
    paused: bool
    health: str | None
    drift: str | None
    last_run_id: str | None
    last_status: str | None
    last_at: datetime | None
    next_run_at: datetime | None = None


class Registry:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine
        self._read = sessionmaker(engine)
        self._write = sessionmaker(engine.execution_options(robots_write=True))

    # ---- robots
    def register(self, robots: list[Robot]) -> None:
        """Make these the robots on record: new ones added, changed ones updated, others removed."""
        now = datetime.now(UTC)
        with self._write.begin() as session:
            rows = {r.name: r for r in session.scalars(select(RobotRow)).all()}
            for robot in robots:
                row = rows.pop(robot.name, None)
                sha = robot.schedule_sha256
                if row is None:
                    session.add(RobotRow(name=robot.name, source=robot.source, definition_json=robot.to_json(),
                                         definition_sha256=sha, paused=False, updated_at=now))
                else:
                    row.source, row.definition_json, row.definition_sha256 = robot.source, robot.to_json(), sha
                    row.updated_at = now
            for gone in rows.values():
                session.delete(gone)

    def names(self) -> list[str]:
        with self._read() as session:
            return list(session.scalars(select(RobotRow.name).order_by(RobotRow.name)))

    def get(self, name: str) -> RobotState:
        with self._read() as session:
            row = session.get(RobotRow, name)
            if row is None:
                from robots.errors import suggest

                known = self.names()
                raise RobotNotFound(f"no robot named {name!r}{suggest(name, known)}; "
                                    + (f"known: {', '.join(known)}" if known else
                                       "no scheduler has loaded any (start one: robots schedule run FILE)"))
            return _state(row)

    def all(self) -> list[RobotState]:
        with self._read() as session:
            states = [_state(r) for r in session.scalars(select(RobotRow).order_by(RobotRow.name)).all()]
        next_runs = self.next_run_times()
        for s in states:
            s.next_run_at = next_runs.get(s.robot.name)
        return states

    def set_paused(self, name: str, paused: bool) -> None:
        self.get(name)
        with self._write.begin() as session:
            session.execute(update(RobotRow).where(RobotRow.name == name)
                            .values(paused=paused, updated_at=datetime.now(UTC)))

    def paused_names(self) -> set[str]:
        with self._read() as session:
            return set(session.scalars(select(RobotRow.name).where(RobotRow.paused.is_(True))))

    def update(self, name: str, **values: Any) -> None:
        with self._write.begin() as session:
            session.execute(update(RobotRow).where(RobotRow.name == name)
                            .values(**values, updated_at=datetime.now(UTC)))

    # ---- runs of robots
    def add_run(self, run_id: str, robot: str, scheduled_for: datetime | None, attempt: int, trigger: str) -> None:
        with self._write.begin() as session:
            session.add(RobotRunRow(run_id=run_id, robot=robot, scheduled_for=scheduled_for, attempt=attempt,
                                    trigger=trigger, created_at=datetime.now(UTC)))

    def runs(self, robot: str) -> list[RobotRunRow]:
        """The robot's runs, oldest first."""
        with self._read() as session:
            rows = session.scalars(select(RobotRunRow).where(RobotRunRow.robot == robot)
                                   .order_by(RobotRunRow.created_at, RobotRunRow.run_id)).all()
            session.expunge_all()
        return list(rows)

    def forget_runs(self, robot: str) -> None:
        with self._write.begin() as session:
            session.execute(delete(RobotRunRow).where(RobotRunRow.robot == robot))

    # ---- one scheduler per database (APScheduler 3's job store must not be shared by two)
    def claim_scheduler(self) -> dict[str, Any] | None:
        """Claim the database for this process's scheduler; the other live scheduler's claim if there is one."""
        now = datetime.now(UTC)
        me = {"host": socket.gethostname(), "pid": os.getpid(), "since": now.isoformat(timespec="seconds")}
        try:
            with self._write.begin() as session:
                row = session.get(ControlRow, SCHEDULER_ROW)
                if row is not None and (now - row.updated_at).total_seconds() < 3 * HEARTBEAT_S:
                    other: dict[str, Any] = json.loads(row.value)
                    if (other["host"], other["pid"]) != (me["host"], me["pid"]):
                        return other
                session.merge(ControlRow(name=SCHEDULER_ROW, value=json.dumps(me), updated_at=now))
        except IntegrityError:  # another scheduler inserted its claim at the same moment
            return self.scheduler()
        return None

    def heartbeat(self) -> None:
        with self._write.begin() as session:
            session.execute(update(ControlRow).where(ControlRow.name == SCHEDULER_ROW)
                            .values(updated_at=datetime.now(UTC)))

    def release_scheduler(self) -> None:
        with self._write.begin() as session:
            session.execute(delete(ControlRow).where(ControlRow.name == SCHEDULER_ROW))

    def scheduler(self) -> dict[str, Any] | None:
        """The live scheduler's claim ({host, pid, since, heartbeat}), or None when none runs."""
        with self._read() as session:
            row = session.get(ControlRow, SCHEDULER_ROW)
            if row is None or (datetime.now(UTC) - row.updated_at).total_seconds() >= 3 * HEARTBEAT_S:
                return None
            return {**json.loads(row.value), "heartbeat": row.updated_at.isoformat(timespec="seconds")}

    # ---- APScheduler's table (read only: only the scheduler process writes it)
    def next_run_times(self) -> dict[str, datetime | None]:
        if not inspect(self.engine).has_table(JOBS_TABLE):
            return {}
        with self.engine.connect() as connection:
            rows = connection.execute(text(f"SELECT id, next_run_time FROM {JOBS_TABLE}")).all()
        return {r[0]: datetime.fromtimestamp(r[1], UTC) if r[1] is not None else None for r in rows}

    def job_ids(self) -> list[str]:
        return sorted(self.next_run_times())


def _state(row: RobotRow) -> RobotState:
    return RobotState(Robot.from_json(row.definition_json), row.paused, row.health, row.drift, row.last_run_id,
                      row.last_status, row.last_at)
