"""A webhook delivery's signature covers its event id, its timestamp and its body: a captured delivery replayed
under a fresh event id (which a receiver's duplicate check would take for a new event) or a fresh timestamp does
not verify, with robots.outbox.verify or with the recipe the README gives a receiver in another program."""

from __future__ import annotations

import hashlib
import hmac
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from scheduler.receiver import Receiver

from robots.netguard import NetGuard, allowed_networks
from robots.outbox import BadSignature, Outbox, verify
from robots.records import SqlStore

SECRET = "whsec-signature"


@pytest.fixture
def captured(tmp_path: Path) -> Iterator[tuple[dict[str, str], bytes]]:
    """One real delivery, as a receiver on 127.0.0.1 got it (headers, body)."""
    store = SqlStore(f"sqlite:///{tmp_path}/robots.db")
    try:
        outbox = Outbox(store.engine, SECRET, guard=NetGuard(allow=allowed_networks("127.0.0.0/8")))
        with Receiver() as receiver:
            outbox.enqueue(receiver.url, "run.finished", {"run": {"run_id": "r1", "outputs": {"said": "hi"}}})
            assert outbox.deliver_due() == 1
        [got] = receiver.received
        yield got["headers"], got["body"]
    finally:
        store.close()


def _replayed(headers: dict[str, str], **changed: str) -> dict[str, str]:
    names = {"event_id": "X-Robots-Event-Id", "timestamp": "X-Robots-Timestamp"}
    return {**headers, **{names[k]: v for k, v in changed.items()}}


def readme_recipe(secret: str, headers: Any, body: bytes) -> bool:
    """The README's receiver-side check (The Sera API, Outbound webhooks), word for word."""
    event_id = headers["X-Robots-Event-Id"]
    timestamp = headers["X-Robots-Timestamp"]
    signed = f"{event_id}.{timestamp}.".encode() + body
    expected = "sha256=" + hmac.new(secret.encode(), signed, hashlib.sha256).hexdigest()
    fresh = abs(time.time() - int(timestamp)) <= 300
    return fresh and hmac.compare_digest(expected, headers["X-Robots-Signature"])


def test_a_delivery_verifies_and_names_its_event(captured: tuple[dict[str, str], bytes]) -> None:
    headers, body = captured
    assert verify(SECRET, headers, body) == headers["X-Robots-Event-Id"]
    assert readme_recipe(SECRET, headers, body)


def test_a_replay_under_a_fresh_event_id_does_not_verify(captured: tuple[dict[str, str], bytes]) -> None:
    headers, body = captured
    replay = _replayed(headers, event_id=uuid.uuid4().hex)
    with pytest.raises(BadSignature) as caught:
        verify(SECRET, replay, body)
    assert str(caught.value) == "the signature does not match the event id, timestamp and body"
    assert not readme_recipe(SECRET, replay, body)


def test_a_replay_under_a_fresh_timestamp_does_not_verify(captured: tuple[dict[str, str], bytes]) -> None:
    headers, body = captured
    replay = _replayed(headers, timestamp=str(int(headers["X-Robots-Timestamp"]) + 60))
    with pytest.raises(BadSignature) as caught:
        verify(SECRET, replay, body, now=int(headers["X-Robots-Timestamp"]) + 60)
    assert str(caught.value) == "the signature does not match the event id, timestamp and body"
    assert not readme_recipe(SECRET, replay, body)
