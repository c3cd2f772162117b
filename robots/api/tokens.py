"""API tokens: random (`secrets.token_urlsafe`), kept only as their SHA-256, with an expiry and scopes.

A token from `POST /sessions` belongs to one portal session: the credentials the API signs in with again are
kept encrypted with a key derived from the token itself, so the database alone cannot give them back.
A token made with `robots api token create` has no portal session (its flows use the vault, like the CLI).
"""

from __future__ import annotations

import base64
import hashlib
import json
import re
import secrets
import threading
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from cryptography.fernet import Fernet, InvalidToken
from fastapi import Depends, Request
from fastapi.security import HTTPAuthorizationCredentials, HTTPBearer
from sqlalchemy import select, update
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from robots.api.errors import ApiError
from robots.api.tables import ApiRunRow, ApiSessionRow, ApiTokenRow, AuditRow
from robots.errors import ConfigError, InputError

#: the core's scopes, over what every API has (runs, webhooks, the audit log, portal sessions); a portal pack adds
#: the scopes of its own resources (robots.packs: PortalPack.scopes), see known_scopes()
CORE_SCOPES: dict[str, str] = {
    "flows:run": "start any flow under the flows folder",
    "runs:read": "read runs and their evidence",
    "webhooks:manage": "manage webhook subscriptions",
    "audit:read": "read the audit log",
    "sessions:create": "sign in to a portal the API serves (POST /sessions): a bootstrap token's scope",
    "admin": "everything, including the audit log",
}
#: scopes a portal session's token can never hold: they are minted by `robots api token create` only
OPERATOR_SCOPES = ("admin", "audit:read", "sessions:create")


def known_scopes() -> dict[str, str]:
    """Every scope the API knows, with its description: the core's, then each installed pack's (by pack name).
    A ConfigError when a pack declares a scope of the core's or of another pack (stored tokens hold scope names, so
    one name must mean one thing)."""
    from robots import packs

    known = dict(CORE_SCOPES)
    owner: dict[str, packs.PortalPack] = {}
    for pack in sorted(packs.installed().values(), key=lambda p: p.name):
        for scope, description in pack.scopes.items():
            if scope in CORE_SCOPES:
                raise ConfigError(f"the API scope {scope!r} of portal pack {pack.name} ({pack.origin}) is one of the "
                                  f"core's; a pack declares only its own")
            if scope in owner:
                first = owner[scope]
                raise ConfigError(f"the API scope {scope!r} is declared by two portal packs: {first.name} "
                                  f"({first.origin}) and {pack.name} ({pack.origin})")
            owner[scope] = pack
            known[scope] = description
    return known


def session_scopes() -> tuple[str, ...]:
    """What POST /sessions grants when the request names no scopes (narrowed to what the caller holds): every
    scope but the operator's and `flows:run`."""
    return tuple(s for s in known_scopes() if s not in (*OPERATOR_SCOPES, "flows:run"))


TOKEN_PREFIX = "rbt_"
#: a stored credential's name: its vault secrets are NAME_username, NAME_password and NAME_totp
CREDENTIAL_NAME = re.compile(r"[A-Za-z][A-Za-z0-9_]{0,63}")


def now() -> datetime:
    return datetime.now(UTC)


def digest(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


def _fernet(token: str) -> Fernet:
    return Fernet(base64.urlsafe_b64encode(hashlib.sha256(b"robots-api-credentials:" + token.encode()).digest()))


def check_scopes(scopes: list[str] | tuple[str, ...]) -> tuple[str, ...]:
    from robots.errors import suggest

    known = known_scopes()
    unknown = [s for s in scopes if s not in known]
    if unknown:
        hint = suggest(unknown[0], list(known)) if len(unknown) == 1 else ""
        raise InputError(f"unknown scope{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}{hint}; "
                         f"known: {', '.join(known)}")
    return tuple(dict.fromkeys(scopes))


@dataclass(frozen=True)
class Principal:
    """Who is calling: the token's id, label (the portal user or the CLI's label), tenant, scopes and session."""

    token_id: str
    label: str
    tenant: str | None
    scopes: tuple[str, ...]
    session_id: str | None
    expires_at: datetime
    token: str  # the raw token of this request (decrypts the session's credentials); never stored
    #: the stored credentials (vault names) this token may sign in with through POST /sessions
    credentials: tuple[str, ...] = ()

    def has(self, scope: str) -> bool:
        return scope in self.scopes or "admin" in self.scopes

    @property
    def owner(self) -> str:
        """What this caller's runs, webhooks and idempotency keys belong to: its portal session (which outlives a
        token refresh), or the token itself when it has none."""
        return self.session_id or self.token_id

    def held_scopes(self) -> tuple[str, ...]:
        """Every scope this token may pass on: an admin token holds them all."""
        return tuple(known_scopes()) if "admin" in self.scopes else self.scopes

    def sees(self, tenant: str | None, owner: str) -> bool:
        """Whether a resource of `tenant` owned by `owner` exists for this caller: its own; an admin token's whole
        tenant; an operator's admin token (bound to no tenant) everything. Everything else is answered 404, the
        same as a resource that does not exist, so ids of other tenants cannot be probed."""
        if owner == self.owner:  # a portal session or token belongs to one tenant
            return True
        return "admin" in self.scopes and (self.tenant is None or self.tenant == tenant)


class TokenStore:
    """Tokens, API sessions and the audit log in the run store's database."""

    def __init__(self, engine: Engine) -> None:
        self._read = sessionmaker(engine)
        self._write = sessionmaker(engine.execution_options(robots_write=True))

    # ------------------------------------------------------------------ tokens
    def create(self, scopes: list[str] | tuple[str, ...], *, label: str, ttl: timedelta,
               tenant: str | None = None, session_id: str | None = None,
               credentials: list[str] | tuple[str, ...] = ()) -> tuple[str, ApiTokenRow]:
        """A new token: (the raw token, shown once; its row). `credentials`: the stored credentials (vault names) it
        may sign in with through POST /sessions."""
        scopes = check_scopes(scopes)
        if ttl.total_seconds() <= 0:
            raise InputError("a token's lifetime must be positive")
        bad = [c for c in credentials if not CREDENTIAL_NAME.fullmatch(c)]
        if bad:
            raise InputError(f"a credential name is letters, digits and underscores: {', '.join(map(repr, bad))}")
        token = TOKEN_PREFIX + secrets.token_urlsafe(32)
        at = now()
        row = ApiTokenRow(token_id="tok_" + secrets.token_hex(8), token_sha256=digest(token), scopes=" ".join(scopes),
                          label=label, tenant=tenant, session_id=session_id, created_at=at, expires_at=at + ttl,
                          revoked_at=None, credentials=" ".join(dict.fromkeys(credentials)) or None)
        with self._write.begin() as s:
            s.add(row)
            s.flush()
            s.expunge(row)
        return token, row

    def verify(self, token: str) -> Principal:
        with self._read() as s:
            row = s.scalar(select(ApiTokenRow).where(ApiTokenRow.token_sha256 == digest(token)))
        if row is None or row.revoked_at is not None:
            raise ApiError(401, "the API token is not valid", type="invalid_token")
        if row.expires_at <= now():
            raise ApiError(401, f"the API token expired at {row.expires_at.isoformat(timespec='seconds')}",
                           type="token_expired")
        return Principal(row.token_id, row.label, row.tenant, tuple(row.scopes.split()), row.session_id,
                         row.expires_at, token, tuple((row.credentials or "").split()))

    def bind(self, token_id: str, session_id: str) -> None:
        with self._write.begin() as s:
            s.execute(update(ApiTokenRow).where(ApiTokenRow.token_id == token_id).values(session_id=session_id))

    def revoke(self, *, token_id: str | None = None, session_id: str | None = None) -> int:
        query = update(ApiTokenRow).where(ApiTokenRow.revoked_at.is_(None))
        if token_id is not None:
            query = query.where(ApiTokenRow.token_id == token_id)
        if session_id is not None:
            query = query.where(ApiTokenRow.session_id == session_id)
        with self._write.begin() as s:
            return int(s.execute(query.values(revoked_at=now())).rowcount)  # type: ignore[attr-defined]

    # ------------------------------------------------------------------ API sessions
    def open_session(self, token: str, *, portal_url: str, tenant: str | None, username: str,
                     credentials: dict[str, str], role: str | None = None) -> str:
        session_id = "ses_" + secrets.token_hex(8)
        at = now()
        with self._write.begin() as s:
            s.add(ApiSessionRow(session_id=session_id, portal_url=portal_url, tenant=tenant, username=username,
                                role=role, credentials=self._seal(token, credentials), created_at=at,
                                refreshed_at=at, ended_at=None))
        return session_id

    def session(self, session_id: str) -> ApiSessionRow | None:
        with self._read() as s:
            row = s.get(ApiSessionRow, session_id)
            if row is not None:
                s.expunge(row)
            return row

    def credentials(self, principal: Principal) -> dict[str, str]:
        row = self.session(principal.session_id or "")
        if row is None or row.ended_at is not None:
            raise ApiError(401, "the portal session of this token has ended", type="session_ended")
        try:
            return dict(json.loads(_fernet(principal.token).decrypt(row.credentials.encode())))
        except InvalidToken:
            raise ApiError(401, "the API token is not valid for its portal session", type="invalid_token") from None

    def rekey_session(self, session_id: str, old_token: str, new_token: str) -> None:
        """After a refresh: the credentials sealed with the new token, the refresh time stamped."""
        with self._write.begin() as s:
            row = s.get(ApiSessionRow, session_id)
            if row is None:
                return
            creds = json.loads(_fernet(old_token).decrypt(row.credentials.encode()))
            row.credentials = self._seal(new_token, creds)
            row.refreshed_at = now()

    def set_role(self, session_id: str, role: str | None) -> None:
        """The portal user's role, as the portal showed it after the sign-in (admin, dispatcher, csr, technician)."""
        with self._write.begin() as s:
            row = s.get(ApiSessionRow, session_id)
            if row is not None:
                row.role = role or None

    def end_session(self, session_id: str) -> None:
        with self._write.begin() as s:
            row = s.get(ApiSessionRow, session_id)
            if row is not None and row.ended_at is None:
                row.ended_at = now()

    @staticmethod
    def _seal(token: str, credentials: dict[str, str]) -> str:
        return _fernet(token).encrypt(json.dumps(credentials).encode()).decode()

    # ------------------------------------------------------------------ run ownership
    def own_run(self, run_id: str, principal: Principal, tenant: str | None) -> None:
        """Record that the API run `run_id` (against a portal of `tenant`) belongs to `principal`'s owner."""
        with self._write.begin() as s:
            s.add(ApiRunRow(run_id=run_id, tenant=tenant, owner=principal.owner, token_id=principal.token_id,
                            created_at=now()))

    def run_owner(self, run_id: str) -> ApiRunRow | None:
        with self._read() as s:
            row = s.get(ApiRunRow, run_id)
            if row is not None:
                s.expunge(row)
            return row

    # ------------------------------------------------------------------ audit log
    def audit(self, *, who: str, token_id: str | None, tenant: str | None, action: str, target: str | None,
              result: str, run_id: str | None = None, request_id: str | None = None) -> None:
        with self._write.begin() as s:
            s.add(AuditRow(at=now(), who=who, token_id=token_id, tenant=tenant, action=action, target=target,
                           result=result, run_id=run_id, request_id=request_id))

    def audit_entries(self, *, limit: int, before_id: int | None = None, action: str | None = None,
                      tenant: str | None = None) -> list[AuditRow]:
        """The newest entries first; only `tenant`'s when one is given (a tenant's token never reads another's)."""
        query = select(AuditRow).order_by(AuditRow.id.desc()).limit(limit)
        if tenant is not None:
            query = query.where(AuditRow.tenant == tenant)
        if before_id is not None:
            query = query.where(AuditRow.id < before_id)
        if action is not None:
            query = query.where(AuditRow.action == action)
        with self._read() as s:
            rows = list(s.scalars(query))
            for r in rows:
                s.expunge(r)
            return rows


def served_portals(settings: Any) -> dict[str, str]:
    """The portals POST /sessions may sign in to, each with its tenant: `ROBOTS_API_PORTALS` entries are `URL` or
    `TENANT=URL`, and `ROBOTS_PORTAL_URL` is the tenant `ROBOTS_PORTAL_TENANT`. A portal given without a tenant name
    is a tenant of its own, named by its URL. The tenant of a session is always this one, never what a caller says."""
    served: dict[str, str] = {}
    entries = [(e, None) for e in settings.portals] + [(settings.portal_url, settings.portal_tenant)]
    for entry, named in entries:
        if not entry:
            continue
        name, sep, url = entry.partition("=")
        if not sep or "/" in name or ":" in name:  # a bare URL (whose query may hold an '=')
            name, url = "", entry
        url = url.strip().rstrip("/")
        served.setdefault(url, name.strip() or named or url)
    return served


class RateLimiter:
    """A sliding window per key (token id): at most `limit` requests in `window` seconds."""

    def __init__(self, limit: int, window: float) -> None:
        self.limit = limit
        self.window = window
        self._hits: dict[str, list[float]] = {}
        self._lock = threading.Lock()

    def check(self, key: str, *, tenant: str | None = None, tenant_limit: int | None = None) -> None:
        """Count one request of the token `key` (and of its tenant); 429 when either is over its budget."""
        t = time.monotonic()
        budgets = [(key, self.limit, "this token")]
        if tenant and tenant_limit:
            budgets.append((f"tenant:{tenant}", tenant_limit, f"tenant {tenant!r}"))
        with self._lock:
            lists = {k: [h for h in self._hits.get(k, []) if h > t - self.window] for k, _, _ in budgets}
            for k, limit, whom in budgets:
                hits = lists[k]
                if len(hits) >= limit:
                    self._hits.update(lists)
                    retry = max(1, int(hits[-limit] + self.window - t + 0.999))
                    raise ApiError(429, f"rate limit of {limit} requests per {self.window:g} s reached for {whom}; "
                                   f"retry after {retry} s", headers={"Retry-After": str(retry)},
                                   details={"limit": limit, "window_s": self.window, "retry_after_s": retry})
            for k, hits in lists.items():
                hits.append(t)
                self._hits[k] = hits


bearer = HTTPBearer(auto_error=False, description="an API token: POST /sessions or `robots api token create`")


def authenticated(request: Request,
                  credentials: HTTPAuthorizationCredentials | None = Depends(bearer)) -> Principal:  # noqa: B008
    if credentials is None or not credentials.credentials:
        raise ApiError(401, "an API token is required: send `Authorization: Bearer <token>`", type="missing_token")
    state: Any = request.app.state
    principal = state.tokens.verify(credentials.credentials)
    state.limiter.check(principal.token_id, tenant=principal.tenant,
                        tenant_limit=state.settings.tenant_rate_limit)
    request.state.principal = principal
    return principal


def need(scope: str) -> Callable[..., Principal]:
    """A dependency: the caller, who must hold `scope` (or admin)."""

    def _check(principal: Principal = Depends(authenticated)) -> Principal:  # noqa: B008
        if not principal.has(scope):
            raise ApiError(403, f"this token lacks the scope {scope!r}", type="missing_scope",
                           details={"required": scope, "granted": list(principal.scopes)})
        return principal

    _check.__name__ = f"need_{scope.replace(':', '_')}"
    _check.scope = scope  # type: ignore[attr-defined] # what create_app checks is a known scope
    return _check


def needed_scopes(routes: list[Any]) -> Iterator[tuple[str, str]]:
    """(route, scope) for every `need(scope)` among the routes' dependencies, e.g. ("GET /customers",
    "customers:read")."""
    for route in routes:
        dependant = getattr(route, "dependant", None)
        todo = list(dependant.dependencies) if dependant is not None else []
        while todo:
            dependency = todo.pop()
            todo += dependency.dependencies
            scope = getattr(dependency.call, "scope", None)
            if isinstance(scope, str):
                yield f"{' '.join(sorted(route.methods))} {route.path}", scope
