"""Where run records are kept: the `RunStore` ABC, an in-memory store and a SQL store (docs/CONTRACTS.md C3).

The engine calls `save` at run start, after each step and at the end; each call replaces the record
stored under the same run id in one short transaction.
"""

from __future__ import annotations

import builtins
import json
import logging
import sqlite3
import threading
import time
from abc import ABC, abstractmethod
from datetime import UTC, datetime
from pathlib import Path
from types import TracebackType
from typing import Any, get_args

from sqlalchemy import create_engine, delete, event, select
from sqlalchemy.engine import URL, Connection, Engine, make_url
from sqlalchemy.orm import sessionmaker

from robots.errors import InputError, RobotsError
from robots.records.model import SCHEMA_VERSION, RunRecord, RunStatus
from robots.records.schema import CancelRequestRow, ControlRow, RunRow, StepRow, to_utc

log = logging.getLogger(__name__)

RUN_STATUSES: tuple[str, ...] = get_args(RunStatus)


class RunNotFound(InputError, LookupError):
    """No run is stored under the id asked for (an input error: `robots runs show NOPE` exits 2)."""

    def __init__(self, run_id: str) -> None:
        super().__init__(run_id)
        self.run_id = run_id

    def __str__(self) -> str:
        return f"no run with id {self.run_id!r}"


class InvalidRunQuery(InputError, ValueError):
    """`list` was asked for an unknown status or a negative limit."""


class RecordVersionError(RobotsError, ValueError):
    """A stored record was written by a newer robots (its schema_version is above ours)."""


class RunStore(ABC):
    """Keeps run records by run id. Records come back equal to what was saved, as JSON would carry them."""

    @abstractmethod
    def save(self, record: RunRecord) -> None:
        """Insert the record, or replace the one stored under the same run id."""

    @abstractmethod
    def get(self, run_id: str) -> RunRecord:
        """The record stored under `run_id`; raises `RunNotFound`."""

    @abstractmethod
    def list(
        self, limit: int | None = 20, flow: str | None = None, status: str | None = None,
        since: datetime | None = None, before: datetime | None = None,
    ) -> builtins.list[RunRecord]:
        """Records newest first (by `started_at`, then run id), optionally of one flow and status, started at
        or after `since` and before `before`. `limit=None` returns all of them.
        """

    @abstractmethod
    def delete(self, run_id: str) -> None:
        """Remove a record (its steps with it); raises `RunNotFound`."""

    @abstractmethod
    def close(self) -> None:
        """Release connections; calling it twice is harmless."""

    # Run control (docs/CONTRACTS.md C8), shared by the CLI, the scheduler and the API. The defaults keep the requests
    # in this object (enough for a MemoryStore); SqlStore keeps them in its database, for every process.
    def request_cancel(self, run_id: str, by: str = "cli") -> None:
        """Ask the run's runner to stop it; the run is then recorded `canceled`."""
        self.__dict__.setdefault("_cancel_requests", {})[run_id] = by

    def cancel_requested(self, run_id: str) -> str | None:
        """Who asked for the run to be canceled, or None."""
        return self.__dict__.get("_cancel_requests", {}).get(run_id)

    def set_paused(self, reason: str | None, by: str = "cli") -> None:
        """Pause every robot (`reason` given) or resume them (`reason` None)."""
        self.__dict__["_paused"] = None if reason is None else {
            "reason": reason, "by": by, "since": datetime.now(UTC).isoformat(timespec="seconds")}

    def paused(self) -> dict[str, str] | None:
        """{"reason", "by", "since"} while robots are paused, else None."""
        return self.__dict__.get("_paused")

    def __enter__(self) -> RunStore:
        return self

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.close()


def check_query(limit: int | None, status: str | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 0):
        raise InvalidRunQuery(f"limit must be a whole number >= 0 or None, got {limit!r}")
    if status is not None and status not in RUN_STATUSES:
        raise InvalidRunQuery(f"unknown run status {status!r}; known: {', '.join(RUN_STATUSES)}")


def dump_record(record: RunRecord) -> str:
    return record.model_dump_json()


def load_record(text: str) -> RunRecord:
    data: dict[str, Any] = json.loads(text)
    version = data.get("schema_version", SCHEMA_VERSION)
    if version > SCHEMA_VERSION:
        raise RecordVersionError(
            f"run {data.get('run_id')!r} has record schema version {version}, newer than this "
            f"robots understands ({SCHEMA_VERSION}); upgrade robots to read it"
        )
    # Older versions are upgraded here, one step per version. 1 -> 2 only added optional fields.
    data["schema_version"] = SCHEMA_VERSION
    return RunRecord.model_validate(data)


class MemoryStore(RunStore):
    """Keeps records in this process, as JSON text so it behaves exactly like the SQL store."""

    def __init__(self) -> None:
        self._records: dict[str, str] = {}
        self._lock = threading.Lock()

    def save(self, record: RunRecord) -> None:
        text = dump_record(record)
        with self._lock:
            self._records[record.run_id] = text

    def get(self, run_id: str) -> RunRecord:
        with self._lock:
            text = self._records.get(run_id)
        if text is None:
            raise RunNotFound(run_id)
        return load_record(text)

    def list(
        self, limit: int | None = 20, flow: str | None = None, status: str | None = None,
        since: datetime | None = None, before: datetime | None = None,
    ) -> builtins.list[RunRecord]:
        check_query(limit, status)
        with self._lock:
            texts = builtins.list(self._records.values())
        records = [load_record(text) for text in texts]
        chosen = [
            r for r in records if (flow is None or r.flow_name == flow) and (status is None or r.status == status)
            and (since is None or to_utc(r.started_at) >= to_utc(since))
            and (before is None or to_utc(r.started_at) < to_utc(before))
        ]
        chosen.sort(key=lambda r: (to_utc(r.started_at), r.run_id), reverse=True)
        return chosen if limit is None else chosen[:limit]

    def delete(self, run_id: str) -> None:
        with self._lock:
            if self._records.pop(run_id, None) is None:
                raise RunNotFound(run_id)

    def close(self) -> None:
        pass

    def __repr__(self) -> str:
        return f"MemoryStore({len(self._records)} runs)"


class SqlStore(RunStore):
    """Records in a SQL database (SQLite or PostgreSQL); the schema is upgraded to head on open.

    On SQLite: WAL journal, a busy timeout and `BEGIN IMMEDIATE` for writes, so several processes
    (CLI, scheduler, API) can write to one file without "database is locked".
    """

    def __init__(self, url: str | URL, *, busy_timeout_s: float = 30.0) -> None:
        self.url = make_url(url)
        self._is_sqlite = self.url.get_backend_name() == "sqlite"
        if self._is_sqlite:
            _make_parent_folder(self.url)
        self._engine: Engine = create_engine(self.url)
        if self._is_sqlite:
            _configure_sqlite(self._engine, busy_timeout_ms=int(busy_timeout_s * 1000))
        # Same pool; the option makes the begin hook take SQLite's write lock up front.
        self._writer = self._engine.execution_options(robots_write=True)
        self._read_session = sessionmaker(self._engine)
        self._write_session = sessionmaker(self._writer)
        from robots.records.migrations import upgrade  # Alembic is only needed here; keep imports light

        try:
            with self._writer.begin() as connection:
                upgrade(connection)
        except BaseException:
            self._engine.dispose()
            raise
        log.debug("opened run store %s", self)

    @property
    def engine(self) -> Engine:
        return self._engine

    def save(self, record: RunRecord) -> None:
        row = RunRow(
            run_id=record.run_id,
            flow_name=record.flow_name,
            status=record.status,
            started_at=record.started_at,
            ended_at=record.ended_at,
            schema_version=record.schema_version,
            record_json=dump_record(record),
        )
        steps = [
            StepRow(
                run_id=record.run_id,
                step_index=step.index,
                step_id=step.step_id,
                name=step.name,
                status=step.status,
                started_at=step.started_at,
                duration_ms=step.duration_ms,
                error_class=step.error_class,
                error_message=step.error_message,
            )
            for step in record.steps
        ]
        with self._write_session.begin() as session:
            session.execute(delete(StepRow).where(StepRow.run_id == record.run_id))
            session.merge(row)
            session.flush()  # the run row first: run_steps has a foreign key to it
            session.add_all(steps)

    def get(self, run_id: str) -> RunRecord:
        with self._read_session() as session:
            text = session.scalar(select(RunRow.record_json).where(RunRow.run_id == run_id))
        if text is None:
            raise RunNotFound(run_id)
        return load_record(text)

    def list(
        self, limit: int | None = 20, flow: str | None = None, status: str | None = None,
        since: datetime | None = None, before: datetime | None = None,
    ) -> builtins.list[RunRecord]:
        check_query(limit, status)
        query = select(RunRow.record_json).order_by(RunRow.started_at.desc(), RunRow.run_id.desc())
        if flow is not None:
            query = query.where(RunRow.flow_name == flow)
        if status is not None:
            query = query.where(RunRow.status == status)
        if since is not None:
            query = query.where(RunRow.started_at >= to_utc(since))
        if before is not None:
            query = query.where(RunRow.started_at < to_utc(before))
        if limit is not None:
            query = query.limit(limit)
        with self._read_session() as session:
            texts = session.scalars(query).all()
        return [load_record(text) for text in texts]

    def delete(self, run_id: str) -> None:
        with self._write_session.begin() as session:
            if session.scalar(select(RunRow.run_id).where(RunRow.run_id == run_id)) is None:
                raise RunNotFound(run_id)
            session.execute(delete(StepRow).where(StepRow.run_id == run_id))
            session.execute(delete(RunRow).where(RunRow.run_id == run_id))

    def request_cancel(self, run_id: str, by: str = "cli") -> None:
        with self._write_session.begin() as session:
            session.merge(CancelRequestRow(run_id=run_id, requested_at=datetime.now(UTC), requested_by=by))

    def cancel_requested(self, run_id: str) -> str | None:
        with self._read_session() as session:
            return session.scalar(select(CancelRequestRow.requested_by).where(CancelRequestRow.run_id == run_id))

    def set_paused(self, reason: str | None, by: str = "cli") -> None:
        with self._write_session.begin() as session:
            if reason is None:
                session.execute(delete(ControlRow).where(ControlRow.name == "paused"))
                return
            now = datetime.now(UTC)
            value = json.dumps({"reason": reason, "by": by, "since": now.isoformat(timespec="seconds")})
            session.merge(ControlRow(name="paused", value=value, updated_at=now))

    def paused(self) -> dict[str, str] | None:
        with self._read_session() as session:
            value = session.scalar(select(ControlRow.value).where(ControlRow.name == "paused"))
        return json.loads(value) if value else None

    def close(self) -> None:
        self._engine.dispose()

    def __repr__(self) -> str:
        return f"SqlStore({self.url.render_as_string(hide_password=True)!r})"


def _make_parent_folder(url: URL) -> None:
    database = url.database
    if not database or database == ":memory:" or database.startswith("file:"):
        return
    Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)


def _configure_sqlite(engine: Engine, *, busy_timeout_ms: int) -> None:
    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy emit BEGIN itself (the documented recipe), so the hook below decides its kind.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        try:
            cursor.execute(f"PRAGMA busy_timeout = {busy_timeout_ms:d}")
            _use_wal(cursor, engine.url, deadline=time.monotonic() + busy_timeout_ms / 1000)
            cursor.execute("PRAGMA synchronous = NORMAL")  # safe with WAL; no fsync per commit
            cursor.execute("PRAGMA foreign_keys = ON")
        finally:
            cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Connection) -> None:
        # A deferred transaction that reads and then writes can fail at once with SQLITE_BUSY
        # when another writer got in between; IMMEDIATE waits (busy_timeout) for the lock instead.
        if connection.get_execution_options().get("robots_write"):
            connection.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            connection.exec_driver_sql("BEGIN")


def _use_wal(cursor: sqlite3.Cursor, url: URL, *, deadline: float) -> None:
    if cursor.execute("PRAGMA journal_mode").fetchone()[0].lower() == "wal":
        return
    delay = 0.005
    while True:
        try:
            mode = cursor.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            break
        except sqlite3.OperationalError as exc:
            if exc.sqlite_errorcode != sqlite3.SQLITE_BUSY or time.monotonic() >= deadline:
                raise
            # Back-off: SQLite does not apply busy_timeout to switching the journal mode, which fails
            # at once while another connection is opening the same new file.
            time.sleep(delay)  # back-off: see above
            delay = min(delay * 2, 0.1)
    if mode.lower() != "wal" and url.database not in (None, "", ":memory:"):
        log.warning("SQLite refused WAL for %s (journal mode %s)", url.database, mode)
