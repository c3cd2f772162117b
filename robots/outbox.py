"""The webhook outbox (docs/CONTRACTS.md C5): events are written to a table first, then delivered by HTTP POST with
retries and back-off, so a receiver that is down gets them later. One outbox serves the scheduler's
notifications, `watch` events and the API.

Every delivery is signed: `X-Robots-Signature: sha256=<hex>` is the HMAC-SHA256, keyed with the secret
`webhook_secret`, of `<X-Robots-Event-Id>.<X-Robots-Timestamp>.<body>`. `X-Robots-Event-Id` is the same for every
attempt of one event, so a receiver can drop duplicates; it is signed, so a captured delivery sent again under a
fresh id (or a fresh timestamp) does not verify. `verify()` checks all of that for a receiver written in Python.

Every delivery goes through robots.netguard: the URL's form is checked, and the connection is made only to
addresses the outbound allow-list accepts (public ones, or networks in ROBOTS_WEBHOOK_ALLOW_NETWORKS), checked on
the address connected. A refused delivery is `failed` at once with an error that names the address class, never a
connection outcome; no error stored keeps a response body.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import logging
import threading
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
from sqlalchemy import or_, select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from robots.errors import InputError, SecretNotFound
from robots.netguard import GuardedTransport, NetGuard, TargetRefused, without_credentials
from robots.records.schema import OutboxRow

log = logging.getLogger("robots.outbox")

SECRET_NAME = "webhook_secret"
SIGNATURE_HEADER = "X-Robots-Signature"
TIMESTAMP_HEADER = "X-Robots-Timestamp"
EVENT_ID_HEADER = "X-Robots-Event-Id"
EVENT_HEADER = "X-Robots-Event"
LEASE_S = 60  # a delivery attempt in progress: other workers leave the event alone this long


def signing_secret(*, required: bool) -> str:
    """The secret deliveries are signed with (SECRET_NAME), looked up as every secret is (docs/CONTRACTS.md C4): ''
    when it is not set and not `required`; when `required` and missing, SecretNotFound in the words that both
    `robots schedule validate` and the scheduler's start show."""
    from robots.auth.vault import resolve_secrets

    try:
        return resolve_secrets([SECRET_NAME])[SECRET_NAME]
    except SecretNotFound as e:
        if not required:
            return ""
        raise SecretNotFound(f"webhooks are signed with the secret '{SECRET_NAME}' (HMAC-SHA256), and {e}; "
                             f"set it, e.g. robots secrets set {SECRET_NAME}") from None
    except InputError:
        if not required:
            return ""
        raise


class BadSignature(InputError):
    """A webhook request's signature, timestamp or event id does not check out."""


def sign(secret: str, event_id: str, timestamp: str, body: bytes) -> str:
    """`sha256=` and the HMAC-SHA256 of `<event id>.<timestamp>.<body>`."""
    mac = hmac.new(secret.encode(), f"{event_id}.{timestamp}.".encode() + body, hashlib.sha256)
    return "sha256=" + mac.hexdigest()


def verify(secret: str, headers: Mapping[str, str], body: bytes, *, tolerance_s: float = 300,
           now: float | None = None) -> str:
    """Check a delivered webhook; return its event id. Raises BadSignature."""
    lower = {k.lower(): v for k, v in headers.items()}
    timestamp = lower.get(TIMESTAMP_HEADER.lower(), "")
    signature = lower.get(SIGNATURE_HEADER.lower(), "")
    event_id = lower.get(EVENT_ID_HEADER.lower(), "")
    if not (timestamp.isdigit() and signature and event_id):
        raise BadSignature("the request lacks the signature, timestamp or event id header")
    if abs((now if now is not None else time.time()) - int(timestamp)) > tolerance_s:
        raise BadSignature(f"the timestamp is more than {tolerance_s:g} s away from now (a replay?)")
    if not hmac.compare_digest(sign(secret, event_id, timestamp, body), signature):
        raise BadSignature("the signature does not match the event id, timestamp and body")
    return event_id


@dataclass(frozen=True)
class Delivery:
    event_id: str
    event: str
    url: str
    status: str
    attempts: int
    last_error: str | None


class Outbox:
    """Events in the `webhook_outbox` table of the store's database.

    backoff_s: the wait after the first failed attempt; it doubles after each one, up to max_backoff_s.
    After max_attempts failed attempts the event is marked `failed` and left for an operator to see.
    guard: where deliveries may go (default: the public internet and ROBOTS_WEBHOOK_ALLOW_NETWORKS)."""

    def __init__(self, engine: Engine, secret: str, *, backoff_s: float = 5.0, max_backoff_s: float = 3600.0,
                 max_attempts: int = 12, timeout_s: float = 10.0, guard: NetGuard | None = None) -> None:
        self.engine = engine
        self.guard = guard if guard is not None else NetGuard.from_env()
        self.secret = secret
        self.backoff_s = backoff_s
        self.max_backoff_s = max_backoff_s
        self.max_attempts = max_attempts
        self.timeout_s = timeout_s
        self._read = sessionmaker(engine)
        self._write = sessionmaker(engine.execution_options(robots_write=True))
        self.wakeup = threading.Event()

    def enqueue(self, url: str, event: str, payload: dict[str, Any]) -> str:
        """Store an event for `url`; return its event id. Delivery happens in `deliver_due()`."""
        now = datetime.now(UTC)
        event_id = uuid.uuid4().hex
        body = json.dumps({"event": event, "event_id": event_id, "created_at": now.isoformat(), **payload},
                          ensure_ascii=False, sort_keys=True)
        with self._write.begin() as session:
            session.add(OutboxRow(event_id=event_id, event=event, url=url, body=body, status="pending", attempts=0,
                                  created_at=now, next_attempt_at=now))
        self.wakeup.set()
        return event_id

    def _claim(self, now: datetime, limit: int) -> list[OutboxRow]:
        """Due pending events, leased to this caller so that another worker does not send them at the same time."""
        with self._write.begin() as session:
            rows = session.scalars(
                select(OutboxRow).where(OutboxRow.status == "pending", OutboxRow.next_attempt_at <= now,
                                        or_(OutboxRow.lease_until.is_(None), OutboxRow.lease_until < now))
                .order_by(OutboxRow.id).limit(limit)).all()
            for row in rows:
                row.lease_until = now + timedelta(seconds=LEASE_S)
            session.flush()
            session.expunge_all()
        return list(rows)

    def client(self) -> httpx.Client:
        """An HTTP client whose connections go only where the guard allows (no redirects, no environment proxy)."""
        return httpx.Client(timeout=self.timeout_s, transport=GuardedTransport(self.guard), follow_redirects=False)

    def deliver_due(self, client: httpx.Client | None = None, limit: int = 50) -> int:
        """Try every due event once; return how many were delivered. `client`: one made by `client()`."""
        rows = self._claim(datetime.now(UTC), limit)
        if not rows:
            return 0
        own = client is None
        client = client or self.client()
        delivered = 0
        try:
            for row in rows:
                delivered += self._attempt(client, row)
        finally:
            if own:
                client.close()
        return delivered

    def _attempt(self, client: httpx.Client, row: OutboxRow) -> int:
        timestamp = str(int(time.time()))
        body = row.body.encode()
        headers = {"Content-Type": "application/json", EVENT_ID_HEADER: row.event_id, EVENT_HEADER: row.event,
                   TIMESTAMP_HEADER: timestamp, SIGNATURE_HEADER: sign(self.secret, row.event_id, timestamp, body),
                   "User-Agent": "robots-webhooks/1"}
        error = None
        refused = False
        try:
            self.guard.check_form(row.url)  # the addresses are checked as the client connects
            response = client.post(row.url, content=body, headers=headers)
            if not 200 <= response.status_code < 300:
                error = f"HTTP {response.status_code}"  # the status only: the body is never kept
        except TargetRefused as e:
            error, refused = e.stored(), True
        except httpx.HTTPError as e:
            error = f"{type(e).__name__}: {e}"
        now = datetime.now(UTC)
        attempts = row.attempts + 1
        values: dict[str, Any] = {"attempts": attempts, "lease_until": None, "last_error": error}
        target = without_credentials(row.url)
        if error is None:
            values.update(status="delivered", delivered_at=now)
            log.info("webhook %s delivered to %s", row.event, target)
        elif refused:  # a policy, not a passing failure: not retried
            values.update(status="failed")
            log.warning("webhook %s to %s: %s", row.event, target, error)
        elif attempts >= self.max_attempts:
            values.update(status="failed")
            log.warning("webhook %s to %s failed %d times (%s); giving up", row.event, target, attempts, error)
        else:
            wait = min(self.backoff_s * 2 ** (attempts - 1), self.max_backoff_s)
            values.update(next_attempt_at=now + timedelta(seconds=wait))
            log.info("webhook %s to %s failed (%s); next attempt in %.1f s", row.event, target, error, wait)
        with self._write.begin() as session:
            session.execute(update(OutboxRow).where(OutboxRow.id == row.id).values(**values))
        return int(error is None)

    def next_due_in(self) -> float | None:
        """Seconds until the next pending event is due (0 if one is due now), None if none is pending."""
        with self._read() as session:
            due = session.scalar(select(OutboxRow.next_attempt_at).where(OutboxRow.status == "pending")
                                 .order_by(OutboxRow.next_attempt_at).limit(1))
        if due is None:
            return None
        return max(0.0, (due - datetime.now(UTC)).total_seconds())

    def list(self, limit: int = 50) -> list[Delivery]:
        """The newest events first."""
        with self._read() as session:
            rows = session.scalars(select(OutboxRow).order_by(OutboxRow.id.desc()).limit(limit)).all()
        return [Delivery(r.event_id, r.event, r.url, r.status, r.attempts, r.last_error) for r in rows]


class OutboxWorker:
    """A thread that delivers due events until `stop()`: at once after an enqueue, else when the next is due."""

    def __init__(self, outbox: Outbox, idle_s: float = 5.0) -> None:
        self.outbox = outbox
        self.idle_s = idle_s
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._loop, name="webhook-outbox", daemon=True)

    def start(self) -> None:
        self._thread.start()

    def _loop(self) -> None:
        with self.outbox.client() as client:
            while not self._stop.is_set():
                try:
                    self.outbox.deliver_due(client)
                    due = self.outbox.next_due_in()
                except Exception as e:  # noqa: BLE001 - a database hiccup; the next round retries
                    log.warning("webhook outbox: %s", e)
                    due = None
                wait = self.idle_s if due is None else min(max(due, 0.05), self.idle_s)
                self.outbox.wakeup.wait(wait)
                self.outbox.wakeup.clear()

    def stop(self, flush_s: float = 5.0) -> None:
        """Stop after one last round (bounded by flush_s: a receiver that hangs does not hold up a shutdown)."""
        self._stop.set()
        self.outbox.wakeup.set()
        self._thread.join(flush_s)
