"""Run the sandbox portal on loopback in a background thread, from a private copy of the cached snapshot."""

from __future__ import annotations

import logging
import os
import shutil
import socket
import sqlite3
import tempfile
import threading
import time
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from pathlib import Path
from types import TracebackType
from typing import Any

import httpx
import uvicorn

from .app import create_app
from .data import DEFAULT_SEED, ensure_snapshot
from .faults import parse_fault
from .tenants import PRIMARY, TENANTS

logger = logging.getLogger("robots.sandbox")


class _ThreadServer(uvicorn.Server):
    """uvicorn without signal handlers: the host process owns SIGINT and SIGTERM.

    uvicorn 0.54 already skips them off the main thread; this makes it explicit for every thread.
    """

    @contextmanager
    def capture_signals(self) -> Iterator[None]:
        yield


class SandboxServer:
    """The sandbox portal, listening on `host:port` (port 0 picks a free one; see `.url`).

    >>> with SandboxServer(size="small") as sandbox:
    ...     httpx.get(sandbox.url + "/login").status_code
    200
    """

    def __init__(
        self,
        seed: int = DEFAULT_SEED,
        size: str = "default",
        host: str = "127.0.0.1",
        port: int = 0,
        *,
        cache_dir: Path | None = None,
        startup_timeout: float = 15.0,
        faults: Sequence[dict[str, Any]] | None = None,
        app_latency: str | None = None,
        spa_dir: Path | None = None,
    ) -> None:
        """`faults`: switched on at start, in the same JSON form as POST /_sandbox/faults (e.g.
        `[{"name": "layout_b"}]`); they are this server's baseline, so `/_sandbox/reset` switches them back
        on (DELETE /_sandbox/faults still clears them until the next reset). A bad fault raises ValueError
        here, before anything starts. `app_latency`: the single-page app's delay per data call, "MIN-MAX" ms
        (None: ROBOTS_SANDBOX_APP_LATENCY; a bad one raises ValueError here too); `spa_dir`: the app's build
        (None: the cached build of its sources)."""
        self.seed = seed
        self.size = size
        self.host = host
        self.port = port
        self.cache_dir = cache_dir
        self.startup_timeout = startup_timeout
        self.faults = [parse_fault(dict(f)) for f in faults or ()]
        from .spa_api import configured_latency, parse_latency

        self.app_latency = configured_latency() if app_latency is None else parse_latency(app_latency, "app_latency")
        self.spa_dir = spa_dir
        self._server: _ThreadServer | None = None
        self._thread: threading.Thread | None = None
        self._db_path: Path | None = None
        self._tenant_db_paths: dict[str, Path] = {}
        self._app: Any = None

    @property
    def url(self) -> str:
        if self._server is None:
            raise RuntimeError("the sandbox server is not running; call start() first")
        return f"http://{self.host}:{self.port}"

    @property
    def db_path(self) -> Path | None:
        """This instance's private database file (None when stopped); tests may change it directly."""
        return self._db_path

    @property
    def tenant_db_paths(self) -> dict[str, Path]:
        """Every tenant's private database file (empty when stopped)."""
        return dict(self._tenant_db_paths)

    def rows(self, sql: str, *params: Any, tenant: str = PRIMARY) -> list[sqlite3.Row]:
        """A query of a tenant's database, read-only: what a test compares a flow's output with."""
        path = self._tenant_db_paths.get(tenant)
        if path is None:
            raise RuntimeError(f"the sandbox server has no database for the tenant {tenant!r} (is it running?)")
        conn = sqlite3.connect(f"file:{path}?mode=ro", uri=True)
        conn.row_factory = sqlite3.Row
        try:
            return conn.execute(sql, params).fetchall()
        finally:
            conn.close()

    @property
    def running(self) -> bool:
        return self._thread is not None and self._thread.is_alive()

    def start(self) -> SandboxServer:
        if self._server is not None:
            raise RuntimeError("the sandbox server is already running")
        from .spa_build import build_dir as spa_build_dir

        snapshots = {slug: ensure_snapshot(self.seed, self.size, self.cache_dir, slug) for slug in TENANTS}
        sock: socket.socket | None = None
        try:
            for slug, snapshot in snapshots.items():
                fd, name = tempfile.mkstemp(prefix=f"sera-sandbox-{slug}-", suffix=".sqlite3")
                os.close(fd)
                self._tenant_db_paths[slug] = Path(name)
                shutil.copyfile(snapshot, name)
            self._db_path = self._tenant_db_paths[PRIMARY]
            others = {k: v for k, v in self._tenant_db_paths.items() if k != PRIMARY}
            self._app = create_app(self._db_path, tenant_db_paths=others, app_latency=self.app_latency,
                                   spa_dir=self.spa_dir if self.spa_dir is not None else spa_build_dir(self.cache_dir))
            sandbox = self._app.state.sandbox
            sandbox.baseline_faults = list(self.faults)
            for fault in self.faults:
                sandbox.faults.set(parse_fault(fault.to_json()))
            # Bind here, before uvicorn starts, so port 0 resolves to a real port we can report at once.
            family = socket.AF_INET6 if ":" in self.host else socket.AF_INET
            # IPPROTO_TCP explicitly: asyncio sets TCP_NODELAY on accepted sockets only then (else +40 ms per
            # response from Nagle and delayed ACKs).
            sock = socket.socket(family, socket.SOCK_STREAM, socket.IPPROTO_TCP)
            sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
            sock.bind((self.host, self.port))
            self.port = sock.getsockname()[1]
            config = uvicorn.Config(
                self._app, log_level="warning", access_log=False, lifespan="off", server_header=False
            )
            self._server = _ThreadServer(config)
            self._thread = threading.Thread(
                target=self._server.run, kwargs={"sockets": [sock]}, name=f"sera-sandbox-{self.port}", daemon=True
            )
            self._thread.start()
            self._wait_until_serving()
        except BaseException:
            self.stop()
            if sock is not None:
                sock.close()
            raise
        logger.info("sandbox portal listening on %s (seed %s, size %s)", self.url, self.seed, self.size)
        return self

    def _wait_until_serving(self) -> None:
        deadline = time.monotonic() + self.startup_timeout
        assert self._server is not None and self._thread is not None
        while not self._server.started:
            if not self._thread.is_alive():
                raise RuntimeError("the sandbox server thread exited during start-up")
            if time.monotonic() > deadline:
                raise TimeoutError(f"the sandbox server did not start within {self.startup_timeout} s")
            time.sleep(0.01)  # back-off while polling uvicorn's started flag

    def stop(self) -> None:
        if self._server is not None:
            self._server.should_exit = True
        if self._thread is not None:
            self._thread.join(timeout=10)
        if self._app is not None:
            self._app.state.sandbox.close()
        for path in self._tenant_db_paths.values():
            for suffix in ("", "-journal", "-wal", "-shm"):
                Path(str(path) + suffix).unlink(missing_ok=True)
        self._tenant_db_paths = {}
        self._server = self._thread = self._db_path = self._app = None

    def reset(self) -> dict[str, Any]:
        """Restore the seed data and forget sessions, used codes, throttles and the clock offset."""
        response = httpx.post(self.url + "/_sandbox/reset", timeout=10)
        response.raise_for_status()
        result: dict[str, Any] = response.json()
        return result

    def __enter__(self) -> SandboxServer:
        return self.start()

    def __exit__(
        self, exc_type: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        self.stop()


def serve_forever(
    host: str = "127.0.0.1",
    port: int = 0,
    seed: int = DEFAULT_SEED,
    size: str = "default",
    on_ready: Callable[[str], None] | None = None,
    *,
    faults: Sequence[dict[str, Any]] | None = None,
) -> None:
    """Serve until interrupted (Ctrl-C raises KeyboardInterrupt here, after the server has stopped).
    `faults` as for SandboxServer: on from the start and again after every reset."""
    with SandboxServer(seed=seed, size=size, host=host, port=port, faults=faults) as server:
        if on_ready is not None:
            on_ready(server.url)
        stopped = threading.Event()
        while not stopped.wait(0.5):  # wakes twice a second so KeyboardInterrupt is delivered promptly
            if not server.running:
                raise RuntimeError("the sandbox server stopped unexpectedly")
