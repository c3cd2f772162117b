"""The one way a run is prepared, whatever starts it (`robots run`, `robots schedule exec`, `robots watch`, the API,
the Gherkin world): the vars (robots.flow.vars.resolve_vars: all of them whole, before anything else) > the portal
(robots.portals.open_portal, the bundled sandbox for the block when none is configured) > the flow's secrets
(robots.auth.vault.resolve_secrets: environment, vault, the flow's and the global command, the portal's defaults) > a
Masker over them > the run store > the Runner. A fix to any of these lands in every front end; what differs between
them is what they pass here (a trigger, a URL, the names a robot stores its secrets under, the secrets a portal
session holds).

    with prepare_run(flow, trigger="cli", portal_url=url, near=flow.path.parent.resolve(), vars={...}) as launch:
        record = launch.run()
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from robots.flow.model import Flow
from robots.masking import Masker
from robots.portals import Portal
from robots.records.model import RunRecord
from robots.run.runner import Runner

__all__ = ["Launch", "flow_secrets", "prepare_run"]


def flow_secrets(flow: Flow, portal: Portal | None, *, stored: Mapping[str, str] | None = None, vault: Any = None,
                 also: Sequence[str] = ()) -> dict[str, str]:
    """The values of the secrets `flow` declares (plus `also`), looked up as docs/CONTRACTS.md C4 says, the portal's
    defaults last. `stored`: the names a robot keeps some of them under (flow name -> stored name); the result is
    keyed by the flow's names. SecretNotFound names every place looked in."""
    from robots.auth.vault import resolve_secrets

    stored = stored or {}

    def as_stored(name: str) -> str:
        return stored.get(name, name)

    names = [*flow.all_secrets(), *also]
    found = resolve_secrets(
        [as_stored(n) for n in names],
        defaults={as_stored(n): v for n, v in (portal.default_secrets if portal else {}).items()},
        optional=[as_stored(n) for n in flow.all_optional_secrets()],
        commands={as_stored(n): c for n, c in flow.all_secret_commands().items()},
        vault=vault)
    return {n: found[as_stored(n)] for n in names}


@dataclass
class Launch:
    """A prepared run: what `Runner.run` needs besides the vars, and the Runner's own options."""

    flow: Flow
    portal: Portal | None
    secrets: dict[str, str] = field(repr=False)
    masker: Masker = field(repr=False)
    store: Any
    home: Path
    trigger: str
    runner_options: dict[str, Any] = field(default_factory=dict)
    #: the vars given to prepare_run (checked there), what run() passes unless it is given others
    vars: dict[str, Any] | None = None

    def runner(self, **overrides: Any) -> Runner:
        """A Runner on the prepared store and home (`overrides`: Runner options of this one, e.g. a listener made
        once the portal is open)."""
        return Runner(store=self.store, home=self.home, trigger=self.trigger, **{**self.runner_options, **overrides})

    def run(self, runner: Runner | None = None, **options: Any) -> RunRecord:
        """`Runner.run` of the flow with the prepared secrets and portal, on `runner` (default: a new one);
        `options`: vars (default: those given to prepare_run), run_id, dry_run, from_step, to_step, max_runtime."""
        if self.vars is not None:
            options.setdefault("vars", self.vars)
        return (runner or self.runner()).run(self.flow, secrets=self.secrets, portal=self.portal, **options)


@contextlib.contextmanager
def prepare_run(flow: Flow, *, trigger: str, home: Path | None = None, store: Any = None,
                portal_url: str | None = None, near: Path | None = None,
                secrets: Callable[[Portal | None], dict[str, str]] | None = None,
                stored_secrets: Mapping[str, str] | None = None, also_secrets: Sequence[str] = (),
                vault: Any = None, adapt_portal: Callable[[Portal], Portal] | None = None,
                on_masker: Callable[[Masker], None] | None = None, vars: Mapping[str, Any] | None = None,
                **runner_options: Any) -> Iterator[Launch]:
    """Prepare a run of `flow` for the duration of the block (a sandbox it starts is stopped at its end).

    trigger: recorded on the run (cli, schedule, api, bdd, ...). home: ROBOTS_HOME's folder by default. store: the
    run store (default: robots.records.open_store(), opened once the secrets are known). portal_url, near: as
    open_portal takes them (`near`: where a project's portals/<name>.yaml is searched from). secrets: the caller's
    own lookup (an API token's portal session), given the portal; default flow_secrets with `stored_secrets`,
    `also_secrets` (more names, e.g. a watch's webhook_secret) and `vault`. adapt_portal: changes the opened portal
    (the Gherkin world's tenant). on_masker: receives the masker as soon as the secrets are known (the CLI masks its
    log with it). vars: the run's, checked first (robots.flow.vars.resolve_vars: every problem at once, VarsError) so
    that a bad input opens no portal, starts no sandbox and looks up no secret; Launch.run passes them on.
    runner_options: the Runner's (listener, browser, pause_on_failure, keep_sessions)."""
    from robots.flow.vars import resolve_vars
    from robots.portals import open_portal

    if vars is not None:
        resolve_vars(flow, vars)
    with open_portal(flow.portal, url=portal_url, near=near) as opened:
        portal = adapt_portal(opened) if adapt_portal is not None and opened is not None else opened
        if secrets is not None:
            found = secrets(portal)
        else:
            found = flow_secrets(flow, portal, stored=stored_secrets, vault=vault, also=also_secrets)
        masker = Masker(found.values())
        if on_masker is not None:
            on_masker(masker)
        if store is None:
            from robots.records import open_store

            store = open_store()
        if home is None:
            from robots.settings import settings

            home = settings().home
        yield Launch(flow=flow, portal=portal, secrets=found, masker=masker, store=store, home=Path(home),
                     trigger=trigger, runner_options=runner_options, vars=dict(vars) if vars is not None else None)
