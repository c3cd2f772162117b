"""`/_sandbox/*`: JSON control endpoints for tests and benchmarks (never linked from a page).

clock, reset, stats, requests (the request log), faults, sessions (revoke, policy), outbox (SMS and e-mail
codes the portal sent) and writes (per-tenant, per-entity write counters).
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse, Response

from .app import SandboxPortal
from .clock import format_instant, parse_instant
from .faults import FAULTS, FaultError, parse_fault
from .tenants import PRIMARY


async def _json_object(request: Request) -> dict[str, Any]:
    try:
        body = await request.json()
    except ValueError:
        raise ValueError("expected a JSON body") from None
    if not isinstance(body, dict):
        raise ValueError("expected a JSON object")
    return body


def _bad(message: str, status: int = 400) -> JSONResponse:
    return JSONResponse({"error": message}, status_code=status)


def register(app: FastAPI, portal: SandboxPortal) -> None:
    sandbox = portal.sandbox
    clock = sandbox.clock

    def tenant_or_error(slug: str | None) -> Any:
        slug = slug or PRIMARY
        if slug not in sandbox.tenants:
            raise ValueError(f"unknown tenant {slug!r}; expected one of {', '.join(sandbox.tenants)}")
        return sandbox.tenants[slug]

    @app.get("/_sandbox/clock", include_in_schema=False)
    def clock_get() -> dict[str, str]:
        return {"now": format_instant(clock.now())}

    @app.post("/_sandbox/clock", include_in_schema=False)
    async def clock_post(request: Request) -> Response:
        try:
            body = await _json_object(request)
            if body.get("reset"):
                now = clock.reset()
            elif "set" in body:
                now = clock.set(parse_instant(str(body["set"])))
            elif "advance" in body:
                now = clock.advance(float(body["advance"]))
            else:
                raise ValueError('expected one of {"set": ISO8601}, {"advance": seconds}, {"reset": true}')
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        return JSONResponse({"now": format_instant(now)})

    @app.post("/_sandbox/reset", include_in_schema=False)
    def reset() -> dict[str, Any]:
        return {"ok": True, "customers": sandbox.reset()}

    @app.get("/_sandbox/stats", include_in_schema=False)
    def stats(tenant: str | None = None) -> Response:
        try:
            data = tenant_or_error(tenant)
        except ValueError as exc:
            return _bad(str(exc))
        return JSONResponse({"customers": data.customer_count(), "seed": data.seed, "size": data.size})

    @app.get("/_sandbox/requests", include_in_schema=False)
    async def requests_log() -> list[dict[str, Any]]:
        return list(sandbox.requests)

    @app.get("/_sandbox/error", include_in_schema=False)
    def deliberate_error() -> None:
        raise RuntimeError("deliberate error from /_sandbox/error")

    # -- faults --------------------------------------------------------------------------------------

    def faults_json() -> dict[str, Any]:
        return {
            "faults": [f.to_json() for f in sandbox.faults.active()],
            "available": {name: {"description": desc, "paths": ["/"], **defaults}
                          for name, (desc, defaults) in FAULTS.items()},
        }  # fmt: skip

    @app.get("/_sandbox/faults", include_in_schema=False)
    def faults_get() -> dict[str, Any]:
        return faults_json()

    @app.post("/_sandbox/faults", include_in_schema=False)
    async def faults_post(request: Request) -> Response:
        """Switch on one fault (`{"name": ...}`) or several (`{"faults": [...]}`); all or none."""
        try:
            body = await _json_object(request)
            items = body["faults"] if "faults" in body and "name" not in body else [body]
            if not isinstance(items, list):
                raise FaultError('"faults" must be a list')
            parsed = [parse_fault(item) for item in items]
        except (ValueError, FaultError) as exc:
            return _bad(str(exc))
        for fault in parsed:
            sandbox.faults.set(fault)
        return JSONResponse(faults_json())

    @app.delete("/_sandbox/faults", include_in_schema=False)
    def faults_clear() -> dict[str, Any]:
        sandbox.faults.clear()
        return faults_json()

    @app.delete("/_sandbox/faults/{name}", include_in_schema=False)
    def faults_remove(name: str) -> Response:
        if not sandbox.faults.remove(name):
            return _bad(f"fault {name!r} is not switched on", 404)
        return JSONResponse(faults_json())

    # -- sessions ------------------------------------------------------------------------------------

    @app.post("/_sandbox/sessions/revoke", include_in_schema=False)
    async def sessions_revoke(request: Request) -> Response:
        """End sessions: `{}` all of every tenant; `{"tenant": ..., "username": ...}` narrows it."""
        try:
            body = await _json_object(request) if await request.body() else {}
            tenants = [tenant_or_error(body["tenant"])] if body.get("tenant") else list(sandbox.tenants.values())
        except ValueError as exc:
            return _bad(str(exc))
        username = body.get("username")
        revoked = sum(t.auth.revoke(str(username) if username else None) for t in tenants)
        return JSONResponse({"revoked": revoked})

    @app.get("/_sandbox/sessions", include_in_schema=False)
    def sessions_get() -> dict[str, Any]:
        policy = sandbox.auth.policy
        return {
            "sessions": {slug: t.auth.session_count() for slug, t in sandbox.tenants.items()},
            "policy": {"idle_timeout": policy.idle_timeout.total_seconds(),
                       "absolute_lifetime": policy.absolute_lifetime.total_seconds(),
                       "code_ttl": policy.code_ttl.total_seconds(),
                       "resend_cooldown": policy.resend_cooldown.total_seconds(),
                       "single_session": policy.single_session, "api_token": policy.api_token},
        }  # fmt: skip

    @app.post("/_sandbox/sessions/policy", include_in_schema=False)
    async def sessions_policy(request: Request) -> Response:
        """Change the sign-in policy of every tenant until the next reset: idle_timeout, absolute_lifetime,
        code_ttl, resend_cooldown (seconds), single_session (true: a new sign-in ends the user's others)."""
        keys = ("idle_timeout", "absolute_lifetime", "code_ttl", "resend_cooldown")
        try:
            body = await _json_object(request)
            unknown = set(body) - set(keys) - {"single_session", "api_token"}
            if unknown:
                raise ValueError(f"unknown setting {', '.join(sorted(unknown))}; expected "
                                 f"{', '.join(keys)}, single_session, api_token")  # fmt: skip
            single = body.pop("single_session", None)
            if single is not None and not isinstance(single, bool):
                raise ValueError("single_session must be true or false")
            api_token = body.pop("api_token", None)
            if api_token is not None and not isinstance(api_token, bool):
                raise ValueError("api_token must be true or false")
            values = {k: float(v) for k, v in body.items()}
            if any(v <= 0 for v in values.values()):
                raise ValueError("every setting must be a number of seconds > 0")
        except (ValueError, TypeError) as exc:
            return _bad(str(exc))
        for tenant in sandbox.tenants.values():
            for key, seconds in values.items():
                setattr(tenant.auth.policy, key, timedelta(seconds=seconds))
            if single is not None:
                tenant.auth.policy.single_session = single
            if api_token is not None:
                tenant.auth.policy.api_token = api_token
        return JSONResponse(sessions_get())

    # -- outbox and writes ---------------------------------------------------------------------------

    @app.get("/_sandbox/outbox", include_in_schema=False)
    def outbox(to: str | None = None) -> dict[str, Any]:
        """Messages sent, oldest first; `to` filters by phone number or e-mail address (case-insensitive)."""
        return {"messages": sandbox.outbox.messages(to)}

    @app.get("/_sandbox/writes", include_in_schema=False)
    def writes() -> dict[str, Any]:
        return {"writes": {slug: dict(t.writes) for slug, t in sandbox.tenants.items()}}
