"""`robots watch FLOW --key id --every 60s`: the command-line front end of robots.watch (registered by
robots/cli/__init__.py). Events go to stdout as JSON lines; progress and failed polls to stderr."""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated

import typer

from robots.cli.common import err, fail, home, parse_vars, setup_logging
from robots.errors import RobotsError


def watch_command(
    flow: Annotated[Path, typer.Argument(help="a list flow, e.g. flows/sera/list_customers.yaml")],
    key: Annotated[str, typer.Option(help="the field that identifies a record")] = "id",
    every: Annotated[str, typer.Option(help="time between polls: 60s, 5m, 1h")] = "60s",
    var: Annotated[list[str], typer.Option(help="KEY=VALUE for the flow (repeatable)")] = [],  # noqa: B006
    name: Annotated[str | None, typer.Option(help="the watch's name (its snapshots); default: the flow's")] = None,
    output: Annotated[str | None, typer.Option(help="the flow's list output; default: its first")] = None,
    webhook: Annotated[list[str], typer.Option(help="also POST each event to this URL through the outbox, "
                                                    "signed with the secret webhook_secret (repeatable)")] = [],  # noqa: B006
    polls: Annotated[int | None, typer.Option(help="stop after this many polls (default: until Ctrl-C)")] = None,
    full_every: Annotated[int, typer.Option(help="list everything (to see deletions) every Nth poll when the flow "
                                                 "can ask for changes only (modified_on_or_after)")] = 10,
    portal_url: Annotated[str | None, typer.Option(help="the portal's base URL")] = None,
) -> None:
    """Poll a list flow and print each change as a JSON line: created, updated (with the changed fields) or
    deleted. Snapshots are kept per key in the store, so a restarted watch carries on where it stopped."""
    setup_logging(1)
    try:
        _watch(flow, key, every, var, name, output, webhook, polls, full_every, portal_url)
    except RobotsError as e:
        raise fail(e) from None
    except KeyboardInterrupt:
        err.print("watch stopped", markup=False)
        raise typer.Exit(130) from None


def _watch(flow_path: Path, key: str, every: str, var: list[str], name: str | None, output: str | None,
           webhooks: list[str], polls: int | None, full_every: int, portal_url: str | None) -> None:
    from robots.engine import resolve_vars
    from robots.flow.loader import load_flow
    from robots.records import open_store
    from robots.run.launch import prepare_run
    from robots.watch import SnapshotStore, Watch, parse_every, runner_for

    seconds = parse_every(every)
    if webhooks:  # refused before anything starts (the outbox checks again at every delivery)
        from robots.netguard import NetGuard

        guard = NetGuard.from_env()
        for url in webhooks:
            guard.check_url(url)
    flow = load_flow(flow_path)
    given = parse_vars(var)
    resolve_vars(flow, given)  # bad vars are input errors before anything starts
    store = open_store()
    engine = getattr(store, "engine", None)
    if engine is None:
        from robots.errors import ConfigError

        raise ConfigError("robots watch keeps its snapshots in a SQL store; ROBOTS_DATABASE_URL is memory://")
    with prepare_run(flow, trigger="cli", home=home(), store=store, portal_url=portal_url,
                     near=flow.path.parent.resolve(), also_secrets=["webhook_secret"] if webhooks else [],
                     on_masker=lambda masker: setup_logging(1, masker)) as launch:
        portal, secrets = launch.portal, dict(launch.secrets)
        outbox = None
        if webhooks:
            from robots.outbox import Outbox

            outbox = Outbox(engine, secrets.pop("webhook_secret"))
        watch = Watch(flow=flow, key=key, store=SnapshotStore(engine), name=name or "", output=output,
                      run=runner_for(launch, secrets=secrets), vars=given,
                      full_every=full_every, time_zone=portal.time_zone if portal else "UTC",
                      webhooks=tuple(webhooks), outbox=outbox)
        err.print(f"watching {flow.name} ({watch.output} by {key}) every {seconds:g} s; events on stdout",
                  markup=False)

        def failed(e: RobotsError) -> None:
            err.print(f"poll failed: {e}", markup=False)

        for event in watch.events(seconds, polls=polls, on_error=failed):
            sys.stdout.write(json.dumps(event, ensure_ascii=False, sort_keys=False) + "\n")
            sys.stdout.flush()
            if outbox is not None:
                outbox.deliver_due()
        if outbox is not None:
            outbox.deliver_due()
