"""An SSO API session's runs sign in through the identity provider: robots.api.tokens.for_session swaps every call of
the library's sign_in.yaml (in the flow and the flows it calls) for sign_in_sso.yaml; a password session's flow is
left as it is."""

from __future__ import annotations

from pathlib import Path

from robots.flow.loader import load_flow
from robots.packs.sera.api.sso import for_session, is_sso

LIBRARY = Path(__file__).resolve().parents[3] / "flows"
SSO = {"sera_username": "sage@acme.example.com", "sera_sso_email": "sage@acme.example.com",
       "sera_sso_password": "x"}


def test_an_sso_sessions_flows_call_the_sso_sign_in() -> None:
    flow = load_flow(LIBRARY / "sera" / "list_customers.yaml")
    swapped = for_session(flow, SSO, LIBRARY)
    assert [sub.name for sub in swapped.subflows.values()] == ["sign_in_sso"]
    assert swapped.all_secrets() == ("sera_sso_email", "sera_sso_password")  # no password of the portal's
    assert swapped.steps == flow.steps and [s.name for s in flow.subflows.values()] == ["sign_in"]


def test_a_password_sessions_flow_is_unchanged() -> None:
    flow = load_flow(LIBRARY / "sera" / "create_customer.yaml")
    creds = {"sera_username": "demo", "sera_password": "x"}
    assert not is_sso(creds) and is_sso(SSO)
    assert for_session(flow, creds, LIBRARY) is flow
