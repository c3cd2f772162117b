"""What an API process needs to know: where its database, home and flows are, and its limits."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_FLOWS = Path(__file__).resolve().parents[2] / "flows"


@dataclass(frozen=True)
class ApiSettings:
    #: the run store's URL (None: $ROBOTS_DATABASE_URL, else ./.robots/robots.db)
    database_url: str | None = None
    #: ROBOTS_HOME: run folders, the vault key, the browser pool's slot files
    home: Path = field(default_factory=lambda: Path(os.environ.get("ROBOTS_HOME", ".robots")))
    #: the folder `POST /flows/{name}/runs` may run flows from (names are paths below it, without .yaml)
    flows_dir: Path = DEFAULT_FLOWS
    #: the folder the endpoints' own flows come from (sera/list_customers.yaml, ...)
    library_dir: Path = DEFAULT_FLOWS
    #: the portal for tokens without a portal session (admin tokens made by `robots api token create`)
    portal_url: str | None = field(default_factory=lambda: os.environ.get("ROBOTS_PORTAL_URL") or None)
    #: more portals POST /sessions may sign in to besides `portal_url` (ROBOTS_API_PORTALS, comma-separated): the
    #: API's browser never opens a URL a caller made up
    portals: tuple[str, ...] = field(default_factory=lambda: tuple(
        u.strip().rstrip("/") for u in os.environ.get("ROBOTS_API_PORTALS", "").split(",") if u.strip()))
    #: lifetime of a token issued by POST /sessions, seconds
    session_token_ttl_s: int = 8 * 3600
    #: per-token request budget: `rate_limit` requests per `rate_window_s` seconds (then 429 + Retry-After)
    rate_limit: int = 120
    rate_window_s: float = 60.0
    #: per-tenant budget over all of a tenant's tokens, in the same window
    tenant_rate_limit: int = 600
    #: signs webhook deliveries (HMAC-SHA256); None: the secret `webhook_secret` (env or vault), else unsigned ""
    webhook_secret: str | None = None
    #: the outbox's first retry wait (doubles per failed attempt)
    webhook_backoff_s: float = 5.0
    #: worker threads for runs started by POST /flows/{name}/runs
    run_workers: int = 2
