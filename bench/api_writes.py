"""Safe writes through the API under faults (docs/CONTRACTS.md C7): --count customer creates (default 100) sent by
--clients concurrent clients, each with its own Idempotency-Key, while the sandbox answers --percent of the submits
to /customers/new only after --slow-ms (committed, but later than the create flow's 8 s page-load timeout) and
fails --percent of them with its 500 page (nothing saved).

    .venv/bin/python bench/api_writes.py [--count 100] [--clients 20] [--percent 15] [--slow-ms 9000]
                                         [--client-timeout 20]

A client whose request times out (client side) or gets a 5xx sends the same key and body again, and waits out
the Retry-After of a 409 "still being answered" or a 429, until it has its 201 - like an integrator would.
Everything is real: the API served by uvicorn on loopback, its flows in headless Chromium (the pool of
ROBOTS_MAX_BROWSERS, default 2), the sandbox portal on loopback. Prints the customers created against those
asked for (the sandbox's write counter), the retries and answers the clients saw, the ambiguous outcomes the
portal produced (its request log), the most browsers in use at once, wall time and creates per minute.
"""

from __future__ import annotations

import argparse
import os
import socket
import tempfile
import threading
import time
from collections import Counter
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import uvicorn


class _Server(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:  # the bench's main thread keeps Ctrl-C
        yield


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--count", type=int, default=100, help="customers to create")
    parser.add_argument("--clients", type=int, default=20, help="concurrent clients")
    parser.add_argument("--percent", type=float, default=15, help="of the submits: slow commits, and 500s")
    parser.add_argument("--slow-ms", type=int, default=9000)
    parser.add_argument("--client-timeout", type=float, default=20.0, help="seconds a client waits for an answer")
    args = parser.parse_args()

    from robots.api import ApiSettings, create_app
    from robots.auth.vault import env_name
    from robots.packs.sera.sandbox import SandboxServer, credentials
    from robots.pool import BrowserPool, max_browsers
    from robots.testing import tracked_pids_alive
    from robots.testing.helpers import create_until_answered

    home = Path(tempfile.mkdtemp(prefix="robots-bench-api-writes-"))
    creds = credentials()
    os.environ.update({env_name("sera_username"): creds["username"], env_name("sera_password"): creds["password"],
                       env_name("sera_totp"): creds["totp_secret"], "SE_OFFLINE": "true"})
    sandbox = SandboxServer(size="default").start()
    app = create_app(ApiSettings(database_url=f"sqlite:///{home}/robots.db", home=home / "home",
                                 portal_url=sandbox.url, rate_limit=100_000, tenant_rate_limit=100_000))
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        if time.monotonic() > deadline:
            raise SystemExit("the API did not start")
        time.sleep(0.05)  # back-off while polling uvicorn's started flag
    base = f"http://127.0.0.1:{sock.getsockname()[1]}"
    raw, _ = app.state.tokens.create(["customers:write"], label="bench", ttl=timedelta(hours=4))
    headers = {"Authorization": f"Bearer {raw}"}

    faults = [{"name": "slow_commit", "ms": args.slow_ms, "percent": args.percent, "seed": 21,
               "paths": ["/customers/new"]},
              {"name": "server_error", "percent": args.percent, "seed": 22, "paths": ["/customers/new"]}]
    log: dict[tuple[Any, ...], dict[str, Any]] = {}
    stop = threading.Event()
    pool = BrowserPool(home / "home")
    most = [0]

    def watch() -> None:  # the sandbox keeps its last 500 requests: collect them as they come; sample the pool
        with httpx.Client(base_url=sandbox.url) as control:
            while not stop.is_set():
                for e in control.get("/_sandbox/requests").json():
                    log[(e["at"], e["method"], e["path"], e["status"], e["duration_ms"])] = e
                most[0] = max(most[0], pool.in_use())
                stop.wait(0.5)  # sampling interval

    try:
        httpx.post(f"{sandbox.url}/_sandbox/faults", json={"faults": faults}).raise_for_status()
        bodies = {f"bench-{n}": {"name": f"Bench Create {n}", "email": f"bench.create.{n}@example.com",
                                 "phone": f"(512) 555-{n:04d}", "city": "Austin", "state": "TX"}
                  for n in range(1, args.count + 1)}
        watcher = threading.Thread(target=watch, daemon=True)
        watcher.start()
        started = time.monotonic()
        with ThreadPoolExecutor(args.clients) as clients:
            answers = list(clients.map(lambda k: create_until_answered(
                base, headers, k, bodies[k], timeout=args.client_timeout, deadline_s=24 * 3600), bodies))
        wall = time.monotonic() - started
        stop.set()
        watcher.join()
        for e in httpx.get(f"{sandbox.url}/_sandbox/requests").json():
            log[(e["at"], e["method"], e["path"], e["status"], e["duration_ms"])] = e

        created = httpx.get(f"{sandbox.url}/_sandbox/writes").json()["writes"]["acme"].get("customers", 0)
        ids = {a["body"]["customer"]["id"] for a in answers if a["status"] == 201}
        seen = Counter(s for a in answers for s in a["seen"])
        posts = [e for e in log.values() if e["method"] == "POST" and e["path"] == "/customers/new"]
        slow = sum("slow_commit" in e.get("faults", []) for e in posts)
        errors = sum(e["status"] == 500 for e in posts)
        runs = [r for r in app.state.store.list(limit=None) if r.flow_name == "create_customer"]
        left = sum(len(tracked_pids_alive(Path(r.run_dir))) for r in runs if r.run_dir)
        print(f"creates asked {args.count}, answered 201 {sum(a['status'] == 201 for a in answers)}, distinct "
              f"customer ids {len(ids)}; records created {created} ({'exact' if created == args.count else 'WRONG'})")
        print(f"clients {args.clients} (timeout {args.client_timeout:g} s): requests "
              f"{sum(seen.values())}, retries {sum(seen.values()) - args.count}  ({', '.join(f'{k}: {v}' for k, v in sorted(seen.items()))})")  # noqa: E501
        print(f"ambiguous outcomes at the portal: {slow} slow commits (answered after {args.slow_ms / 1000:g} s, "
              f"past the flow's 8 s page-load timeout), {errors} error pages after a submit; submits {len(posts)} "
              f"(= creates + 500s: {'yes' if len(posts) == args.count + errors else 'NO'})")
        print(f"flow runs {len(runs)} ({sum(r.status == 'passed' for r in runs)} passed); browsers in use at once "
              f"at most {most[0]} (ROBOTS_MAX_BROWSERS {max_browsers()}); processes left behind {left}")
        print(f"wall time {wall:.1f} s, {args.count / wall * 60:.1f} creates/minute, {wall / args.count:.2f} s per "
              f"create")
    finally:
        stop.set()
        server.should_exit = True
        thread.join(timeout=120)
        sock.close()
        sandbox.stop()


if __name__ == "__main__":
    main()
