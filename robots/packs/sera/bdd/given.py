"""Given steps: the portal and the account, the sandbox's faults, clock and sessions."""

from __future__ import annotations

from typing import Any

from robots.packs.sera.bdd.world import World, _account_secrets, _pairs, _Revisit, _step

# -- Given: portal and account -----------------------------------------------------------------------------


@_step("given", "the sandbox Sera portal", "Given the sandbox Sera portal")
def _portal(robots_bdd: World) -> None:
    """The portal under test (the sandbox, or `--portal-url`); runs use the demo account (TOTP) unless a later
    step names another."""


@_step("given", "the sandbox Sera portal with its seeded customers",
       "Given the sandbox Sera portal with its seeded customers")
def _portal_seeded(robots_bdd: World) -> None:
    """The sandbox with its seeded data (every scenario starts from it; one that changed it resets it)."""


@_step("given", 'I am logged in to tenant "{tenant}" as the {role}',
       'Given I am logged in to tenant "acme" as the dispatcher')
def _logged_in_as_role(robots_bdd: World, tenant: str, role: str) -> None:
    """Runs sign in as the tenant's first account with that role (admin, dispatcher, csr, technician; password
    sign-in, whatever its second factor); a session stored by an earlier run is restored instead."""
    from robots.packs.sera.sandbox.accounts import TENANT_USERS

    users = [u for u in TENANT_USERS.get(tenant, {}).values()
             if u.role == role and not u.sso and not u.password_expired]
    if not users:
        raise AssertionError(f"tenant '{tenant}' has no {role} account that signs in with a password")
    robots_bdd.tenant, robots_bdd.sso = tenant, False
    robots_bdd.secrets = _account_secrets(tenant, users[0].username)


@_step("given", 'I am logged in to tenant "{tenant}" as "{username}"',
       'Given I am logged in to tenant "acme" as "casey"')
def _logged_in_as_user(robots_bdd: World, tenant: str, username: str) -> None:
    """Signs in as that account of the tenant (the sandbox's users: demo, dina, casey, tom, pat, sage)."""
    robots_bdd.tenant, robots_bdd.sso = tenant, False
    robots_bdd.secrets = _account_secrets(tenant, username)


@_step("given", 'I sign in with SSO as "{username}"', 'Given I sign in with SSO as "sage"')
def _sso(robots_bdd: World, username: str) -> None:
    """Page steps sign in through the identity provider (flows/sera/sign_in_sso.yaml) as this account."""
    robots_bdd.sso = True
    robots_bdd.secrets = _account_secrets(robots_bdd.tenant, username)


@_step("given", "no session is stored for me", "Given no session is stored for me")
def _afresh(robots_bdd: World) -> None:
    """Later runs use a robots home of their own: nothing to restore, so they sign in (and store nothing for
    the other scenarios)."""
    fresh = robots_bdd.home / "fresh"
    fresh.mkdir(exist_ok=True)
    robots_bdd.home = fresh / str(len(list(fresh.iterdir())))
    robots_bdd.home.mkdir()


@_step("given", 'the account\'s {secret} is "{value}"', 'Given the account\'s sera_password is "not-the-password"')
def _secret(robots_bdd: World, secret: str, value: str) -> None:
    """Overrides one secret of the account (a wrong password, another TOTP secret, an SSO password)."""
    if secret not in robots_bdd.secrets:
        raise AssertionError(f"unknown secret '{secret}'; the account has {', '.join(robots_bdd.secrets)}")
    robots_bdd.secrets[secret] = value


@_step("given", "the flow vars:", "Given the flow vars:\n  | q | smith |")
def _vars(robots_bdd: World, datatable: list[list[str]]) -> None:
    """Vars for every later run of the scenario, one `| name | value |` row each."""
    robots_bdd.vars.update(_pairs(datatable))


# -- Given: sandbox faults, clock and sessions ------------------------------------------------------------


@_step("given", "the portal answers {percent:d}% of requests with errors",
       "Given the portal answers 10% of requests with errors")
def _errors(robots_bdd: World, percent: int) -> None:
    """The sandbox's `server_error` fault on every page (its HTML 500), for that share of requests."""
    robots_bdd.control("POST", "faults", {"name": "server_error", "percent": percent})


@_step("given", 'the portal answers {percent:d}% of requests to "{path}" with errors',
       'Given the portal answers 30% of requests to "/customers" with errors')
def _errors_on(robots_bdd: World, percent: int, path: str) -> None:
    """The `server_error` fault on pages under one path prefix."""
    robots_bdd.control("POST", "faults", {"name": "server_error", "percent": percent, "paths": [path]})


@_step("given", 'the portal has the fault "{name}"', 'Given the portal has the fault "whats_new"')
def _fault(robots_bdd: World, name: str) -> None:
    """Any sandbox fault by name (latency, server_error, rate_limit, session_revocation, whats_new,
    cookie_banner, maintenance, layout_b, slow_commit) with its default parameters."""
    robots_bdd.control("POST", "faults", {"name": name})


@_step("given", 'the portal has the fault "{name}" with:', 'Given the portal has the fault "latency" with:\n'
       "  | ms    | 300          |\n  | paths | /customers |")
def _fault_with(robots_bdd: World, name: str, datatable: list[list[str]]) -> None:
    """A sandbox fault with parameters, one `| name | value |` row each (`paths` comma-separated)."""
    body: dict[str, Any] = {"name": name}
    for key, value in _pairs(datatable).items():
        body[key] = [p.strip() for p in value.split(",")] if key == "paths" else float(value)
    robots_bdd.control("POST", "faults", body)


@_step("given", "the portal shows layout variant B", "Given the portal shows layout variant B")
def _layout_b(robots_bdd: World) -> None:
    """Every first-choice selector of selectors/sera renamed or moved: flows must pass through fallbacks."""
    robots_bdd.control("POST", "faults", {"name": "layout_b"})


@_step("given", "the portal's clock moves on {minutes:d} minutes", "Given the portal's clock moves on 31 minutes")
def _clock(robots_bdd: World, minutes: int) -> None:
    """Moves the sandbox clock now (sessions idle out after 30, codes expire after 5) instead of waiting."""
    robots_bdd.control("POST", "clock", {"advance": minutes * 60})


@_step("given", 'the portal\'s clock moves on {minutes:d} minutes before step "{where}"',
       'Given the portal\'s clock moves on 31 minutes before step "steps[3]"')
def _clock_mid_flow(robots_bdd: World, minutes: int, where: str) -> None:
    """Moves the clock while the next run is going, just before its top-level step `where` starts (the
    session idles out mid-flow). Sign in with an SMS or e-mail account then: the robot's TOTP codes follow
    real time, not the moved clock."""
    robots_bdd.listeners.append(_Revisit(where, lambda: robots_bdd.control("POST", "clock", {"advance": minutes * 60})))


@_step("given", 'the portal ends my session before step "{where}"',
       'Given the portal ends my session before step "steps[3]"')
def _revoke_mid_flow(robots_bdd: World, where: str) -> None:
    """Revokes every session while the next run is going, just before its top-level step `where`."""
    robots_bdd.listeners.append(_Revisit(where, lambda: robots_bdd.control("POST", "sessions/revoke", {})))


@_step("given", "the portal has ended every session", "Given the portal has ended every session")
def _revoke(robots_bdd: World) -> None:
    """Revokes every session now (stored sessions are dead: the next run signs in again)."""
    robots_bdd.control("POST", "sessions/revoke", {})


__all__ = [name for name in list(globals()) if name.startswith("pytestbdd_")]
