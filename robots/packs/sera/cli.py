"""The Sera pack's commands (PACK.cli): `robots sandbox serve|credentials` serves the bundled sandbox portal and
shows its demo account. The core CLI (robots/cli/__init__.py) adds `app`'s commands and groups to its own."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

from robots.cli.common import err
from robots.extras import require

sandbox_app = typer.Typer(help="The bundled sandbox Sera portal.", no_args_is_help=True)
app = typer.Typer()
app.add_typer(sandbox_app, name="sandbox")


@sandbox_app.command("serve")
def sandbox_serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port (0: a free one)")] = 0,
    seed: Annotated[int, typer.Option(help="data seed")] = 1234,
    size: Annotated[str, typer.Option(help="data size: small or default")] = "default",
    fault: Annotated[list[str], typer.Option(help="switch a fault on for the whole session, e.g. layout_b or "
                                                  "latency:ms=300 (repeatable; kept across resets)")] = [],  # noqa: B006
) -> None:
    """Serve the sandbox Sera portal until Ctrl-C; prints its URL on stdout."""
    require("sandbox", "robots sandbox serve")
    from robots.packs.sera.sandbox import SIZES, serve_forever

    if size not in SIZES:
        err.print(f"error: --size must be one of {', '.join(SIZES)}", markup=False)
        raise typer.Exit(2)
    faults = []
    for item in fault:
        name, _, params = item.partition(":")
        spec: dict[str, Any] = {"name": name}
        for pair in filter(None, params.split(",")):
            key, sep, value = pair.partition("=")
            if not sep:
                err.print(f"error: --fault expects NAME or NAME:key=value,..., got {item!r}", markup=False)
                raise typer.Exit(2)
            spec[key] = int(value) if value.lstrip("-").isdigit() else value
        faults.append(spec)

    from robots.packs.sera.sandbox.spa_api import configured_latency

    try:
        configured_latency()
    except ValueError as e:  # ROBOTS_SANDBOX_APP_LATENCY
        err.print(f"error: {e}", markup=False)
        raise typer.Exit(2) from None

    def ready(url: str) -> None:
        sys.stdout.write(url + "\n")
        sys.stdout.flush()
        err.print(f"sandbox Sera portal ready (its single-page app: {url}/app/); `robots sandbox credentials` shows "
                  "the demo account. Ctrl-C stops.", markup=False)  # fmt: skip

    try:
        serve_forever(host, port, seed, size, ready, faults=faults or None)
    except KeyboardInterrupt:
        raise typer.Exit(0) from None
    except ValueError as e:  # a fault the sandbox does not know, or bad parameters
        err.print(f"error: --fault: {e}", markup=False)
        raise typer.Exit(2) from None


@sandbox_app.command("credentials")
def sandbox_credentials() -> None:
    """The sandbox's demo account as JSON (test data, not a secret; use it only against the sandbox)."""
    require("sandbox", "robots sandbox credentials")
    from robots.packs.sera.sandbox import credentials

    sys.stdout.write(json.dumps(credentials(), indent=2) + "\n")
