"""Portal profiles (docs/CONTRACTS.md C1): a portal's base URL, tenant and time zone, and the embedded default:
a flow whose portal pack brings a sandbox runs against it when no URL is configured. Every profile
comes from its pack (robots.packs), overlaid by the project's `portals/<name>.yaml`; no portal is known here."""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from robots.errors import ConfigError
from robots.settings import settings
from robots.throttle import ThrottleProfile

log = logging.getLogger("robots.portals")


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
    """The portal's profile: its pack's (robots.packs), overlaid by a project's `portals/<name>.yaml` searched
    upwards from `near`."""
    from robots import packs

    return dict(packs.find(name, near).profile)


def _no_url(name: str, template: str | None) -> ConfigError:
    given = "pass --portal-url or set ROBOTS_PORTAL_URL"
    if template:
        return ConfigError(f"no URL configured for portal '{name}': its profile's url {template!r} needs a tenant; "
                           f"set ROBOTS_PORTAL_TENANT (or `tenant:` in portals/{name}.yaml), or {given}")
    return ConfigError(f"no URL configured for portal '{name}': {given} (or give `url:` in portals/{name}.yaml)")


@contextlib.contextmanager
def open_portal(name: str | None, *, url: str | None = None, near: Path | None = None,
                sandbox_size: str | None = None) -> Iterator[Portal | None]:
    """The portal a run talks to. URL order: `url` (--portal-url) > ROBOTS_PORTAL_URL > the profile's `url`,
    used as is, or, when it is a template with `{tenant}`, filled with ROBOTS_PORTAL_TENANT or the profile's
    `tenant`. With none of them, a portal whose pack brings a sandbox (and whose profile says `sandbox: true`)
    runs against that sandbox, started for the duration of the block."""
    if name is None:
        yield None
        return
    from robots import packs

    pack = packs.find(name, near)
    profile = dict(pack.profile)
    configured = settings()
    tz = configured.portal_time_zone or profile.get("time_zone") or "UTC"
    tenant = configured.portal_tenant or profile.get("tenant")
    url = url or configured.portal_url
    session = SessionProfile.parse(profile.get("session"), f"portal profile '{name}'")
    throttle = ThrottleProfile.parse(profile.get("throttle"), f"portal profile '{name}'")
    template = str(profile["url"]) if profile.get("url") else None
    if url is None and template is not None:
        if "{tenant}" not in template:
            url = template
        elif tenant:
            url = template.replace("{tenant}", str(tenant))
    if url is not None:
        yield Portal(name, url.rstrip("/"), tenant, tz, session=session, throttle=throttle)
        return
    if not profile.get("sandbox") or pack.sandbox is None:
        raise _no_url(name, template)
    size = sandbox_size or configured.sandbox_size or "default"
    with pack.sandbox(size) as handle:
        log.warning("no portal URL configured for '%s'; started the bundled sandbox at %s (demo account)",
                    name, handle.url)
        yield Portal(name, handle.url.rstrip("/"), handle.tenant, handle.time_zone, sandbox=True, session=session,
                     throttle=throttle, default_secrets=dict(handle.secrets))
