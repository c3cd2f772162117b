"""pytest fixtures: one sandbox Sera portal per test session, reset to its snapshot before each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Any]:
    """The bundled sandbox portal at the default size, started once per session."""
    from robots.packs.sera.sandbox import SandboxServer

    server = SandboxServer(size="default")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox(sandbox_server: Any) -> Any:
    """The session's sandbox, reset (data, sessions, used TOTP codes, clock) before the test."""
    sandbox_server.reset()
    return sandbox_server


@pytest.fixture
def sandbox_env(sandbox: Any) -> dict[str, str]:
    """Environment that points a run at the sandbox with its demo account."""
    from robots.auth.vault import env_name
    from robots.packs.sera.sandbox import credentials

    creds = credentials()
    return {
        "ROBOTS_PORTAL_URL": sandbox.url,
        env_name("sera_username"): creds["username"],
        env_name("sera_password"): creds["password"],
        env_name("sera_totp"): creds["totp_secret"],
    }
