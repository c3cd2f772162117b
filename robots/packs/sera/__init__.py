"""The Sera portal pack: the first portal robots automates (docs/DOMAIN.md), declared as any pack is
(robots.packs.PortalPack), through the entry point `sera` of group `robots.portals` in pyproject.toml."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from robots.extras import require
from robots.packs import PortalPack, SandboxHandle

#: the pack's data: flows/sera/, selectors/sera/ and features/, laid out as at a checkout's top level. In a
#: checkout (and an editable install) these are links to the top-level folders, the one copy; a wheel or sdist
#: carries the files themselves (pyproject.toml's package-data). Resolved: messages and `call:` roots name the
#: files where they are.
DATA = Path(__file__).resolve().parent / "data"
FLOWS, SELECTORS, FEATURES = ((DATA / part).resolve() for part in ("flows/sera", "selectors/sera", "features"))


def _models() -> dict[str, Any]:
    from robots.packs.sera.models import MODELS

    return dict(MODELS)


@contextlib.contextmanager
def _sandbox(size: str) -> Iterator[SandboxHandle]:
    require("sandbox", "the Sera sandbox portal (started when no portal URL is configured)")
    from robots.packs.sera.sandbox import TENANT, TIME_ZONE, SandboxServer, credentials

    server = SandboxServer(size=size)
    server.start()
    try:
        creds = credentials()
        yield SandboxHandle(server.url, TENANT, TIME_ZONE, secrets={
            "sera_username": creds["username"], "sera_password": creds["password"],
            "sera_totp": creds["totp_secret"]})  # fmt: skip
    finally:
        server.stop()


def _api_routes() -> list[Any]:
    from robots.packs.sera.api import routers

    return routers()


def _cli() -> Any:
    from robots.packs.sera.cli import app

    return app


PACK = PortalPack(
    name="sera",
    profile={"url": "https://{tenant}.sera.tech", "time_zone": "America/Chicago", "sandbox": True,
             "session": {"probe": "/", "login_path": "/login", "refresh": "/session/refresh",
                         "local_storage": ["sera.apiToken"]},
             # its 429 page (selectors/sera/throttled.yaml) states the wait; see robots.throttle
             "throttle": {"page": "throttled.wait", "attempts": 3, "max_wait": 60}},
    models=_models,
    flows_dir=FLOWS,
    selectors_dir=SELECTORS,
    features_dir=FEATURES,
    sandbox=_sandbox,
    api_routes=_api_routes,
    # stored tokens hold these names: never rename one
    scopes={"customers:read": "list and read customers", "customers:write": "create customers",
            "work_orders:read": "list and read work orders",
            "work_orders:write": "create work orders and change their status",
            "memberships:write": "create memberships", "pricebook:read": "read the pricebook",
            "invoices:read": "list invoices"},
    bdd_steps="robots.packs.sera.bdd",
    cli=_cli,
    origin="entry point robots.packs.sera:PACK",
)  # fmt: skip
