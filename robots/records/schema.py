"""SQL tables behind `SqlStore`: one row per run plus one row per step, for operators' SQL.

The whole record lives in `runs.record_json`; the other columns are copies kept for querying and
indexes. Changing a table here needs a new revision under `migrations/versions/`.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Boolean, DateTime, Float, ForeignKey, Index, Integer, MetaData, String, Text
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column
from sqlalchemy.types import TypeDecorator


class UtcDateTime(TypeDecorator[datetime]):
    """Stores UTC; hands back aware UTC datetimes on every backend (SQLite keeps no offset).

    A naive datetime is taken to be UTC already.
    """

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        value = to_utc(value)
        # SQLite's DATETIME would silently drop the offset; drop it ourselves so the text is UTC.
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        return to_utc(value)


def to_utc(value: datetime) -> datetime:
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


class Base(DeclarativeBase):
    # Named constraints, so later migrations (batch mode on SQLite) can refer to them.
    metadata = MetaData(
        naming_convention={
            "ix": "ix_%(column_0_label)s",
            "uq": "uq_%(table_name)s_%(column_0_name)s",
            "ck": "ck_%(table_name)s_%(constraint_name)s",
            "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
            "pk": "pk_%(table_name)s",
        }
    )


class RunRow(Base):
    __tablename__ = "runs"

    run_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    flow_name: Mapped[str] = mapped_column(String(255), index=True)
    status: Mapped[str] = mapped_column(String(20), index=True)
    started_at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    schema_version: Mapped[int] = mapped_column(Integer)
    record_json: Mapped[str] = mapped_column(Text)


class StepRow(Base):
    __tablename__ = "run_steps"
    __table_args__ = (Index("ix_run_steps_status", "status"),)

    run_id: Mapped[str] = mapped_column(String(255), ForeignKey("runs.run_id", ondelete="CASCADE"), primary_key=True)
    # "index" is a keyword in SQL; step_index keeps operators' queries free of quoting.
    step_index: Mapped[int] = mapped_column(Integer, primary_key=True)
    step_id: Mapped[str | None] = mapped_column(String(255))
    name: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))
    started_at: Mapped[datetime] = mapped_column(UtcDateTime())
    duration_ms: Mapped[float] = mapped_column(Float)
    error_class: Mapped[str | None] = mapped_column(String(255))
    error_message: Mapped[str | None] = mapped_column(Text)


# Portal sessions, sign-in leases and login blocks: robots/auth/sessions.py (revision 0002).
class SessionRow(Base):
    __tablename__ = "portal_sessions"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    data: Mapped[str] = mapped_column(Text)  # Fernet token of the cookies' JSON
    saved_at: Mapped[datetime] = mapped_column(UtcDateTime())


class LeaseRow(Base):
    __tablename__ = "session_leases"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    holder: Mapped[str] = mapped_column(String(255))
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())


class BlockRow(Base):
    __tablename__ = "login_blocks"

    key: Mapped[str] = mapped_column(String(512), primary_key=True)
    password_mac: Mapped[str] = mapped_column(String(64))
    blocked_at: Mapped[datetime] = mapped_column(UtcDateTime())
    message: Mapped[str] = mapped_column(Text)


# Run control (robots/run/guard.py), the scheduler (robots/scheduler/) and the webhook outbox (robots/outbox.py):
# revision 0003. APScheduler keeps its own jobs table, `apscheduler_jobs`, which it creates itself.
class CancelRequestRow(Base):
    """Someone asked for a run to stop; its runner sees the row and ends the run as `canceled`."""

    __tablename__ = "run_cancel_requests"

    run_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    requested_at: Mapped[datetime] = mapped_column(UtcDateTime())
    requested_by: Mapped[str] = mapped_column(String(255))


class ControlRow(Base):
    """Switches that hold for every robot, e.g. `paused` (robots pause / resume); value is JSON."""

    __tablename__ = "robots_control"

    name: Mapped[str] = mapped_column(String(64), primary_key=True)
    value: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RobotRow(Base):
    """A scheduled robot as the scheduler last loaded it, its pause switch and its health for notifications."""

    __tablename__ = "robots"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    source: Mapped[str] = mapped_column(Text)  # the schedule file
    definition_json: Mapped[str] = mapped_column(Text)
    definition_sha256: Mapped[str] = mapped_column(String(64))
    paused: Mapped[bool] = mapped_column(Boolean, default=False)
    health: Mapped[str | None] = mapped_column(String(20))  # ok | failing (None: no finished run yet)
    drift: Mapped[str | None] = mapped_column(Text)  # the selector drift last notified
    last_run_id: Mapped[str | None] = mapped_column(String(255))
    last_status: Mapped[str | None] = mapped_column(String(20))
    last_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    updated_at: Mapped[datetime] = mapped_column(UtcDateTime())


class RobotRunRow(Base):
    """Which robot made a run, for which fire time (None when triggered by hand) and which attempt."""

    __tablename__ = "robot_runs"

    run_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    robot: Mapped[str] = mapped_column(String(255), index=True)
    scheduled_for: Mapped[datetime | None] = mapped_column(UtcDateTime())
    attempt: Mapped[int] = mapped_column(Integer)
    trigger: Mapped[str] = mapped_column(String(20))  # schedule | manual
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class OutboxRow(Base):
    """A webhook event waiting to be delivered (or delivered, or given up on): the one outbox (docs/CONTRACTS.md C5)."""

    __tablename__ = "webhook_outbox"
    __table_args__ = (Index("ix_webhook_outbox_due", "status", "next_attempt_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    event_id: Mapped[str] = mapped_column(String(64), unique=True)
    event: Mapped[str] = mapped_column(String(64))
    url: Mapped[str] = mapped_column(Text)
    body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(20))  # pending | delivered | failed
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    next_attempt_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lease_until: Mapped[datetime | None] = mapped_column(UtcDateTime())
    delivered_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_error: Mapped[str | None] = mapped_column(Text)


class WatchRow(Base):
    """A change-detection watch (`robots watch`): its flow, key field and when it last polled."""

    __tablename__ = "watches"

    name: Mapped[str] = mapped_column(String(255), primary_key=True)
    flow: Mapped[str] = mapped_column(Text)
    key_field: Mapped[str] = mapped_column(String(255))
    polls: Mapped[int] = mapped_column(Integer, default=0)
    last_polled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    last_full_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class WatchSnapshotRow(Base):
    """The last version of one record a watch has seen (JSON), by the watch and the record's key."""

    __tablename__ = "watch_snapshots"

    watch: Mapped[str] = mapped_column(String(255), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    record: Mapped[str] = mapped_column(Text)
    seen_at: Mapped[datetime] = mapped_column(UtcDateTime())
