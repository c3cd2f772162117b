"""The Sera API routes (PACK.api_routes): POST /sessions signs in to Sera, the reads and writes run Sera's flows.
The core app (robots.api.app) mounts them beside its own (system, runs, webhooks, uploads)."""

from __future__ import annotations

from typing import Any


def routers() -> list[Any]:
    """The routers, in the order /openapi.json lists them; an SSO session's runs sign in through SSO from now on."""
    from robots.api.flows import SESSION_FLOWS
    from robots.packs.sera.api import reads, sessions, sso, writes

    SESSION_FLOWS["sera"] = sso.for_session
    return [sessions.router, reads.router, writes.router]
