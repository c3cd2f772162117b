"""The webhook outbox (docs/CONTRACTS.md C5): persisted, signed (HMAC-SHA256 over event id, timestamp and body), one
event id per event for dedup, retried with back-off; a receiver that is down gets the event later."""

from __future__ import annotations

import json
import socket
from pathlib import Path

import pytest

from robots.outbox import BadSignature, Outbox, OutboxWorker, verify
from robots.records import SqlStore
from scheduler.helpers import wait_until
from scheduler.receiver import Receiver

SECRET = "s3cret-for-tests"


@pytest.fixture(autouse=True)
def _allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """The receivers listen on 127.0.0.1, which webhooks may reach only when the operator allows it."""
    monkeypatch.setenv("ROBOTS_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8")


@pytest.fixture
def store(tmp_path: Path):
    s = SqlStore(f"sqlite:///{tmp_path}/robots.db")
    yield s
    s.close()


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def test_a_receiver_that_is_down_gets_the_event_later(store: SqlStore) -> None:
    port = _free_port()
    outbox = Outbox(store.engine, SECRET, backoff_s=0.2)
    event_id = outbox.enqueue(f"http://127.0.0.1:{port}/hooks", "robot.failure", {"robot": "nightly", "run_id": "r1"})
    assert outbox.deliver_due() == 0  # nobody listens yet
    [pending] = outbox.list()
    assert (pending.status, pending.attempts) == ("pending", 1)
    assert pending.last_error is not None and pending.last_error.startswith("ConnectError")
    assert outbox.deliver_due() == 0  # not due again before its back-off

    # A second outbox on the same database (another process, as it were) delivers it once the receiver is up.
    with Receiver(port) as receiver:
        later = Outbox(store.engine, SECRET, backoff_s=0.2)
        wait_until(lambda: later.deliver_due() == 1, 10, "the event to be delivered")
    [delivery] = later.list()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("delivered", 2, None)
    [got] = receiver.received
    assert got["path"] == "/hooks"
    assert verify(SECRET, got["headers"], got["body"]) == event_id
    assert got["headers"]["X-Robots-Event"] == "robot.failure"
    body = json.loads(got["body"])
    assert {k: body[k] for k in ("event", "event_id", "robot", "run_id")} == {
        "event": "robot.failure", "event_id": event_id, "robot": "nightly", "run_id": "r1"}
    assert outbox.deliver_due() == 0  # delivered once, never again


def test_a_failing_receiver_is_retried_with_back_off_until_it_gives_up(store: SqlStore) -> None:
    with Receiver(status=500) as receiver:
        outbox = Outbox(store.engine, SECRET, backoff_s=0.05, max_attempts=3)
        outbox.enqueue(receiver.url, "robot.recovery", {"robot": "nightly"})
        wait_until(lambda: outbox.deliver_due() == 0 and outbox.list()[0].status == "failed", 10,
                   "the outbox to give up")
    [delivery] = outbox.list()
    assert (delivery.status, delivery.attempts, delivery.last_error) == ("failed", 3, "HTTP 500")
    ids = {r["headers"]["X-Robots-Event-Id"] for r in receiver.received}
    assert len(receiver.received) == 3 and len(ids) == 1  # the same event id on every attempt: dedup


def test_the_worker_delivers_as_soon_as_an_event_is_enqueued(store: SqlStore) -> None:
    with Receiver() as receiver:
        outbox = Outbox(store.engine, SECRET)
        worker = OutboxWorker(outbox, idle_s=30)  # a long idle wait: only the enqueue's wake-up can explain it
        worker.start()
        try:
            outbox.enqueue(receiver.url, "robot.drift", {"robot": "nightly"})
            wait_until(lambda: receiver.received, 10, "the worker to deliver")
        finally:
            worker.stop()
    assert json.loads(receiver.received[0]["body"])["event"] == "robot.drift"


def test_a_tampered_or_stale_delivery_does_not_verify() -> None:
    from robots.outbox import sign

    body = b'{"event": "robot.failure"}'
    headers = {"X-Robots-Timestamp": "1000", "X-Robots-Event-Id": "e1",
               "X-Robots-Signature": sign(SECRET, "e1", "1000", body)}
    assert verify(SECRET, headers, body, now=1000) == "e1"
    with pytest.raises(BadSignature, match="the signature does not match the event id, timestamp and body"):
        verify(SECRET, headers, body + b" ", now=1000)
    with pytest.raises(BadSignature, match="the signature does not match the event id, timestamp and body"):
        verify("another secret", headers, body, now=1000)
    with pytest.raises(BadSignature, match=r"more than 300 s away from now \(a replay\?\)"):
        verify(SECRET, headers, body, now=2000)
