"""`create_app(settings)`: the FastAPI app with its store, tokens, flow runner and routers: the core's own (system,
runs, webhooks, uploads) and those of every installed portal pack that has API routes (robots.packs:
PortalPack.api_routes), which sign in to the portal and read and write its records."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from fastapi import FastAPI
from fastapi_offline import FastAPIOffline
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from robots.api import errors
from robots.api.flows import FlowService
from robots.api.limits import BodyLimit, Budget, ClientLimits
from robots.api.routers import runs, system, uploads, webhooks
from robots.api.settings import ApiSettings
from robots.api.tokens import RateLimiter, TokenStore

DESCRIPTION = """An API over web portals that have none: every endpoint runs a portal's flow in a real browser (or
reads a stored record). Send `Authorization: Bearer <token>` (from `POST /sessions` or
`robots api token create`). Errors are always `{"error": {"type", "message", "details", "request_id"}}`."""


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    from robots.records import SqlStore, default_database_url
    from robots.settings import settings as environment

    # first, so that a pack's wrong scopes are refused before anything opens
    routers = [system.router, *_pack_routers(), runs.router, webhooks.router, uploads.router]
    _check_scopes(routers)
    settings = settings or ApiSettings()
    url = settings.database_url or environment().database_url or default_database_url()
    store = SqlStore(url)
    tokens = TokenStore(store.engine)
    from robots.api.webhooks import Webhooks
    from robots.outbox import Outbox, OutboxWorker

    outbox = Outbox(store.engine, _webhook_secret(settings), backoff_s=settings.webhook_backoff_s)
    hooks = Webhooks(store.engine, outbox)
    flows = FlowService(settings, store, tokens, hooks)
    worker = OutboxWorker(outbox, idle_s=1.0)
    #: what a pack's routes opened for the app's lifetime (e.g. an HTTP client), closed when the app stops
    closing: list[Callable[[], None]] = []

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker.start()
        try:
            yield
        finally:
            flows.close()
            for close in reversed(closing):
                close()
            worker.stop()
            store.close()

    # FastAPIOffline: FastAPI whose /docs and /redoc load Swagger UI and ReDoc from the API itself, not a CDN
    app = FastAPIOffline(title=_title(), version="0.1.0", description=DESCRIPTION, lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.tokens = tokens
    app.state.flows = flows
    app.state.webhooks = hooks
    app.state.closing = closing
    app.state.limiter = RateLimiter(settings.rate_limit, settings.rate_window_s)
    from robots.api.uploads import Uploads

    app.state.uploads = Uploads(settings.home)
    errors.install(app)
    app.add_middleware(DocsFromHereOnly)
    # Outside everything else (the last added runs first): a client over its budget is answered before its body is
    # read, and a body over the limit before authentication or any endpoint reads it.
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes)
    app.add_middleware(ClientLimits, every=Budget(settings.ip_rate_limit, settings.rate_window_s, "this address"),
                       anonymous=Budget(settings.anonymous_rate_limit, settings.rate_window_s,
                                        "requests without a valid token from this address"))
    for router in routers:
        app.include_router(router)
    return app


def _check_scopes(routers: list[Any]) -> None:
    """The installed packs' scopes are their own (robots.api.tokens.known_scopes), and every scope a route needs is
    one the core or an installed pack declares (PortalPack.scopes): a token could never be granted an undeclared
    one."""
    from robots.api.tokens import known_scopes, needed_scopes
    from robots.errors import ConfigError

    known = known_scopes()
    for route, scope in needed_scopes([route for router in routers for route in router.routes]):
        if scope not in known:
            raise ConfigError(f"the route {route} needs the API scope {scope!r}, which neither the core nor an "
                              f"installed portal pack declares (robots.packs: PortalPack.scopes)")


def _api_packs() -> list[Any]:
    from robots import packs

    return [pack for pack in packs.installed().values() if pack.api_routes is not None]


def _title() -> str:
    names = ", ".join(p.name.capitalize() for p in _api_packs())
    return f"{names} API (unofficial, by robots)" if names else "robots API"


def _pack_routers() -> list[Any]:
    """The routers of every installed pack with API routes: its `api_routes()` returns one router or a list."""
    routers: list[Any] = []
    for pack in _api_packs():
        found = pack.api_routes()
        routers += found if isinstance(found, list | tuple) else [found]
    return routers


class DocsFromHereOnly:
    """/docs and /redoc load nothing from another origin (a Content-Security-Policy): their assets are the API's own
    (fastapi_offline), and ReDoc's sidebar would otherwise fetch its maker's logo from a CDN on every view."""

    PATHS = ("/docs", "/redoc")
    POLICY = b"default-src 'self' 'unsafe-inline' data: blob:"

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] not in self.PATHS:
            await self.app(scope, receive, send)
            return

        async def with_policy(message: Message) -> None:
            if message["type"] == "http.response.start":
                message["headers"] = [*message.get("headers", []), (b"content-security-policy", self.POLICY)]
            await send(message)

        await self.app(scope, receive, with_policy)


def _webhook_secret(settings: ApiSettings) -> str:
    from robots.auth.vault import Vault, resolve_secrets
    from robots.outbox import SECRET_NAME

    if settings.webhook_secret is not None:
        return settings.webhook_secret
    return resolve_secrets([SECRET_NAME], optional=[SECRET_NAME], vault=Vault.default(settings.home))[SECRET_NAME]
