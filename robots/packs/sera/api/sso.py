"""An SSO session's runs: they sign in through the identity provider (POST /sessions with mfa.method "sso")
instead of with the password. Registered with the core API (robots.api.flows.SESSION_FLOWS) when the routes are
mounted."""

from __future__ import annotations

import dataclasses
from pathlib import Path
from typing import Any


def is_sso(credentials: dict[str, str]) -> bool:
    """A portal session signed in through the identity provider (POST /sessions with mfa.method "sso")."""
    return bool(credentials.get("sera_sso_email"))


def for_session(flow: Any, credentials: dict[str, str], library_dir: Path | None) -> Any:
    """The flow as this session's runs run it. An SSO session signs in (and again, when the portal ends the
    session mid-run) through the identity provider: every `call` of the library's sign_in.yaml, in the flow and in
    the flows it calls, runs sign_in_sso.yaml instead. Its session is stored under the SSO e-mail, which is where
    the sign-in of POST /sessions left it, so the runs restore that portal session instead of signing in."""
    if not is_sso(credentials):
        return flow
    from robots.flow.loader import load_flow
    from robots.packs.sera import FLOWS

    flows = FLOWS if library_dir is None else library_dir / "sera"  # None: the pack's own (robots.api.settings)
    password = (flows / "sign_in.yaml").resolve()
    sso = load_flow(flows / "sign_in_sso.yaml", roots=(flows.resolve().parent,))

    def swap(f: Any) -> Any:
        if not f.subflows:
            return f
        subs = {k: sso if Path(k).resolve() == password else swap(sub) for k, sub in f.subflows.items()}
        return dataclasses.replace(f, subflows=subs)

    return swap(flow)
