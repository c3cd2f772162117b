"""`robots serve` (the API) and `robots api token create`. robots.api and uvicorn are imported inside the
commands, so the other commands start without them."""

from __future__ import annotations

import errno
import socket
from datetime import timedelta
from typing import Annotated

import typer

from robots.cli.common import err, fail, home
from robots.errors import InputError, RobotsError
from robots.extras import require

api_app = typer.Typer(help="The API's tokens (`robots serve` runs the API).", no_args_is_help=True)
api_token_app = typer.Typer(help="API tokens.", no_args_is_help=True)
api_app.add_typer(api_token_app, name="token")


def serve(
    host: Annotated[str, typer.Option(help="address to listen on")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="port to listen on")] = 8000,
    portal_url: Annotated[str | None, typer.Option(help="the portal for admin tokens (else ROBOTS_PORTAL_URL)")] = None,
) -> None:
    """Serve the API over the installed portals (OpenAPI at /openapi.json, docs at /docs)."""
    import dataclasses

    require("api", "robots serve")
    import uvicorn

    from robots.api import ApiSettings, create_app

    try:
        listening = listen(host, port)
    except RobotsError as e:
        raise fail(e) from None
    try:
        settings = ApiSettings(home=home())
        if portal_url:
            settings = dataclasses.replace(settings, portal_url=portal_url)
        application = create_app(settings)
    except RobotsError as e:
        listening.close()
        raise fail(e) from None
    bound = listening.getsockname()[1]
    shown = f"[{host}]" if ":" in host else host
    err.print(f"{application.title.removesuffix(' (unofficial, by robots)')} on http://{shown}:{bound} (docs: /docs)",
              markup=False)
    uvicorn.Server(uvicorn.Config(application, log_level="warning")).run(sockets=[listening])


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to `host`:`port` (0: a free port), so that what is announced is the port actually bound, and a
    port in use is an InputError (exit 2), said before anything is announced."""
    try:
        family, kind, proto, _, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM,
                                                             flags=socket.AI_PASSIVE)[0]
    except socket.gaierror as e:
        raise InputError(f"cannot listen on {host}: no such address ({e.strerror})") from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # as uvicorn does: a restart need not wait
    try:
        sock.bind(address)
        sock.listen(2048)
    except OSError as e:
        sock.close()
        reason = ("the port is in use (another program listens there); choose another with --port, or --port 0 for a "
                  "free one") if e.errno == errno.EADDRINUSE else (e.strerror or str(e)).lower()
        raise InputError(f"cannot listen on {host} port {port}: {reason}") from None
    return sock


@api_token_app.command("create")
def api_token_create(
    scope: Annotated[list[str], typer.Option("--scope", help="a scope to grant (repeat); e.g. admin")],
    label: Annotated[str, typer.Option(help="who the token is for (shown in the audit log)")] = "cli",
    days: Annotated[float, typer.Option(help="lifetime in days")] = 30,
    credential: Annotated[list[str] | None, typer.Option(
        "--credential", help="a stored credential (vault NAME_username, NAME_password, NAME_totp) the token may sign "
                             "in with through POST /sessions (repeat)")] = None,
    tenant: Annotated[str | None, typer.Option(
        help="bind the token to one tenant: it signs in only to that tenant's portals and sees only its runs")] = None,
) -> None:
    """Mint an API token without a portal session (its flows use the vault, like `robots run`): prints it once.
    A bootstrap token for POST /sessions: `--scope sessions:create [--credential NAME] [--tenant T]`."""
    require("api", "robots api token create")
    from robots.api.tokens import TokenStore
    from robots.records import SqlStore, open_store

    try:
        store = open_store()
        if not isinstance(store, SqlStore):
            raise InputError("API tokens need a SQL database (ROBOTS_DATABASE_URL), not memory://")
        with store:
            token, row = TokenStore(store.engine).create(scope, label=label, ttl=timedelta(days=days), tenant=tenant,
                                                         credentials=credential or ())
    except RobotsError as e:
        raise fail(e) from None
    grants = f"; credentials {', '.join(row.credentials.split())}" if row.credentials else ""
    bound = f"; tenant {row.tenant}" if row.tenant else ""
    err.print(f"token {row.token_id} ({', '.join(row.scopes.split())}{grants}{bound}), expires "
              f"{row.expires_at.isoformat(timespec='seconds')}; it is shown only now:", markup=False)
    print(token)
