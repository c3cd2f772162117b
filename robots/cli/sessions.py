"""`robots sessions`: the stored portal sessions later runs restore instead of signing in again (list, clear)."""

from __future__ import annotations

import sys

import typer

from robots.cli.common import err, fail, home
from robots.errors import ConfigError, RobotsError

sessions_app = typer.Typer(help="Stored portal sessions (restored by later runs instead of signing in again).",
                           no_args_is_help=True)


def _session_store():  # noqa: ANN202 - SessionStore, imported lazily
    from robots.auth.sessions import SessionStore
    from robots.records import open_store

    store = SessionStore.beside(open_store(), home())
    if store is None:
        raise fail(ConfigError("sessions need a SQL database (ROBOTS_DATABASE_URL is memory://)"))
    return store


@sessions_app.command("list")
def sessions_list() -> None:
    """Stored sessions: portal, URL, the account's hash (accounts are not stored in clear) and when they were
    saved. Never cookie values."""
    try:
        rows = _session_store().keys()
    except RobotsError as e:
        raise fail(e) from None
    for key, saved_at in rows:
        portal, url, account = key.split("|", 2)
        sys.stdout.write(f"{portal}\t{url}\taccount #{account[:8]}\t{saved_at:%Y-%m-%d %H:%M:%S} UTC\n")


@sessions_app.command("clear")
def sessions_clear() -> None:
    """Forget every stored session and every login block (a password the portal rejected is tried again)."""
    try:
        store = _session_store()
        sessions, blocks = store.forget(), store.unblock()
    except RobotsError as e:
        raise fail(e) from None
    err.print(f"cleared {sessions} session{'s' if sessions != 1 else ''} and {blocks} login "
              f"block{'s' if blocks != 1 else ''}", markup=False)
