"""An API per test, served by a real uvicorn on loopback (in a thread), on a real SQLite file in the test's own
home; flows from tests/api/flows unless a test points it at flows/ (the Sera flows)."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import timedelta
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn
from fastapi import FastAPI

from robots.api import ApiSettings, create_app
from robots.flow.loader import library
from robots.testing.helpers import flows_with_page_load

TEST_FLOWS = Path(__file__).resolve().parent / "flows"


class _Server(uvicorn.Server):
    @contextmanager
    def capture_signals(self) -> Iterator[None]:  # the test process owns its signals
        yield


class ApiClient(httpx.Client):
    app: FastAPI


@contextmanager
def serve(app: FastAPI, port: int = 0) -> Iterator[ApiClient]:
    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.bind(("127.0.0.1", port))
    port = sock.getsockname()[1]
    server = _Server(uvicorn.Config(app, log_level="warning", access_log=False, lifespan="on"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, name=f"api-{port}", daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started:
        assert thread.is_alive() and time.monotonic() < deadline, "the API did not start"
        time.sleep(0.01)  # back-off while polling uvicorn's started flag
    client = ApiClient(base_url=f"http://127.0.0.1:{port}", timeout=300)
    client.app = app
    try:
        yield client
    finally:
        client.close()
        server.should_exit = True
        thread.join(timeout=60)
        sock.close()


@pytest.fixture
def make_client(tmp_path: Path) -> Iterator[Callable[..., ApiClient]]:
    with contextlib_exit() as stack:
        def make(**settings: Any) -> ApiClient:
            options: dict[str, Any] = {"database_url": f"sqlite:///{tmp_path}/robots.db", "home": tmp_path / "home",
                                       "flows_dir": TEST_FLOWS, "portal_url": None,
                                       "allowed_flows": ("*",)}  # every test flow runs through POST /flows/...
            options.update(settings)
            return stack.enter_context(serve(create_app(ApiSettings(**options))))

        yield make


def library_with_page_load(folder: Path, seconds: float, *names: str) -> Path:
    """A library folder (ApiSettings.library_dir) holding a copy of each installed pack's flows as `<pack>/`, in
    which the flows `names` (e.g. "sera/create_customer") give up on a page after `seconds` instead of their 8 s
    (robots.testing.helpers.flows_with_page_load)."""
    root = folder / "library"
    root.mkdir()
    for flows, pack in library().items():
        mine = [name.partition("/")[2] for name in names if name.partition("/")[0] == pack]
        flows_with_page_load(flows, folder / "packs" / pack, seconds, *mine).rename(root / pack)
    return root


def contextlib_exit() -> Any:
    import contextlib

    return contextlib.ExitStack()


@pytest.fixture
def client(make_client: Callable[..., ApiClient]) -> ApiClient:
    return make_client()


def token(client: ApiClient, *scopes: str, hours: float = 1, tenant: str | None = None,
          credentials: tuple[str, ...] = ()) -> str:
    raw, _ = client.app.state.tokens.create(list(scopes), label="tester", ttl=timedelta(hours=hours), tenant=tenant,
                                            credentials=credentials)
    return str(raw)


def bearer(raw: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {raw}"}


def operator(client: ApiClient, *credentials: str) -> dict[str, str]:
    """The headers of an operator's admin token (as `robots api token create --scope admin` mints): what may call
    POST /sessions and pass on any read and write scope."""
    return bearer(token(client, "admin", credentials=credentials))


@pytest.fixture
def api(make_client: Callable[..., ApiClient], sandbox: Any, monkeypatch: pytest.MonkeyPatch) -> ApiClient:
    """An API for the sandbox's portal sessions (POST /sessions may sign in to it), with no ROBOTS_* settings
    from the environment."""
    for name in [n for n in os.environ if n.startswith("ROBOTS_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("SE_OFFLINE", "true")
    return make_client(portals=(f"acme={sandbox.url}", f"summit={sandbox.url}/t/summit"))
