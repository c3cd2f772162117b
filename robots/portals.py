"""Portal profiles (docs/CONTRACTS.md C1): a portal's base URL, tenant and time zone, and the embedded default:
a `sera` flow with no URL configured runs against the bundled sandbox portal."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from robots.errors import ConfigError
from robots.flow.yamlsrc import load_data
from robots.settings import settings
from robots.throttle import ThrottleProfile

log = logging.getLogger("robots.portals")

BUILTIN = {
    "sera": {"url": "https://{tenant}.sera.tech", "time_zone": "America/Chicago", "sandbox": True,
             "session": {"probe": "/", "login_path": "/login", "refresh": "/session/refresh",
                         "local_storage": ["sera.apiToken"]},
             # its 429 page (selectors/sera/throttled.yaml) states the wait; see robots.throttle
             "throttle": {"page": "throttled.wait", "attempts": 3, "max_wait": 60}},
}


@dataclass(frozen=True)
class SessionProfile:
    """How to tell whether a portal session is alive (C1): `probe` is a cheap page fetched with the session's
    cookies (alive unless it answers 401/403 or redirects to `login_path`); a browser that lands on
    `login_path` mid-flow has lost its session. `refresh` (POST) renews the session and rotates its cookies."""

    probe: str = "/"
    login_path: str = "/login"
    refresh: str | None = None
    #: a password the portal rejected is not tried again automatically for this long (lockout safety)
    lockout_window: float = 3600.0
    #: a stored session older than this is renewed (`refresh`) before it is used
    refresh_after: float = 600.0
    #: local-storage keys the portal's own scripts keep their tokens in: saved and restored with the cookies
    local_storage: tuple[str, ...] = ()

    @classmethod
    def parse(cls, data: object, where: str) -> SessionProfile | None:
        if data is None:
            return None
        if not isinstance(data, dict) or set(data) - set(cls.__dataclass_fields__):
            raise ConfigError(f"{where}: `session` must be a mapping with keys "
                              f"{', '.join(cls.__dataclass_fields__)}")
        if "local_storage" in data:
            keys = data["local_storage"]
            if not isinstance(keys, list) or not all(isinstance(k, str) and k for k in keys):
                raise ConfigError(f"{where}: `session.local_storage` must be a list of local-storage keys")
            data = {**data, "local_storage": tuple(keys)}
        return cls(**data)


@dataclass(frozen=True)
class Portal:
    name: str
    url: str
    tenant: str | None
    time_zone: str
    #: secret values that apply when the user configured none (the sandbox's demo account)
    default_secrets: dict[str, str] = field(default_factory=dict, repr=False)
    sandbox: bool = False
    session: SessionProfile | None = None
    #: the portal's own rate limit: its throttled page and the back-off that honours it (robots.throttle)
    throttle: ThrottleProfile = field(default_factory=ThrottleProfile)

    def template_context(self) -> dict[str, str | None]:
        return {"name": self.name, "url": self.url, "tenant": self.tenant, "time_zone": self.time_zone}


def load_profile(name: str, near: Path | None = None) -> dict:
    """A project's `portals/<name>.yaml` (searched upwards from `near`), else the built-in profile."""
    if near is not None:
        for parent in [near, *near.parents][:6]:
            f = parent / "portals" / f"{name}.yaml"
            if f.is_file():
                data = load_data(f, "a portal profile") or {}  # bounded like a flow (FlowError)
                if not isinstance(data, dict):
                    raise ConfigError(f"{f}: a portal profile must be a mapping")
                return {**BUILTIN.get(name, {}), **data}
    if name in BUILTIN:
        return dict(BUILTIN[name])
    raise ConfigError(f"no portal profile '{name}' (create portals/{name}.yaml with url, tenant and time_zone)")


@contextlib.contextmanager
def open_portal(name: str | None, *, url: str | None = None, near: Path | None = None,
                sandbox_size: str | None = None) -> Iterator[Portal | None]:
    """The portal a run talks to. URL order: `url` (--portal-url) > ROBOTS_PORTAL_URL > the profile's
    template with ROBOTS_PORTAL_TENANT. With none of them, a sandboxed portal starts the bundled sandbox
    for the duration of the block."""
    if name is None:
        yield None
        return
    profile = load_profile(name, near)
    configured = settings()
    tz = configured.portal_time_zone or profile.get("time_zone") or "UTC"
    tenant = configured.portal_tenant or profile.get("tenant")
    url = url or configured.portal_url
    session = SessionProfile.parse(profile.get("session"), f"portal profile '{name}'")
    throttle = ThrottleProfile.parse(profile.get("throttle"), f"portal profile '{name}'")
    if url is None and configured.portal_tenant and profile.get("url"):
        url = str(profile["url"]).format(tenant=tenant)
    if url is not None:
        yield Portal(name, url.rstrip("/"), tenant, tz, session=session, throttle=throttle)
        return
    if not profile.get("sandbox"):
        raise ConfigError(f"no URL configured for portal '{name}': pass --portal-url or set ROBOTS_PORTAL_URL")
    from robots.sandbox import TENANT, TIME_ZONE, SandboxServer, credentials

    server = SandboxServer(size=sandbox_size or configured.sandbox_size or "default")
    server.start()
    try:
        creds = credentials()
        log.warning("no portal URL configured for '%s'; started the bundled sandbox at %s (demo account)",
                    name, server.url)
        yield Portal(name, server.url, TENANT, TIME_ZONE, sandbox=True, session=session, throttle=throttle,
                     default_secrets={
            f"{name}_username": creds["username"],
            f"{name}_password": creds["password"],
            f"{name}_totp": creds["totp_secret"],
        })
    finally:
        server.stop()
