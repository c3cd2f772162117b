"""What an API process needs to know: where its database, home and flows are, and its limits."""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from pathlib import Path

DEFAULT_FLOWS = Path(__file__).resolve().parents[2] / "flows"
MIB = 1024 * 1024


def _env_int(name: str, default: int) -> int:
    """A positive whole number from the environment variable `name` (unset or empty: `default`)."""
    text = os.environ.get(name, "").strip()
    if not text:
        return default
    if not text.isdigit() or int(text) < 1:
        from robots.errors import InputError

        raise InputError(f"{name} must be a whole number above 0, got {text!r}")
    return int(text)


def _env_list(name: str) -> tuple[str, ...]:
    return tuple(p.strip() for p in os.environ.get(name, "").split(",") if p.strip())


def _env_path(name: str) -> Path | None:
    text = os.environ.get(name, "").strip()
    return Path(text) if text else None


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
    #: the tenant of `portal_url` (ROBOTS_PORTAL_TENANT; None: the URL names its own tenant)
    portal_tenant: str | None = field(default_factory=lambda: os.environ.get("ROBOTS_PORTAL_TENANT") or None)
    #: more portals POST /sessions may sign in to besides `portal_url` (ROBOTS_API_PORTALS, comma-separated `URL` or
    #: `TENANT=URL`): the API's browser never opens a URL a caller made up (robots.api.tokens.served_portals)
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
    #: the flows `POST /flows/{name}/runs` may run (ROBOTS_API_FLOWS, comma-separated glob patterns of names under
    #: `flows_dir`, e.g. `sera/list_*,sera/get_*`; a `*` stays within one folder). None listed: no flow runs through
    #: that endpoint (the endpoints' own library flows are not affected)
    allowed_flows: tuple[str, ...] = field(default_factory=lambda: _env_list("ROBOTS_API_FLOWS"))
    #: a folder whose files flows may be given by path through the API (ROBOTS_API_FILES_DIR); None: only uploads
    files_dir: Path | None = field(default_factory=lambda: _env_path("ROBOTS_API_FILES_DIR"))
    #: the largest request body, in bytes (ROBOTS_API_MAX_BODY_BYTES); larger is 413 before anything reads it
    max_body_bytes: int = field(default_factory=lambda: _env_int("ROBOTS_API_MAX_BODY_BYTES", MIB))
    #: the largest body of POST /uploads, in bytes (ROBOTS_API_MAX_UPLOAD_BYTES)
    max_upload_bytes: int = field(default_factory=lambda: _env_int("ROBOTS_API_MAX_UPLOAD_BYTES", 25 * MIB))
    #: requests without a valid token (none, or answered 401), per client address and `rate_window_s`
    #: (ROBOTS_API_ANONYMOUS_RATE_LIMIT)
    anonymous_rate_limit: int = field(default_factory=lambda: _env_int("ROBOTS_API_ANONYMOUS_RATE_LIMIT", 30))
    #: every request, per client address and `rate_window_s` (ROBOTS_API_IP_RATE_LIMIT); behind a proxy every
    #: request comes from the proxy's address
    ip_rate_limit: int = field(default_factory=lambda: _env_int("ROBOTS_API_IP_RATE_LIMIT", 600))
