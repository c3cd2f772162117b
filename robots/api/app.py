"""`create_app(settings)`: the FastAPI app with its store, tokens, flow runner and routers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from robots.api import errors
from robots.api.flows import FlowService
from robots.api.limits import BodyLimit, Budget, ClientLimits
from robots.api.routers import reads, runs, sessions, system, uploads, webhooks, writes
from robots.api.settings import ApiSettings
from robots.api.tokens import RateLimiter, TokenStore

DESCRIPTION = """An API over the Sera portal, which has none: every endpoint runs a Sera flow in a real browser (or
reads a stored record). Send `Authorization: Bearer <token>` (from `POST /sessions` or
`robots api token create`). Errors are always `{"error": {"type", "message", "details", "request_id"}}`."""


def create_app(settings: ApiSettings | None = None) -> FastAPI:
    from robots.records import SqlStore, default_database_url
    from robots.settings import settings as environment

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
    from robots.api.warm import WarmReads

    warm = WarmReads(flows)

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        worker.start()
        try:
            yield
        finally:
            flows.close()
            warm.close()
            worker.stop()
            store.close()

    app = FastAPI(title="Sera API (unofficial, by robots)", version="0.1.0", description=DESCRIPTION,
                  lifespan=lifespan)
    app.state.settings = settings
    app.state.store = store
    app.state.tokens = tokens
    app.state.flows = flows
    app.state.webhooks = hooks
    app.state.warm = warm
    app.state.limiter = RateLimiter(settings.rate_limit, settings.rate_window_s)
    from robots.api.uploads import Uploads

    app.state.uploads = Uploads(settings.home)
    errors.install(app)
    # Outside everything else (the last added runs first): a client over its budget is answered before its body is
    # read, and a body over the limit before authentication or any endpoint reads it.
    app.add_middleware(BodyLimit, limit=settings.max_body_bytes, upload_limit=settings.max_upload_bytes)
    app.add_middleware(ClientLimits, every=Budget(settings.ip_rate_limit, settings.rate_window_s, "this address"),
                       anonymous=Budget(settings.anonymous_rate_limit, settings.rate_window_s,
                                        "requests without a valid token from this address"))
    for module in (system, sessions, reads, writes, runs, webhooks, uploads):
        app.include_router(module.router)
    return app


def _webhook_secret(settings: ApiSettings) -> str:
    from robots.auth.vault import Vault, resolve_secrets
    from robots.outbox import SECRET_NAME

    if settings.webhook_secret is not None:
        return settings.webhook_secret
    return resolve_secrets([SECRET_NAME], optional=[SECRET_NAME], vault=Vault.default(settings.home))[SECRET_NAME]
