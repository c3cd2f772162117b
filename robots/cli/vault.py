"""`robots secrets`: the encrypted secrets vault (set, list, rm). A value is read from stdin, never from the
command line. (The module is not called secrets.py, which would be the standard library's name.)"""

from __future__ import annotations

import sys
from typing import Annotated

import typer

from robots.cli.common import err, fail, home
from robots.errors import RobotsError

secrets_app = typer.Typer(help="The encrypted secrets vault (.robots/vault).", no_args_is_help=True)


@secrets_app.command("set")
def secrets_set(name: Annotated[str, typer.Argument(help="secret name, e.g. <portal>_password")]) -> None:
    """Store a secret in the vault; the value is read from stdin (never from the command line)."""
    from robots.auth.vault import Vault

    value = sys.stdin.readline().rstrip("\n") if not sys.stdin.isatty() else typer.prompt(name, hide_input=True)
    try:
        Vault.default(home()).set(name, value)
    except RobotsError as e:
        raise fail(e) from None
    err.print(f"stored '{name}' in {home() / 'vault'}", markup=False)


@secrets_app.command("list")
def secrets_list() -> None:
    """The names in the vault (never the values)."""
    from robots.auth.vault import Vault

    try:
        for n in Vault.default(home()).names():
            sys.stdout.write(n + "\n")
    except RobotsError as e:
        raise fail(e) from None


@secrets_app.command("rm")
def secrets_rm(name: Annotated[str, typer.Argument()]) -> None:
    """Remove a secret from the vault."""
    from robots.auth.vault import Vault

    try:
        found = Vault.default(home()).remove(name)
    except RobotsError as e:
        raise fail(e) from None
    if not found:
        err.print(f"error: no secret '{name}' in the vault", markup=False)
        raise typer.Exit(2)
