"""Portal packs: everything robots knows about one portal, declared in one place, found by discovery.

A pack is a `PortalPack` that a distribution names through an entry point of group `robots.portals`
(`sera = "robots.packs.sera:PACK"`), or a folder of YAML files with no Python (robots.packs.folder). The core
imports no pack by name: it asks `get(name)` / `available()` here, and the pack answers with its profile, its
record models, where its flows, catalogs and features live, and, optionally, a sandbox, API routes and scopes,
Gherkin steps, flow steps and CLI commands.

Every optional hook is a zero-argument callable, called only when that part is used, so that discovering the
packs imports nothing heavy (no FastAPI, no Faker, no sandbox) for a run that does not need it."""

from __future__ import annotations

import functools
import logging
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager
from dataclasses import dataclass, field, replace
from importlib.metadata import entry_points
from pathlib import Path
from typing import Any

from robots.errors import ConfigError

log = logging.getLogger("robots.packs")

#: the entry-point group a distribution declares its portal packs in
GROUP = "robots.portals"


@dataclass(frozen=True)
class SandboxHandle:
    """A running sandbox portal, as a pack's `sandbox` hook yields it."""

    url: str
    tenant: str | None
    time_zone: str
    #: the demo account's secrets, by their names in flows (`<portal>_username`, `_password`, `_totp`)
    secrets: dict[str, str] = field(default_factory=dict, repr=False)


@dataclass(frozen=True)
class PortalPack:
    """One portal, declared. `name` is the portal's name in flows (`portal: <name>`) and the prefix of its record
    models (`record: <name>.<model>`)."""

    name: str
    #: the portal profile (docs/CONTRACTS.md C1): url (a template with {tenant}), tenant, time_zone, session,
    #: throttle; `sandbox: true` when the pack brings a sandbox portal that runs with no URL configured
    profile: dict[str, Any] = field(default_factory=dict)
    #: record models by full name (`<name>.<model>`): pydantic models, loaded on first use
    models: Callable[[], dict[str, Any]] | None = None
    #: the pack's flows (`flows/<name>/` in a checkout), selector catalogs and Gherkin features
    flows_dir: Path | None = None
    selectors_dir: Path | None = None
    features_dir: Path | None = None
    #: a context manager factory `sandbox(size)` that starts the pack's sandbox portal and yields a SandboxHandle
    sandbox: Callable[[str], AbstractContextManager[SandboxHandle]] | None = None
    #: registers the pack's own flow steps (called once, before flows are loaded)
    steps: Callable[[], None] | None = None
    #: the pack's API: a callable returning a FastAPI APIRouter mounted by `robots serve`
    api_routes: Callable[[], Any] | None = None
    #: the API scopes the pack's routes are guarded by (`need("<scope>")` of robots.api.tokens), each with its
    #: description: the API knows the core's generic scopes plus every installed pack's; a portal session's token
    #: gets them by default (POST /sessions). A name is the pack's alone: one the core or another pack declares too
    #: is a ConfigError naming both
    scopes: dict[str, str] = field(default_factory=dict)
    #: the import path of the pack's pytest-bdd step module (`robots bdd` loads it as a plugin)
    bdd_steps: str | None = None
    #: the pack's own CLI commands: a callable returning a Typer app, added as `robots <name> ...`
    cli: Callable[[], Any] | None = None
    #: where the pack was found, for messages ("entry point robots.packs.sera:PACK", a folder's path)
    origin: str = ""


def _from_entry_points() -> Iterator[PortalPack]:
    for ep in entry_points(group=GROUP):
        try:
            pack = ep.load()
        except Exception as e:  # noqa: BLE001 - one broken pack must not hide the others
            log.warning("portal pack %r (%s) could not be loaded: %s", ep.name, ep.value, e)
            continue
        if not isinstance(pack, PortalPack):
            log.warning("portal pack %r (%s) is not a PortalPack", ep.name, ep.value)
            continue
        yield pack


@functools.cache
def installed() -> dict[str, PortalPack]:
    """The packs installed through entry points, by name (discovered once per process)."""
    found: dict[str, PortalPack] = {}
    for pack in _from_entry_points():
        if pack.name in found:
            log.warning("portal pack %r is declared twice; using %s", pack.name, found[pack.name].origin)
            continue
        found[pack.name] = pack
    return found


def available() -> list[str]:
    return sorted(installed())


def get(name: str) -> PortalPack:
    """The installed pack `name`; a ConfigError that lists the installed ones when there is none."""
    try:
        return installed()[name]
    except KeyError:
        names = ", ".join(available()) or "none"
        raise ConfigError(f"no portal pack '{name}' is installed (installed: {names})") from None



def find(name: str, near: Path | None = None) -> PortalPack:
    """The pack `name` as a flow in the folder `near` sees it: the installed pack, overlaid by the project's own
    files for it (robots.packs.folder: `portals/<name>.yaml`, `models/<name>.yaml`, `flows/<name>/`,
    `selectors/<name>/`, looked for from `near` upwards). With neither, a ConfigError naming every path looked
    at and the installed packs."""
    from robots.packs import folder

    base = installed().get(name)
    profile_file, profile, looked = folder.profile(name, near)
    models_file, models_looked = folder.find_file(near, f"models/{name}.yaml")
    if profile_file is None and models_file is None:
        if base is not None:
            return base
        names = ", ".join(available()) or "none"
        paths = ", ".join(str(p) for p in [*looked, *models_looked])
        where = f"; looked for {paths}" if paths else " (no flow folder to look for portals/ and models/ from)"
        raise ConfigError(f"no portal pack '{name}': none is installed (installed: {names}) and no project folder "
                          f"declares it{where}")
    own = [f"{kind} {path}" for kind, path in (("profile", profile_file), ("models", models_file)) if path]

    def models() -> dict[str, Any]:
        inherited = base.models() if base is not None and base.models is not None else {}
        return {**inherited, **(folder.models(name, near)[1] if models_file is not None else {})}

    pack = base or PortalPack(name=name)
    return replace(pack, profile={**pack.profile, **profile}, models=models,
                   flows_dir=folder.folder_of(name, near, "flows") or pack.flows_dir,
                   selectors_dir=folder.folder_of(name, near, "selectors") or pack.selectors_dir,
                   origin=", ".join(o for o in (pack.origin, *own) if o))
