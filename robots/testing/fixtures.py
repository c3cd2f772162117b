"""pytest fixtures: one sandbox Sera portal per test session, reset to its snapshot before each test."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest


@pytest.fixture(scope="session")
def sandbox_server() -> Iterator[Any]:
    """The bundled sandbox portal at the default size, started once per session."""
    from robots.sandbox import SandboxServer

    server = SandboxServer(size="default")
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def sandbox(sandbox_server: Any) -> Any:
    """The session's sandbox, reset (data, sessions, used TOTP codes, clock) before the test."""
    reset_sandbox(sandbox_server)
    return sandbox_server


def reset_sandbox(server: Any) -> None:
    """Reset the sandbox, and this process's memory of the TOTP codes it accepted (it forgot them too): a sign-in
    in this process (a Runner, the API, a scenario) then types the current code at once instead of waiting out
    up to one 30-second window for codes the portal no longer counts as used."""
    from robots.steps.signin import forget_accepted_codes

    server.reset()
    forget_accepted_codes()


@pytest.fixture
def sandbox_env(sandbox: Any) -> dict[str, str]:
    """Environment that points a run at the sandbox with its demo account."""
    from robots.auth.vault import env_name
    from robots.sandbox import credentials

    creds = credentials()
    return {
        "ROBOTS_PORTAL_URL": sandbox.url,
        env_name("sera_username"): creds["username"],
        env_name("sera_password"): creds["password"],
        env_name("sera_totp"): creds["totp_secret"],
    }
