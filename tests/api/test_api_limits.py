"""The API's limits, checked before authentication and before anything reads the body: a body over the limit is 413
(by its Content-Length, or counted while a chunked body streams in, never buffered whole), uploads have their own
larger limit, and requests without a valid token and all requests of one client address have a budget (429 with
Retry-After). Every request of these tests comes from 127.0.0.1, so the budgets are lowered per test."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest

from api.conftest import ApiClient, bearer, serve, token
from robots.api import ApiSettings, create_app

MIB = 1024 * 1024
LIMIT = (f"the request body is over this endpoint's limit of {MIB} bytes", {"limit_bytes": MIB})


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., ApiClient]]:
    import contextlib

    with contextlib.ExitStack() as stack:
        def make(**settings: Any) -> ApiClient:
            options: dict[str, Any] = {"database_url": f"sqlite:///{tmp_path}/robots.db", "home": tmp_path / "home",
                                       "portal_url": None}
            options.update(settings)
            return stack.enter_context(serve(create_app(ApiSettings(**options))))

        yield make


def error(response: httpx.Response, status: int, type_: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"type", "message", "details", "request_id"}
    assert body["error"]["type"] == type_
    assert body["error"]["request_id"] == response.headers["X-Request-Id"]
    return dict(body["error"])


def chunks(total: int, size: int = 64 * 1024) -> Iterator[bytes]:
    """A body sent with Transfer-Encoding: chunked (no Content-Length), made as it is sent."""
    block = b"x" * size
    sent = 0
    while sent < total:
        yield block[:min(size, total - sent)]
        sent += size


def test_a_declared_length_over_the_limit_is_413_before_the_body_is_read_or_the_caller_authenticated(
        make_client: Callable[..., ApiClient]) -> None:  # fmt: skip
    client = make_client()
    port = int(client.base_url.port or 0)
    # 200 MB declared and none of it sent: the answer comes without waiting for the body.
    with socket.create_connection(("127.0.0.1", port), timeout=30) as sock:
        sock.sendall(b"POST /sessions HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
                     b"Content-Length: 209715200\r\n\r\n")
        answer = b""
        while b"\r\n\r\n" not in answer or not answer.rstrip().endswith(b"}"):
            got = sock.recv(65536)
            if not got:
                break
            answer += got
    head, _, body = answer.partition(b"\r\n\r\n")
    assert head.split(b"\r\n")[0] == b"HTTP/1.1 413 Request Entity Too Large", head
    import json

    envelope = json.loads(body)["error"]
    assert (envelope["type"], envelope["message"], envelope["details"]) == ("payload_too_large", *LIMIT)

    # The same through an ordinary client, on an endpoint that needs a token and with a bad one: 413, not 401.
    r = client.post("/flows/echo/runs", content=b"{" + b" " * MIB + b"}", headers={
        **bearer("rbt_not-a-token"), "Content-Type": "application/json"})
    assert (error(r, 413, "payload_too_large")["message"]) == LIMIT[0]
    # At the limit it is read as usual (here: the token is not valid).
    r = client.post("/flows/echo/runs", content=b"{" + b" " * (MIB - 2) + b"}", headers={
        **bearer("rbt_not-a-token"), "Content-Type": "application/json"})
    assert error(r, 401, "invalid_token")["message"] == "the API token is not valid"


def test_a_chunked_body_without_length_is_cut_off_at_the_limit(make_client: Callable[..., ApiClient]) -> None:
    client = make_client()
    r = client.post("/sessions", content=chunks(3 * MIB), headers={"Content-Type": "application/json"})
    assert "content-length" not in {k.lower() for k in r.request.headers}
    found = error(r, 413, "payload_too_large")
    assert (found["message"], found["details"]) == LIMIT
    # The connection is still good for the next request.
    assert client.get("/health").status_code == 200


def test_uploads_have_their_own_larger_limit(make_client: Callable[..., ApiClient]) -> None:
    client = make_client(max_upload_bytes=3 * MIB)
    headers = bearer(token(client, "flows:run"))
    ok = client.post("/uploads", headers=headers, files={"file": ("big.bin", b"u" * (2 * MIB), "application/pdf")})
    assert (ok.status_code, ok.json()["size"]) == (201, 2 * MIB), ok.text
    over = client.post("/uploads", headers=headers, files={"file": ("big.bin", b"u" * (4 * MIB), "application/pdf")})
    found = error(over, 413, "payload_too_large")
    assert (found["message"], found["details"]) == (
        f"the request body is over this endpoint's limit of {3 * MIB} bytes", {"limit_bytes": 3 * MIB})


def _peak_rss(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/{pid}/status")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_big_streamed_bodies_do_not_grow_the_servers_memory(tmp_path: Path) -> None:
    """`robots serve` in its own process: five 50 MB chunked bodies at once, each refused at the limit; the server's
    peak resident memory grows by far less than one body."""
    port = _free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ROBOTS_")}
    env.update({"ROBOTS_HOME": str(tmp_path / "home"), "ROBOTS_DATABASE_URL": f"sqlite:///{tmp_path}/robots.db",
                "SE_OFFLINE": "true"})
    server = subprocess.Popen([sys.executable, "-c", "from robots.cli import main; main()", "serve", "--port",
                               str(port)], env=env, cwd=tmp_path, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        url = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            assert server.poll() is None, server.stderr.read().decode() if server.stderr else ""
            try:
                if httpx.get(f"{url}/health", timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, "the API did not start"
            time.sleep(0.1)  # back-off while polling the server's health
        statuses: list[int] = []

        def send(size: int = 50 * MIB) -> None:
            r = httpx.post(f"{url}/flows/echo/runs", content=chunks(size), timeout=120,
                           headers={"Content-Type": "application/json"})
            statuses.append(r.status_code)

        send(2 * MIB)  # the first request loads what answering takes
        before = _peak_rss(server.pid)

        threads = [threading.Thread(target=send) for _ in range(5)]
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=180)
        grown = _peak_rss(server.pid) - before
        assert (statuses, grown < 40 * MIB) == ([413] * 6, True), f"peak RSS grew by {grown / MIB:.0f} MiB"
    finally:
        server.terminate()
        server.wait(timeout=30)
        if server.stderr:
            server.stderr.close()


def test_requests_without_a_valid_token_have_a_budget_per_address(make_client: Callable[..., ApiClient]) -> None:
    client = make_client(anonymous_rate_limit=4, rate_window_s=60)
    reader = bearer(token(client, "runs:read"))
    assert client.get("/runs/run_x", headers=reader).status_code == 404  # a valid token: not anonymous
    for _ in range(2):
        assert client.get("/runs/run_x").status_code == 401
    for _ in range(2):
        assert client.get("/runs/run_x", headers=bearer("rbt_guess")).status_code == 401
    message = ("rate limit of 4 requests per 60 s reached for requests without a valid token from this address; "
               "retry after {} s")
    for r in (client.get("/runs/run_x"), client.get("/runs/run_x", headers=bearer("rbt_guess")),
              client.post("/sessions", json={"credential": "sera"}), client.get("/health")):
        found = error(r, 429, "rate_limited")
        retry = int(r.headers["Retry-After"])
        assert 1 <= retry <= 60
        assert (found["message"], found["details"]) == (
            message.format(retry), {"limit": 4, "window_s": 60, "retry_after_s": retry})
    # A caller with a valid token from the same address is not held up by the anonymous flood.
    assert client.get("/runs/run_x", headers=reader).status_code == 404
    assert client.app.state.tokens.audit_entries(limit=10) == []  # nothing was done for the refused requests


def test_every_request_of_one_address_has_a_budget(make_client: Callable[..., ApiClient]) -> None:
    client = make_client(ip_rate_limit=6, rate_window_s=60)
    raw, _ = client.app.state.tokens.create(["runs:read"], label="tester", ttl=timedelta(hours=1))
    for _ in range(6):
        assert client.get("/runs/run_x", headers=bearer(raw)).status_code == 404
    r = client.get("/runs/run_x", headers=bearer(raw))
    found = error(r, 429, "rate_limited")
    retry = int(r.headers["Retry-After"])
    assert (found["message"], found["details"]) == (
        f"rate limit of 6 requests per 60 s reached for this address; retry after {retry} s",
        {"limit": 6, "window_s": 60, "retry_after_s": retry})


def test_the_limits_have_defaults_and_operator_settings(monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("ROBOTS_")]:
        monkeypatch.delenv(name)
    s = ApiSettings()
    assert (s.max_body_bytes, s.max_upload_bytes, s.anonymous_rate_limit, s.ip_rate_limit, s.rate_window_s) == (
        MIB, 25 * MIB, 30, 600, 60.0)
    monkeypatch.setenv("ROBOTS_API_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("ROBOTS_API_MAX_UPLOAD_BYTES", "4096")
    monkeypatch.setenv("ROBOTS_API_ANONYMOUS_RATE_LIMIT", "5")
    monkeypatch.setenv("ROBOTS_API_IP_RATE_LIMIT", "50")
    s = ApiSettings()
    assert (s.max_body_bytes, s.max_upload_bytes, s.anonymous_rate_limit, s.ip_rate_limit) == (2048, 4096, 5, 50)
    from robots.errors import InputError

    monkeypatch.setenv("ROBOTS_API_IP_RATE_LIMIT", "lots")
    with pytest.raises(InputError) as e:
        ApiSettings()
    assert str(e.value) == "ROBOTS_API_IP_RATE_LIMIT must be a whole number above 0, got 'lots'"
