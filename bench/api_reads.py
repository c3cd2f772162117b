"""Reads through the Sera API with a warm portal session: p50 / p95 latency and requests per second.

    .venv/bin/python bench/api_reads.py [--requests 10] [--size default]

Starts the sandbox and the API (uvicorn on loopback, in this process), signs in once with POST /sessions, then
times sequential reads: GET /customers with a page size the portal offers (25, 50, 100) is a warm read - one
portal page over HTTP with the stored session, read by the list flow's own extract step, no browser; with any
other page size it runs the list flow in a fresh Chrome (session restored, no sign-in), as GET /customers/{id}
does. Target (issue 9): GET /customers (one page) p50 under 300 ms.
"""

from __future__ import annotations

import argparse
import os
import socket
import statistics
import sys
import tempfile
import threading
import time
from datetime import timedelta
from pathlib import Path

import httpx
import uvicorn

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from robots.api import ApiSettings, create_app  # noqa: E402
from robots.packs.sera.sandbox import SandboxServer, credentials  # noqa: E402


def serve(app: object) -> tuple[uvicorn.Server, threading.Thread, str]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(app, log_level="warning", access_log=False))  # type: ignore[arg-type]
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    while not server.started:
        time.sleep(0.01)  # back-off while uvicorn starts
    return server, thread, f"http://127.0.0.1:{sock.getsockname()[1]}"


def timed(client: httpx.Client, path: str, n: int, headers: dict[str, str]) -> list[float]:
    out = []
    for _ in range(n):
        t0 = time.perf_counter()
        r = client.get(path, headers=headers)
        out.append((time.perf_counter() - t0) * 1000)
        r.raise_for_status()
    return out


def report(name: str, ms: list[float]) -> None:
    ordered = sorted(ms)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"{name:<40} n={len(ms):<3} p50 {statistics.median(ms):8.0f} ms   p95 {p95:8.0f} ms   "
          f"{1000 * len(ms) / sum(ms):6.2f} req/s   (target p50 < 300 ms: {statistics.median(ms) / 300:.1f}x)")


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--requests", type=int, default=10)
    parser.add_argument("--size", default="default")
    args = parser.parse_args()
    os.environ.setdefault("SE_OFFLINE", "true")
    with tempfile.TemporaryDirectory() as tmp, SandboxServer(size=args.size) as sandbox:
        home = Path(tmp)
        app = create_app(ApiSettings(database_url=f"sqlite:///{home}/robots.db", home=home / "home",
                                     portal_url=None, portals=(f"acme={sandbox.url}",), rate_limit=100000))
        server, thread, url = serve(app)
        try:
            with httpx.Client(base_url=url, timeout=300) as client:
                creds = credentials()
                t0 = time.perf_counter()
                operator, _ = app.state.tokens.create(["admin"], label="bench", ttl=timedelta(hours=1))
                session = client.post("/sessions", json={
                    "portal_url": sandbox.url, "username": creds["username"], "password": creds["password"],
                    "mfa": {"method": "totp", "totp_secret": creds["totp_secret"]}},
                    headers={"Authorization": f"Bearer {operator}"})
                session.raise_for_status()
                print(f"POST /sessions (sign-in)                 {(time.perf_counter() - t0) * 1000:8.0f} ms")
                headers = {"Authorization": f"Bearer {session.json()['token']}"}
                report("GET /customers?page_size=50 (http)",
                       timed(client, "/customers?page_size=50&page=3", args.requests * 5, headers))
                report("GET /customers?q=..&page_size=10 (flow)",
                       timed(client, "/customers?q=C-100001&page_size=10", args.requests, headers))
                report("GET /customers/1001", timed(client, "/customers/1001", args.requests, headers))
        finally:
            server.should_exit = True
            thread.join(30)


if __name__ == "__main__":
    main()
