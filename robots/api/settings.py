"""What an API process needs to know: where its database, home and flows are, and its limits. The defaults of the
ones an operator sets come from the `ROBOTS_*` settings (robots.settings); tests pass their own."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robots.settings import settings

#: the default flows folder of the API (`flows_dir`, `library_dir`): none, meaning the flows the installed portal
#: packs ship (robots.flow.loader.library), named `<pack>/<flow>`, wherever robots is installed
DEFAULT_FLOWS: Path | None = None


def _env(name: str) -> Any:
    """A default from the `ROBOTS_*` settings (robots.settings): field `name` of it, read when ApiSettings is made."""
    return field(default_factory=lambda: getattr(settings(), name))


@dataclass(frozen=True)
class ApiSettings:
    #: the run store's URL (None: $ROBOTS_DATABASE_URL, else ./.robots/robots.db)
    database_url: str | None = None
    #: ROBOTS_HOME: run folders, the vault key, the browser pool's slot files
    home: Path = _env("home")
    #: the folder `POST /flows/{name}/runs` may run flows from (names are paths below it, without .yaml; None: the
    #: installed packs' flows, `<pack>/<flow>`)
    flows_dir: Path | None = DEFAULT_FLOWS
    #: the folder the endpoints' own flows come from (<portal>/list_customers.yaml, ...; None: the installed packs')
    library_dir: Path | None = DEFAULT_FLOWS
    #: the portal for tokens without a portal session (admin tokens made by `robots api token create`)
    portal_url: str | None = _env("portal_url")
    #: the tenant of `portal_url` (ROBOTS_PORTAL_TENANT; None: the URL names its own tenant)
    portal_tenant: str | None = _env("portal_tenant")
    #: more portals POST /sessions may sign in to besides `portal_url` (ROBOTS_API_PORTALS, comma-separated `URL` or
    #: `TENANT=URL`): the API's browser never opens a URL a caller made up (robots.api.tokens.served_portals)
    portals: tuple[str, ...] = _env("api_portals")
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
    #: `flows_dir`, e.g. `acme/list_*,acme/get_*`; a `*` stays within one folder). None listed: no flow runs through
    #: that endpoint (the endpoints' own library flows are not affected)
    allowed_flows: tuple[str, ...] = _env("api_flows")
    #: a folder whose files flows may be given by path through the API (ROBOTS_API_FILES_DIR); None: only uploads
    files_dir: Path | None = _env("api_files_dir")
    #: the largest request body, in bytes (ROBOTS_API_MAX_BODY_BYTES); larger is 413 before anything reads it
    max_body_bytes: int = _env("api_max_body_bytes")
    #: the largest body of POST /uploads, in bytes (ROBOTS_API_MAX_UPLOAD_BYTES)
    max_upload_bytes: int = _env("api_max_upload_bytes")
    #: requests without a valid token (none, or answered 401), per client address and `rate_window_s`
    #: (ROBOTS_API_ANONYMOUS_RATE_LIMIT)
    anonymous_rate_limit: int = _env("api_anonymous_rate_limit")
    #: every request, per client address and `rate_window_s` (ROBOTS_API_IP_RATE_LIMIT); behind a proxy every
    #: request comes from the proxy's address
    ip_rate_limit: int = _env("api_ip_rate_limit")


def flow_file(folder: Path | None, name: str) -> tuple[Path, Path] | None:
    """The file of the flow `name` (a path without .yaml) in `folder`, with the folder its calls may reach (that
    one); `folder` None: in the installed portal packs' flows, where `<pack>/<flow>` is the flow `<flow>` of the
    pack `<pack>`. None when there is no such file inside the folder, symlinks resolved."""
    if folder is None:
        from robots.flow.loader import library

        pack, _, name = name.partition("/")
        folder = next((f for f, n in library().items() if n == pack), None)
        if folder is None or not name:
            return None
    root = folder.resolve()
    path = (root / f"{name}.yaml").resolve()
    if not path.is_file() or root not in path.parents:
        return None
    return path, root


def portal_flows(folder: Path | None, portal: str) -> Path | None:
    """The folder of the portal's own flows in `folder` (`<folder>/<portal>`; None: the installed pack's)."""
    if folder is not None:
        return (folder / portal).resolve()
    from robots.flow.loader import library

    return next((f for f, n in library().items() if n == portal), None)
