"""Webhook subscriptions and `run.finished` events through the one outbox: signed (HMAC-SHA256 over event id,
timestamp and body, checked with robots.outbox.verify), one event id per event, and a receiver that is down gets
the event once it is up again."""

from __future__ import annotations

import socket
import time
from collections.abc import Callable
from typing import Any

import pytest
from fastapi import FastAPI, Request

from robots.outbox import verify

from .conftest import ApiClient, bearer, serve, token
from .test_contracts import envelope

SECRET = "whsec-test"


@pytest.fixture(autouse=True)
def _allow_loopback(monkeypatch: pytest.MonkeyPatch) -> None:
    """These receivers listen on 127.0.0.1, which webhooks may reach only when the operator allows it."""
    monkeypatch.setenv("ROBOTS_WEBHOOK_ALLOW_NETWORKS", "127.0.0.0/8")


def receiver() -> tuple[FastAPI, list[tuple[dict[str, str], bytes]]]:
    got: list[tuple[dict[str, str], bytes]] = []
    app = FastAPI()

    @app.post("/hook")
    async def hook(request: Request) -> dict[str, bool]:
        got.append((dict(request.headers), await request.body()))
        return {"ok": True}

    return app, got


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def wait_until(check: Callable[[], Any], timeout: float = 60) -> Any:
    deadline = time.monotonic() + timeout
    while not (value := check()) and time.monotonic() < deadline:
        time.sleep(0.05)  # polling with a deadline
    return value


def test_subscriptions_crud_and_scope(make_client: Callable[..., ApiClient]) -> None:
    api = make_client(webhook_secret=SECRET)
    headers = bearer(token(api, "webhooks:manage"))
    envelope(api.post("/webhooks", headers=bearer(token(api, "runs:read")), json={"url": "http://127.0.0.1:9/h"}),
             403, "missing_scope", "this token lacks the scope 'webhooks:manage'")
    error = envelope(api.post("/webhooks", headers=headers, json={"url": "not a url", "events": ["run.started"]}),
                     422, "invalid_input", "invalid input: url, events.0")
    assert [d["loc"] for d in error["details"]] == [["body", "url"], ["body", "events", 0]]
    made = api.post("/webhooks", headers=headers, json={"url": "http://127.0.0.1:9/h"})
    assert made.status_code == 201 and made.json()["events"] == ["run.finished"]
    wid = made.json()["webhook_id"]
    assert api.get("/webhooks", headers=headers).json()["items"] == [made.json()]
    assert api.get(f"/webhooks/{wid}", headers=headers).json() == made.json()
    other = bearer(token(api, "webhooks:manage"))  # another token does not see it
    envelope(api.get(f"/webhooks/{wid}", headers=other), 404, "webhook_not_found", f"no webhook {wid!r}")
    assert api.delete(f"/webhooks/{wid}", headers=headers).status_code == 204
    assert api.get("/webhooks", headers=headers).json() == {"items": []}


def test_run_finished_is_signed_and_reaches_a_receiver_that_was_down(make_client: Callable[..., ApiClient]) -> None:
    api = make_client(webhook_secret=SECRET, webhook_backoff_s=0.2)
    headers = bearer(token(api, "webhooks:manage", "flows:run", "runs:read"))
    port = free_port()
    assert api.post("/webhooks", headers=headers, json={"url": f"http://127.0.0.1:{port}/hook"}).status_code == 201
    run = api.post("/flows/echo/runs", headers=headers, json={"vars": {"msg": "hi"}}).json()

    outbox = api.app.state.webhooks.outbox
    failed = wait_until(lambda: [d for d in outbox.list() if d.attempts >= 1])
    assert failed and failed[0].status == "pending" and failed[0].last_error.startswith("ConnectError")

    app, got = receiver()
    with serve(app, port):
        assert wait_until(lambda: got, timeout=60)
    headers_got, body = got[0]
    event_id = verify(SECRET, headers_got, body)
    assert headers_got["x-robots-event"] == "run.finished" and event_id == failed[0].event_id
    import json

    event = json.loads(body)
    assert (event["event"], event["event_id"], event["run"]["run_id"], event["run"]["status"],
            event["run"]["outputs"], event["run"]["location"]) == (
        "run.finished", event_id, run["run_id"], "passed", {"said": "hi"}, f"/runs/{run['run_id']}")
    assert [d.status for d in outbox.list()] == ["delivered"]
