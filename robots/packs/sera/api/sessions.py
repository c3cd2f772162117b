"""POST /sessions (sign in to a tenant, get a token), POST /sessions/refresh, DELETE /sessions/{id}."""

from __future__ import annotations

import json
from datetime import timedelta
from typing import Any

from fastapi import APIRouter, Depends, Request, Response

from robots.api.common import audit, services
from robots.api.errors import ERROR_RESPONSES, ApiError
from robots.api.tokens import OPERATOR_SCOPES, Principal, authenticated, need, served_portals
from robots.errors import InputError
from robots.packs.sera.api.models import SessionCreate, TokenOut

router = APIRouter(tags=["sessions"], responses=ERROR_RESPONSES)


def _granted(principal: Principal, name: str) -> None:
    """A stored credential (or one of its secrets) is used only by a token granted it by name."""
    if name not in principal.credentials:
        granted = ", ".join(principal.credentials) or "none"
        raise ApiError(403, f"this token is not granted the stored credential {name!r} (granted: {granted}); "
                       f"`robots api token create --credential {name}` grants it", type="credential_not_granted")


def _credentials(body: SessionCreate, state: Any, caller: Principal) -> dict[str, str]:
    from robots.auth.vault import Vault, resolve_secrets

    vault = Vault.default(state.settings.home)
    creds: dict[str, str] = {}
    if body.credential:
        if body.username or body.password:
            raise ApiError(422, "give either a stored credential or a username and password, not both")
        name = body.credential
        _granted(caller, name)
        try:
            found = resolve_secrets([f"{name}_username", f"{name}_password"], vault=vault,
                                    optional=[f"{name}_totp"])
            totp = resolve_secrets([f"{name}_totp"], vault=vault, optional=[f"{name}_totp"])
        except InputError as e:
            raise ApiError(422, f"stored credential {name!r}: {e}", type="credential_not_found") from None
        creds = {"sera_username": found[f"{name}_username"], "sera_password": found[f"{name}_password"]}
        if totp[f"{name}_totp"]:
            creds["sera_totp"] = totp[f"{name}_totp"]
    elif body.username and body.password:
        creds = {"sera_username": body.username, "sera_password": body.password}
    else:
        raise ApiError(422, "a username and password, or a stored credential name, is required",
                       details=[{"loc": ["body", "username"], "field": "username", "msg": "required",
                                 "type": "missing"}])
    mfa = body.mfa
    if mfa is not None:
        if mfa.method == "sso":
            # The username and password are the identity provider's (its e-mail): the portal never sees them. The
            # session's runs sign in through flows/sera/sign_in_sso.yaml (robots.packs.sera.api.sso.for_session).
            return {"sera_username": creds["sera_username"], "sera_sso_email": creds["sera_username"],
                    "sera_sso_password": creds["sera_password"]}
        if mfa.method == "totp":
            secret = mfa.totp_secret
            if mfa.totp_secret_ref:
                # Only the TOTP secret of a credential granted to the caller: never any other vault or
                # environment secret.
                ref = mfa.totp_secret_ref
                if not ref.endswith("_totp") or ref.removesuffix("_totp") not in caller.credentials:
                    granted = ", ".join(f"{c}_totp" for c in caller.credentials) or "none"
                    raise ApiError(403, f"totp_secret_ref {ref!r} is not the TOTP secret of a stored credential "
                                   f"granted to this token (granted: {granted})", type="credential_not_granted")
                try:
                    secret = resolve_secrets([mfa.totp_secret_ref], vault=vault)[mfa.totp_secret_ref]
                except InputError as e:
                    raise ApiError(422, str(e), type="credential_not_found") from None
            if not secret:
                raise ApiError(422, "MFA method totp needs totp_secret or totp_secret_ref")
            creds["sera_totp"] = secret
        else:
            if not mfa.to:
                raise ApiError(422, f"MFA method {mfa.method} needs `to`: where the portal sends the codes")
            creds["sera_mfa_to"] = mfa.to
    return creds


def sign_in_flow(state: Any) -> Any:
    """A flow that calls the library's sign-in flow and reads the portal user's role. A *called* sign-in flow
    leaves its portal session in the session store, where the later runs of the same account find it instead of
    signing in again; an SSO session's runs call sign_in_sso.yaml instead (robots.packs.sera.api.sso.for_session).
    The role is the sign-in flow's output; when a stored session was restored instead (no sign-in ran), the
    portal's header shows it."""
    from robots.flow.loader import load_flow
    from robots.packs.sera import FLOWS, SELECTORS

    library = state.settings.library_dir  # None: the pack's own flows (robots.api.settings)
    flows = FLOWS if library is None else (library / "sera").resolve()
    target = flows / "sign_in.yaml"
    selectors = SELECTORS if library is None else (library.parent / "selectors" / "sera").resolve()
    folder = state.settings.home / "api"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / "sign_in.yaml"
    text = ("name: api_sign_in\ndescription: POST /sessions - sign in, keep the portal session, read the user's role\n"
            "portal: sera\n" + (f"selectors: {json.dumps(str(selectors))}\n" if selectors.is_dir() else "") +
            "outputs:\n  role: {description: the portal user's role}\n"
            "steps:\n"
            f"  - call: {{flow: {json.dumps(str(target))}, id: signin}}\n"
            "  - if:\n"
            "      condition: \"not steps.signin.output.get('role')\"\n"
            "      steps:\n"
            "        - open: \"{{ portal.url }}/\"\n"
            "        - read_text: {id: shown, target: nav.user_role}\n"
            "  - set_output: {role: \"{{ (steps.signin.output.get('role') or steps.shown.output) | lower }}\"}\n")
    if not path.exists() or path.read_text() != text:
        path.write_text(text)
    return load_flow(path, roots=(flows.parent,))  # it lives in ROBOTS_HOME and calls the library's sign-in


def _sign_in(request: Request, principal_like: Any, portal_url: str) -> tuple[str, str | None]:
    """Run the sign-in flow with the session's credentials (restoring a stored portal session when one is
    still good); the run's id and the portal user's role."""
    from robots.api.flows import failure

    state = services(request)
    state.flows._check_paused()
    record = state.flows._execute(sign_in_flow(state), {}, principal_like, None)
    if record.status != "passed":
        if record.error_class == "CredentialsRejected":
            raise ApiError(401, f"the portal refused the sign-in: {record.error_message}",
                           type="portal_credentials_rejected", details={"run_id": record.run_id})
        raise failure(record)
    role = record.outputs.get("role")
    if principal_like.session_id:
        state.tokens.set_role(principal_like.session_id, role)
    return str(record.run_id), role


@router.post("/sessions", status_code=201, response_model=TokenOut,
             summary="Sign in to a tenant's portal; returns an API token for that portal session (needs a token "
                     "with sessions:create)")
def create_session(request: Request, body: SessionCreate,
                   caller: Principal = Depends(need("sessions:create"))) -> TokenOut:  # noqa: B008
    from robots.api.tokens import Principal as P

    state = services(request)
    portal_url, tenant = _served(state, body, caller)
    scopes = _scopes(body, caller)
    creds = _credentials(body, state, caller)
    ttl = timedelta(seconds=state.settings.session_token_ttl_s)
    token, row = state.tokens.create(scopes, label=creds["sera_username"], ttl=ttl, tenant=tenant)
    session_id = state.tokens.open_session(token, portal_url=portal_url, tenant=tenant,
                                           username=creds["sera_username"], credentials=creds)
    principal = P(row.token_id, row.label, tenant, scopes, session_id, row.expires_at, token)
    try:
        run_id, role = _sign_in(request, principal, portal_url)
    except ApiError as e:
        state.tokens.end_session(session_id)
        failed_run = e.details.get("run_id") if isinstance(e.details, dict) else None
        audit(request, caller, "sessions.create", f"{portal_url} as {row.label}", f"error {e.status}", failed_run,
              tenant=tenant)
        raise
    state.tokens.bind(row.token_id, session_id)
    # The audit names the caller who opened the session (its token), the portal account and the portal's tenant.
    audit(request, caller, "sessions.create", f"{portal_url} as {row.label}", "ok", run_id, tenant=tenant)
    return TokenOut(token=token, token_id=row.token_id, session_id=session_id, scopes=list(scopes),
                    expires_at=row.expires_at, tenant=tenant, username=creds["sera_username"], role=role,
                    run_id=run_id)


def _served(state: Any, body: SessionCreate, caller: Principal) -> tuple[str, str]:
    """The portal to sign in to and its tenant, as the API's operator named it: never what the body says."""
    served = served_portals(state.settings)
    portal_url = str(body.portal_url).rstrip("/") if body.portal_url else (state.settings.portal_url or "").rstrip("/")
    if not portal_url:
        raise ApiError(422, "portal_url is required (the API has no ROBOTS_PORTAL_URL)",
                       details=[{"loc": ["body", "portal_url"], "field": "portal_url", "msg": "required",
                                 "type": "missing"}])
    if portal_url not in served:
        message = (f"{portal_url} is not a portal this API signs in to; its operator lists them in ROBOTS_PORTAL_URL "
                   f"and ROBOTS_API_PORTALS")
        raise ApiError(422, message, type="portal_not_served",
                       details=[{"loc": ["body", "portal_url"], "field": "portal_url", "msg": message,
                                 "type": "value_error"}])
    tenant = served[portal_url]
    if body.tenant is not None and body.tenant != tenant:
        message = f"{portal_url} is the portal of tenant {tenant!r}, not {body.tenant!r}"
        raise ApiError(422, message, type="tenant_mismatch",
                       details=[{"loc": ["body", "tenant"], "field": "tenant", "msg": message, "type": "value_error"}])
    if caller.tenant is not None and caller.tenant != tenant:
        raise ApiError(403, f"this token belongs to tenant {caller.tenant!r}; it cannot sign in to tenant {tenant!r}",
                       type="wrong_tenant")
    return portal_url, tenant


def _scopes(body: SessionCreate, caller: Principal) -> tuple[str, ...]:
    """The new token's scopes: those asked for (default: every read and write scope), never more than the caller
    holds, and never an operator's scope."""
    from robots.api.tokens import check_scopes, session_scopes

    held = caller.held_scopes()
    try:
        asked = check_scopes(body.scopes if body.scopes is not None else [s for s in session_scopes() if s in held])
    except InputError as e:
        raise ApiError(422, str(e), details=[{"loc": ["body", "scopes"], "field": "scopes", "msg": str(e),
                                              "type": "value_error"}]) from None
    operator = [s for s in asked if s in OPERATOR_SCOPES]
    if operator:
        raise ApiError(403, f"a portal session cannot grant {', '.join(operator)}; use `robots api token create`",
                       type="missing_scope")
    wider = [s for s in asked if s not in held]
    if wider:
        raise ApiError(403, f"a token can grant only scopes it holds; this one lacks {', '.join(wider)}",
                       type="scope_not_held", details={"lacking": wider, "held": list(held)})
    return asked


@router.post("/sessions/refresh", response_model=TokenOut,
             summary="A new token for the caller's portal session (the old one stops working); signs in again "
                     "if the portal dropped the session")
def refresh_session(request: Request, principal: Principal = Depends(authenticated)) -> TokenOut:  # noqa: B008
    state = services(request)
    if not principal.session_id:
        raise ApiError(422, "this token has no portal session to refresh", type="no_session")
    row = state.tokens.session(principal.session_id)
    if row is None or row.ended_at is not None:
        raise ApiError(401, "the portal session of this token has ended", type="session_ended")
    run_id, role = _sign_in(request, principal, row.portal_url)
    ttl = timedelta(seconds=state.settings.session_token_ttl_s)
    token, new = state.tokens.create(principal.scopes, label=principal.label, ttl=ttl, tenant=principal.tenant,
                                     session_id=principal.session_id)
    state.tokens.rekey_session(principal.session_id, principal.token, token)
    state.tokens.revoke(token_id=principal.token_id)
    audit(request, principal, "sessions.refresh", principal.session_id, "ok", run_id)
    return TokenOut(token=token, token_id=new.token_id, session_id=principal.session_id, scopes=list(principal.scopes),
                    expires_at=new.expires_at, tenant=principal.tenant, username=row.username, role=role,
                    run_id=run_id)


@router.delete("/sessions/{session_id}", status_code=204, response_class=Response,
               summary="End a portal session: its tokens stop working and the stored portal cookies are dropped")
def delete_session(session_id: str, request: Request,
                   principal: Principal = Depends(authenticated)) -> Response:  # noqa: B008
    state = services(request)
    row = state.tokens.session(session_id)
    if row is None or not principal.sees(row.tenant, session_id):
        raise ApiError(404, f"no session {session_id!r}", type="session_not_found")
    state.tokens.end_session(session_id)
    state.tokens.revoke(session_id=session_id)
    sessions = state.flows._runner().sessions
    if sessions is not None:
        sessions.forget(sessions.key("sera", row.portal_url, row.username))
    audit(request, principal, "sessions.delete", session_id, "ok")
    return Response(status_code=204)
