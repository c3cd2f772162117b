"""Fixtures for the sandbox portal tests: one small server per session, reset before every test."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from robots.packs.sera.sandbox import SandboxServer

from .helpers import FIXED_NOW, set_clock


@pytest.fixture(scope="session")
def sandbox() -> Iterator[SandboxServer]:
    with SandboxServer(size="small") as server:
        yield server


@pytest.fixture
def portal(sandbox: SandboxServer) -> Iterator[httpx.Client]:
    """A fresh browser-like client against a freshly reset sandbox whose clock is at FIXED_NOW."""
    sandbox.reset()
    with httpx.Client(base_url=sandbox.url, follow_redirects=False, timeout=10) as client:
        set_clock(client, FIXED_NOW)
        yield client
