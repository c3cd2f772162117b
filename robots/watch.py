"""Change detection: poll a list flow, compare what it returns with the last snapshot of every record (kept in
the store's database, per watch and key), and emit `created`, `updated` (with the changed fields) and `deleted`
events - as JSON lines to the caller and, through the one webhook outbox (robots.outbox), to registered webhooks.

When the flow has a `modified_on_or_after` var (the portal's "modified since" filter), polls after the first
ask only for what changed since the last poll's day; such a partial list cannot show deletions, so every
`full_every`-th poll lists everything and reports the records that are gone."""

from __future__ import annotations

import json
import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal
from zoneinfo import ZoneInfo

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from robots.errors import InputError, RobotsError, TechnicalError
from robots.flow.model import Flow
from robots.records.schema import WatchRow, WatchSnapshotRow

if TYPE_CHECKING:
    from robots.run.launch import Launch

log = logging.getLogger("robots.watch")

#: fields that change on every read and never count as a change of the record
VOLATILE = frozenset({"source_url", "scraped_at"})
SINCE_VAR = "modified_on_or_after"

EventKind = Literal["created", "updated", "deleted"]


@dataclass(frozen=True)
class Change:
    """One detected change of one record."""

    event: EventKind
    key: str
    record: dict[str, Any]  # the record now (for `deleted`: as last seen)
    changed: dict[str, dict[str, Any]] | None = None  # updated: field -> {"old": ..., "new": ...}

    def to_json(self, watch: str, at: datetime) -> dict[str, Any]:
        out: dict[str, Any] = {"event": self.event, "watch": watch, "key": self.key,
                               "at": at.strftime("%Y-%m-%dT%H:%M:%SZ")}  # fmt: skip
        if self.changed is not None:
            out["changed"] = self.changed
        out["record"] = self.record
        return out


def changed_fields(old: dict[str, Any], new: dict[str, Any]) -> dict[str, dict[str, Any]]:
    """Fields whose value differs (volatile ones left out), as {field: {"old": ..., "new": ...}}."""
    names = [k for k in (*old, *(k for k in new if k not in old)) if k not in VOLATILE]
    return {k: {"old": old.get(k), "new": new.get(k)} for k in names if old.get(k) != new.get(k)}


def compare(previous: dict[str, dict[str, Any]], current: dict[str, dict[str, Any]], *,
            complete: bool) -> list[Change]:
    """The changes from `previous` to `current` (both by key). `complete`: `current` is the whole list, so a key
    missing from it was deleted; otherwise (a "modified since" poll) absence means nothing."""
    changes: list[Change] = []
    for key, record in current.items():
        before = previous.get(key)
        if before is None:
            changes.append(Change("created", key, record))
        else:
            diff = changed_fields(before, record)
            if diff:
                changes.append(Change("updated", key, record, diff))
    if complete:
        changes += [Change("deleted", key, record) for key, record in previous.items() if key not in current]
    return changes


class SnapshotStore:
    """Watches and their snapshots in the store's database (tables `watches` and `watch_snapshots`)."""

    def __init__(self, engine: Engine):
        self._read = sessionmaker(engine)
        self._write = sessionmaker(engine.execution_options(robots_write=True))

    def state(self, name: str) -> WatchRow | None:
        with self._read() as session:
            row = session.get(WatchRow, name)
            if row is not None:
                session.expunge(row)
            return row

    def snapshot(self, name: str) -> dict[str, dict[str, Any]]:
        with self._read() as session:
            rows = session.scalars(select(WatchSnapshotRow).where(WatchSnapshotRow.watch == name))
            return {r.key: json.loads(r.record) for r in rows}

    def apply(self, name: str, flow: str, key_field: str, changes: list[Change], *, polled_at: datetime,
              full: bool) -> None:
        """Record a poll: its changes into the snapshot, and the watch's state, in one transaction."""
        with self._write.begin() as session:
            row = session.get(WatchRow, name)
            if row is None:
                row = WatchRow(name=name, flow=flow, key_field=key_field, polls=0)
                session.add(row)
            elif row.key_field != key_field:
                raise InputError(f"watch '{name}' keys its records by '{row.key_field}', not '{key_field}'; "
                                 f"use --key {row.key_field} or another --name")
            row.flow, row.polls, row.last_polled_at = flow, (row.polls or 0) + 1, polled_at
            if full:
                row.last_full_at = polled_at
            for change in changes:
                if change.event == "deleted":
                    session.execute(delete(WatchSnapshotRow).where(WatchSnapshotRow.watch == name,
                                                                   WatchSnapshotRow.key == change.key))
                    continue
                text = json.dumps({k: v for k, v in change.record.items()}, ensure_ascii=False, sort_keys=True)
                snap = session.get(WatchSnapshotRow, (name, change.key))
                if snap is None:
                    session.add(WatchSnapshotRow(watch=name, key=change.key, record=text, seen_at=polled_at))
                else:
                    snap.record, snap.seen_at = text, polled_at


#: runs the flow with these vars and returns its outputs (the CLI and tests pass a Runner-backed one)
RunFlow = Callable[[Flow, dict[str, Any]], dict[str, Any]]


@dataclass
class Watch:
    """Poll `flow` and report changes by `key`. `run` executes the flow (see `runner_for`)."""

    flow: Flow
    key: str
    store: SnapshotStore
    run: RunFlow
    name: str = ""
    output: str | None = None  # the flow's list output; default: its only (or first) declared output
    vars: dict[str, Any] = field(default_factory=dict)
    full_every: int = 10
    time_zone: str = "UTC"
    webhooks: tuple[str, ...] = ()
    outbox: Any = None  # robots.outbox.Outbox, for webhooks

    def __post_init__(self) -> None:
        self.name = self.name or self.flow.name
        if self.output is None:
            if not self.flow.outputs:
                raise InputError(f"{self.flow.path}: the flow declares no outputs; a watch needs a list output")
            self.output = next(iter(self.flow.outputs))
        elif self.output not in self.flow.outputs:
            raise InputError(f"{self.flow.path}: no output '{self.output}' (the flow declares "
                             f"{', '.join(self.flow.outputs)})")
        if self.webhooks and self.outbox is None:
            raise InputError("webhooks need the outbox (robots.outbox) and the secret 'webhook_secret'")

    def poll(self, now: datetime | None = None) -> list[Change]:
        """One poll: run the flow, compare, store the new snapshot, send webhooks. Returns the changes."""
        started = now or datetime.now(UTC)
        state = self.store.state(self.name)
        incremental = (SINCE_VAR in self.flow.vars and state is not None and state.last_polled_at is not None
                       and (state.polls or 0) % self.full_every != 0)  # fmt: skip
        given = dict(self.vars)
        if incremental:
            assert state is not None and state.last_polled_at is not None
            # The portal filters by day in the tenant's zone: from the day of the last poll (a day's overlap).
            day = (state.last_polled_at - timedelta(minutes=5)).astimezone(ZoneInfo(self.time_zone)).date()
            given[SINCE_VAR] = day.isoformat()
        outputs = self.run(self.flow, given)
        records = outputs.get(self.output or "")
        if not isinstance(records, list):
            raise TechnicalError(f"watch '{self.name}': the flow's output '{self.output}' is not a list")
        current: dict[str, dict[str, Any]] = {}
        for n, record in enumerate(records, 1):
            value = record.get(self.key) if isinstance(record, dict) else None
            if value is None:
                raise TechnicalError(f"watch '{self.name}': record {n} has no '{self.key}' field to key it by")
            current[str(value)] = record
        changes = compare(self.store.snapshot(self.name), current, complete=not incremental)
        self.store.apply(self.name, str(self.flow.path), self.key, changes, polled_at=started, full=not incremental)
        log.info("watch %s: %s poll, %d records, %d changes", self.name, "incremental" if incremental else "full",
                 len(current), len(changes))
        for change in changes:
            payload = change.to_json(self.name, started)
            del payload["event"]  # the outbox's own `event` says it: watch.created, watch.updated, watch.deleted
            for url in self.webhooks:
                self.outbox.enqueue(url, f"watch.{change.event}", payload)
        return changes

    def events(self, every_s: float, *, polls: int | None = None, sleep: Callable[[float], None] | None = None,
               on_error: Callable[[RobotsError], None] | None = None) -> Iterator[dict[str, Any]]:
        """Poll every `every_s` seconds (`polls` times, or forever), yielding each change as a JSON-ready dict.
        A poll that fails is reported to `on_error` (or raised when there is none) and the watch goes on."""
        import time

        done = 0
        while polls is None or done < polls:
            t0 = time.monotonic()
            at = datetime.now(UTC)
            try:
                for change in self.poll(at):
                    yield change.to_json(self.name, at)
            except RobotsError as e:
                if on_error is None:
                    raise
                on_error(e)
            done += 1
            if polls is not None and done >= polls:
                break
            wait = max(0.0, every_s - (time.monotonic() - t0))
            (sleep or time.sleep)(wait)  # the interval between polls (a schedule, not a wait for a condition)


def runner_for(launch: Launch, *, secrets: dict[str, str] | None = None) -> RunFlow:
    """A RunFlow backed by the Runner of a prepared run (robots.run.launch): one run per poll, recorded in its
    store, signed-in sessions kept between polls (the sign-in flow's session). `secrets`: the flow's (default: the
    prepared ones)."""

    def run(flow: Flow, given: dict[str, Any]) -> dict[str, Any]:
        record = launch.runner().run(flow, vars=given, secrets=launch.secrets if secrets is None else secrets,
                                     portal=launch.portal)
        if record.status != "passed":
            raise TechnicalError(f"watch poll run {record.run_id} {record.status}: {record.error_message}")
        return dict(record.outputs)

    return run


def parse_every(text: str) -> float:
    """'60s', '5m', '1h' or a number of seconds -> seconds."""
    units = {"s": 1, "m": 60, "h": 3600}
    value = text.strip().lower()
    try:
        seconds = float(value[:-1]) * units[value[-1]] if value and value[-1] in units else float(value)
    except ValueError:
        raise InputError(f"--every: expected a duration like 60s, 5m or 1h, got {text!r}") from None
    if seconds <= 0:
        raise InputError(f"--every must be more than 0, got {text!r}")
    return seconds


__all__ = ["Change", "SnapshotStore", "Watch", "changed_fields", "compare", "parse_every", "runner_for"]
