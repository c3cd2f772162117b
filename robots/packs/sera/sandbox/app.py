"""The sandbox Sera portal as a FastAPI app: server-rendered pages, real sign-in rules, tenants, faults.

Pages behave like the real portal (docs/CONTRACTS.md C1, docs/DOMAIN.md); `/_sandbox/*` are JSON control endpoints
for tests and are never linked from a page. No request ever gets a Python traceback: errors render the portal's own
pages. The pages themselves live in `pages.py`, the control endpoints in `control.py`; this module holds the state
of one portal instance, the request pipeline (tenant, faults, request log) and the sign-in pages.
"""

from __future__ import annotations

import asyncio
import base64
import collections
import hashlib
import hmac
import json
import logging
import re
import secrets
import sqlite3
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import urlencode, urlsplit
from zoneinfo import ZoneInfo

import jinja2
from fastapi import FastAPI, Form, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, JSONResponse, RedirectResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .accounts import TENANT, TENANT_USERS, User
from .auth import AuthPolicy, AuthState, Outbox, Outcome
from .clock import SandboxClock, format_instant
from .faults import FaultState, parse_fault
from .tenants import PRIMARY, TENANTS, Tenant, tenant_from_host

logger = logging.getLogger("robots.sandbox")

SESSION_COOKIE = "sera_session"
PRELOGIN_COOKIE = "sera_login"
MFA_COOKIE = "sera_mfa"
SSO_STATE_COOKIE = "sera_sso_state"
DEVICE_COOKIE = "sera_device"
WHATS_NEW_COOKIE = "sera_whats_new"
CONSENT_COOKIE = "sera_cookie_consent"
REQUEST_LOG_SIZE = 500

MSG_INVALID_LOGIN = "Invalid username or password."
MSG_SSO_FAILED = "Single sign-on did not complete. Please try again."
MSG_CSRF = "Your session timed out. Please sign in again."
MSG_TOO_MANY_CODES = "Too many attempts. Please sign in again."
MSG_LOCKED = "Too many failed sign-in attempts. Your account is locked; try again in 15 minutes."
MSG_INVALID_CODE = "Invalid verification code."
MSG_CODE_EXPIRED = "This code has expired. Request a new code."
MSG_PASSWORD_EXPIRED = "Your password has expired"
MSG_NEW_DEVICE = "Confirm that this is you"
MSG_PASSWORD_CHANGED = "Your password was changed. Please sign in with your new password."
MSG_MAINTENANCE = "Sera is down for scheduled maintenance"

# What each role may open; the menu shows only these sections and anything else is the 403 page.
PERMISSIONS: dict[str, frozenset[str]] = {
    "admin": frozenset({"dispatch", "jobs", "jobs.write", "jobs.create", "customers", "customers.export",
                        "customers.write", "pricebook", "invoices", "invoices.write", "payments", "memberships",
                        "memberships.write", "estimates"}),
    "dispatcher": frozenset({"dispatch", "jobs", "jobs.write", "jobs.create", "customers", "customers.write",
                             "pricebook", "memberships", "estimates"}),
    "csr": frozenset({"dispatch", "jobs", "jobs.create", "customers", "customers.export", "customers.write",
                      "invoices", "invoices.write", "payments", "memberships", "memberships.write", "estimates"}),
    "technician": frozenset({"dispatch", "jobs", "jobs.write"}),
}  # fmt: skip

_TEMPLATE_DIR = Path(__file__).parent / "templates"


def _environment(*dirs: Path) -> jinja2.Environment:
    return jinja2.Environment(
        loader=jinja2.ChoiceLoader([jinja2.FileSystemLoader(d) for d in dirs]),
        autoescape=jinja2.select_autoescape(["html"]),
        trim_blocks=True,
        lstrip_blocks=True,
    )


# Layout variant B overrides some templates and inherits the rest.
_TEMPLATES = {"a": _environment(_TEMPLATE_DIR), "b": _environment(_TEMPLATE_DIR / "variant_b", _TEMPLATE_DIR)}

_ERRORS = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Access denied", "You don't have permission to view this page."),
    404: ("Page not found", "We couldn't find the page you were looking for."),
    405: ("Not allowed", "This action is not available here."),
    429: ("Too many requests", "You're doing that too often. Please wait a moment and try again."),
    500: ("Something went wrong", "An unexpected error occurred. Please try again; if it keeps happening, "
                                  "contact Sera support with the reference below."),
}  # fmt: skip


@dataclass
class RequestInfo:
    """What the pipeline decided about one request before a page sees it."""

    tenant: str = PRIMARY
    base: str = ""  # "/t/summit" when the tenant came from the path prefix
    layout: str = "a"
    whats_new: bool = False
    cookie_banner: bool = False
    faults: list[str] = field(default_factory=list)
    latency_ms: float | None = None  # the single-page app's data-call delay (spa_api.py), in the request log


def info(request_or_scope: Request | Scope) -> RequestInfo:
    scope = request_or_scope.scope if isinstance(request_or_scope, Request) else request_or_scope
    found = scope.setdefault("state", {}).get("sera")
    return found if isinstance(found, RequestInfo) else RequestInfo()


def cookie_name(name: str, tenant: str) -> str:
    """Cookies of the primary tenant keep their plain names; others get a suffix (one host serves all)."""
    return name if tenant == PRIMARY else f"{name}_{tenant}"


def render_page(scope: Scope | Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    meta = info(scope)
    tenant = TENANTS[meta.tenant]
    context.setdefault("tenant", tenant.slug)
    context.setdefault("tenant_name", tenant.name)
    context.setdefault("base", meta.base)
    context.setdefault("whats_new", meta.whats_new)
    context.setdefault("cookie_banner", meta.cookie_banner)
    raw_scope = scope.scope if isinstance(scope, Request) else scope
    query = raw_scope.get("query_string", b"").decode("latin-1")
    context.setdefault("request_path", raw_scope.get("path", "/") + (f"?{query}" if query else ""))
    user = context.get("user")
    context.setdefault("perms", PERMISSIONS.get(user.role, frozenset()) if isinstance(user, User) else frozenset())
    html = _TEMPLATES[meta.layout].get_template(name).render(**context)
    return HTMLResponse(html, status_code=status_code)


def error_page(status: int, reference: str | None = None, scope: Scope | Request | None = None) -> HTMLResponse:
    heading, message = _ERRORS.get(status, (f"Error {status}", "The request could not be completed."))
    return render_page(scope if scope is not None else {}, "error.html", status, title=heading, status=status,
                       heading=heading, message=message, reference=reference)  # fmt: skip


def throttled_page(scope: Scope | Request, retry_after: int) -> HTMLResponse:
    """HTTP 429 with Retry-After; its text states the wait too ("Please wait 2 seconds"): a browser reads no headers."""
    heading, message = _ERRORS[429]
    page = render_page(scope, "throttled.html", 429, title=heading, heading=heading, message=message,
                       retry_after=retry_after)
    page.headers["Retry-After"] = str(retry_after)
    return page


class LoginRequired(Exception):
    def __init__(self, location: str, clear_cookie: str | None) -> None:
        super().__init__(location)
        self.location = location
        self.clear_cookie = clear_cookie


class Forbidden(Exception):
    pass


class TenantData:
    """One tenant's database (plus the pristine copy reset restores), sign-in state and write counters."""

    def __init__(self, tenant: Tenant, db_path: Path, auth: AuthState) -> None:
        self.tenant = tenant
        self.db_path = db_path
        self.auth = auth
        self.zone = ZoneInfo(tenant.time_zone)
        self.writes: Counter[str] = Counter()
        self.db_lock = threading.Lock()
        self.db = sqlite3.connect(db_path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        # A private throwaway copy: no fsync, the rollback journal in memory (reset rewrites every page).
        self.db.execute("PRAGMA synchronous = OFF")
        self.db.execute("PRAGMA journal_mode = MEMORY")
        self.db.execute("PRAGMA cache_size = -65536")
        # The pristine copy lives in memory: reset is one page-by-page backup, a few milliseconds.
        self._pristine = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.backup(self._pristine)
        self._baseline = self._change_marks()
        meta = {str(row[0]): str(row[1]) for row in self.query("SELECT key, value FROM meta")}
        self.seed = int(meta["seed"])
        self.size = str(meta["size"])

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        with self.db_lock:
            return self.db.execute(sql, params).fetchall()

    def write(self, entity: str, statements: list[tuple[str, list[Any]]]) -> None:
        """Run `statements` in one transaction and count one write of `entity`."""
        with self.db_lock:
            with self.db:
                for sql, params in statements:
                    self.db.execute(sql, params)
            self.writes[entity] += 1

    def customer_count(self) -> int:
        return int(self.query("SELECT COUNT(*) FROM customers")[0][0])

    def _change_marks(self) -> tuple[int, int]:
        """(changes made through our connection, data_version: bumped by commits of any other connection)."""
        return self.db.total_changes, int(self.db.execute("PRAGMA data_version").fetchone()[0])

    def reset(self) -> None:
        with self.db_lock:
            if self._change_marks() != self._baseline:  # untouched since the last restore: nothing to copy
                self._pristine.backup(self.db)
                self._baseline = self._change_marks()
            self.writes.clear()
        self.auth.clear()

    def close(self) -> None:
        with self.db_lock:
            self.db.close()
            self._pristine.close()


class Sandbox:
    """Everything one portal instance holds: its tenants, the clock, the outbox, faults and request log."""

    def __init__(self, db_paths: dict[str, Path], clock: SandboxClock, policy: AuthPolicy) -> None:
        self.clock = clock
        self.outbox = Outbox()
        self.faults = FaultState()
        self.baseline_faults: list[Any] = []  # given at start; a reset switches them back on (see SandboxServer)
        self.requests: collections.deque[dict[str, Any]] = collections.deque(maxlen=REQUEST_LOG_SIZE)
        self.on_reset: list[Callable[[], None]] = []  # more state a reset restores (the single-page app's latency)
        self.tenants = {
            slug: TenantData(
                TENANTS[slug],
                path,
                AuthState(
                    clock, users=dict(TENANT_USERS[slug]), policy=replace(policy), outbox=self.outbox, tenant=slug
                ),
            )  # fmt: skip
            for slug, path in db_paths.items()
        }
        primary = self.tenants[PRIMARY]
        self.db_path, self.seed, self.size = primary.db_path, primary.seed, primary.size
        self._csrf_key = secrets.token_bytes(32)

    @property
    def auth(self) -> AuthState:  # the primary tenant's, as before tenants existed
        return self.tenants[PRIMARY].auth

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        return self.tenants[PRIMARY].query(sql, params)

    def customer_count(self) -> int:
        return self.tenants[PRIMARY].customer_count()

    def reset(self) -> int:
        for tenant in self.tenants.values():
            tenant.reset()
        self.outbox.clear()
        self.faults.clear()
        for fault in self.baseline_faults:
            self.faults.set(parse_fault(fault.to_json()))  # a fresh copy: percentages replay from the start
        self.clock.reset()
        self.requests.clear()
        for restore in self.on_reset:
            restore()
        return self.customer_count()

    def close(self) -> None:
        for tenant in self.tenants.values():
            tenant.close()

    def csrf_token(self, prelogin: str) -> str:
        return hmac.new(self._csrf_key, prelogin.encode(), hashlib.sha256).hexdigest()


_TENANT_PREFIX = re.compile(r"^/t/([^/]+)(/.*)?$")


class _Guard:
    """Outermost app middleware. Picks the tenant, applies the faults switched on, logs each request (never
    bodies or cookies) and turns any exception that escaped into the portal's 500 page, so no client ever
    sees a traceback."""

    def __init__(self, app: ASGIApp, sandbox: Sandbox) -> None:
        self.app = app
        self.sandbox = sandbox

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        response_started = False
        raw_path = scope["path"]
        meta = RequestInfo()
        scope.setdefault("state", {})["sera"] = meta
        slow_commit = 0.0

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
                if slow_commit:  # the write is committed; only the answer is late
                    await asyncio.sleep(slow_commit)
            await send(message)

        try:
            match = _TENANT_PREFIX.match(raw_path)
            if match:
                slug, rest = match.group(1), match.group(2) or "/"
                if slug not in self.sandbox.tenants:
                    await error_page(404, scope=scope)(scope, receive, send_wrapper)
                    return
                meta.tenant, meta.base = slug, f"/t/{slug}"
                scope["path"], scope["raw_path"] = rest, rest.encode()
            else:
                headers = dict(scope.get("headers") or [])
                host = tenant_from_host(headers.get(b"host", b"").decode("latin-1"))
                if host in self.sandbox.tenants:
                    meta.tenant = host
            if not scope["path"].startswith("/_sandbox/"):
                response = self._apply_faults(scope, meta, raw_path)
                if response is not None:
                    await response(scope, receive, send_wrapper)
                    return
                latency = self._latency(meta, scope["path"], raw_path)
                if latency:
                    await asyncio.sleep(latency)
                fault = self.sandbox.faults.matching(scope["path"], raw_path).get("slow_commit")
                if fault and scope["method"] == "POST" and fault.roll():
                    meta.faults.append("slow_commit")
                    slow_commit = float(fault.params["ms"]) / 1000
            await self.app(scope, receive, send_wrapper)
        except Exception:
            reference = secrets.token_hex(4).upper()
            logger.exception("sandbox: unhandled error on %s %s (reference %s)", scope["method"], raw_path,
                             reference)  # fmt: skip
            if not response_started:
                await error_page(500, reference, scope)(scope, receive, send_wrapper)
        finally:
            if scope["path"] != "/_sandbox/requests":
                entry: dict[str, Any] = {
                    "method": scope["method"],
                    "path": raw_path,
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "status": status,
                    "at": format_instant(self.sandbox.clock.now()),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                    "tenant": meta.tenant,
                }
                if meta.faults:
                    entry["faults"] = meta.faults
                if meta.latency_ms is not None:
                    entry["latency_ms"] = meta.latency_ms
                mode = next((v for k, v in scope.get("headers", ()) if k == b"sec-fetch-mode"), None)
                if mode is not None:  # a browser's request: "navigate" (a page load) or "cors" (a script's fetch)
                    entry["fetch_mode"] = mode.decode("latin-1")
                self.sandbox.requests.append(entry)

    def _apply_faults(self, scope: Scope, meta: RequestInfo, raw_path: str) -> Response | None:
        """The fault's own response when one answers instead of the portal; else None (flags set on meta)."""
        faults = self.sandbox.faults.matching(scope["path"], raw_path)
        if not faults:
            return None
        if "layout_b" in faults:  # first: the maintenance page has a layout B too
            meta.layout = "b"
            meta.faults.append("layout_b")
        if "maintenance" in faults:
            meta.faults.append("maintenance")
            page = render_page(scope, "maintenance.html", 503, title="Scheduled maintenance", message=MSG_MAINTENANCE)
            page.headers["Retry-After"] = str(int(faults["maintenance"].params["retry_after"]))
            return page
        fault = faults.get("rate_limit")
        if fault and fault.roll():
            meta.faults.append("rate_limit")
            return throttled_page(scope, int(fault.params["retry_after"]))
        fault = faults.get("server_error")
        if fault and fault.roll():
            meta.faults.append("server_error")
            return error_page(500, secrets.token_hex(4).upper(), scope)
        fault = faults.get("session_revocation")
        if fault and fault.roll():
            cookies = _cookies(scope)
            token = cookies.get(cookie_name(SESSION_COOKIE, meta.tenant))
            if token:
                meta.faults.append("session_revocation")
                self.sandbox.tenants[meta.tenant].auth.end_session(token)
        cookies = _cookies(scope)
        if "whats_new" in faults and cookies.get(cookie_name(WHATS_NEW_COOKIE, meta.tenant)) != "dismissed":
            meta.whats_new = True
            meta.faults.append("whats_new")
        if "cookie_banner" in faults and cookies.get(CONSENT_COOKIE) != "accepted":
            meta.cookie_banner = True
            meta.faults.append("cookie_banner")
        return None

    def _latency(self, meta: RequestInfo, path: str, raw_path: str) -> float:
        fault = self.sandbox.faults.matching(path, raw_path).get("latency")
        if fault is None:
            return 0.0
        meta.faults.append("latency")
        jitter = float(fault.params["jitter_ms"])
        ms = float(fault.params["ms"]) + (fault.rng.uniform(-jitter, jitter) if jitter else 0.0)
        return max(0.0, ms) / 1000


def _cookies(scope: Scope) -> dict[str, str]:
    from starlette.requests import cookie_parser

    for key, value in scope.get("headers") or []:
        if key == b"cookie":
            return cookie_parser(value.decode("latin-1"))
    return {}


def local_path(value: str | None) -> str | None:
    """`value` if it is a path on this site (open redirects are refused), else None."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


def parse_int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None and text.strip().isdigit() else None
    except ValueError:
        return None


class SandboxPortal:
    """Per-request helpers the page modules share: the tenant, its cookies, redirects, the signed-in user."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox

    def tenant(self, request: Request) -> TenantData:
        return self.sandbox.tenants[info(request).tenant]

    def cookie(self, request: Request, name: str) -> str | None:
        return request.cookies.get(cookie_name(name, info(request).tenant))

    def set_cookie(self, request: Request, response: Response, name: str, value: str, **kwargs: Any) -> None:
        response.set_cookie(cookie_name(name, info(request).tenant), value, httponly=True, samesite="lax", path="/",
                            **kwargs)  # fmt: skip

    def delete_cookie(self, request: Request, response: Response, name: str) -> None:
        response.delete_cookie(cookie_name(name, info(request).tenant), path="/")

    def redirect(self, request: Request, path: str) -> RedirectResponse:
        return RedirectResponse(info(request).base + path, status_code=303)

    def login_url(self, request: Request, **params: Any) -> str:
        params = {k: v for k, v in params.items() if v}
        return info(request).base + "/login" + ("?" + urlencode(params, safe="/") if params else "")

    def user(self, request: Request, section: str | None = None) -> User:
        """The signed-in user (else LoginRequired, to the login page with the expired banner when a cookie
        was sent); Forbidden when the user's role may not open `section`."""
        tenant = self.tenant(request)
        token = self.cookie(request, SESSION_COOKIE)
        session = tenant.auth.session(token)
        if session is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise LoginRequired(self.login_url(request, expired=1 if token else None, next=target),
                                cookie_name(SESSION_COOKIE, tenant.tenant.slug) if token else None)  # fmt: skip
        user = tenant.auth.users[session.username]
        if section is not None and section not in PERMISSIONS[user.role]:
            raise Forbidden(section)
        request.state.session = session
        return user

    def api_token_ok(self, request: Request) -> bool:
        """Whether a call to the portal's JSON API carries the session's bearer token (always, unless the policy
        `api_token` is on). Call after `user()`."""
        if not self.tenant(request).auth.policy.api_token:
            return True
        session = getattr(request.state, "session", None)
        sent = request.headers.get("authorization", "")
        return session is not None and hmac.compare_digest(sent, f"Bearer {session.api_token}")

    def render(self, request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        page = render_page(request, name, status_code, **context)
        session = getattr(request.state, "session", None)
        if (session is not None and not session.api_token_delivered  # the first page after the sign-in
                and self.tenant(request).auth.policy.api_token):
            session.api_token_delivered = True
            store = f"<script>localStorage.setItem('sera.apiToken', {json.dumps(session.api_token)});</script>"
            body = bytes(page.body).replace(b"</body>", store.encode() + b"</body>", 1)
            page = HTMLResponse(body.decode(), status_code=status_code)
        return page

    def permissions(self, user: User) -> frozenset[str]:
        return PERMISSIONS[user.role]


def create_app(
    db_path: str | Path,
    *,
    clock: SandboxClock | None = None,
    policy: AuthPolicy | None = None,
    tenant_db_paths: dict[str, Path] | None = None,
    app_latency: tuple[float, float] | None = None,
    spa_dir: Path | None = None,
) -> FastAPI:
    """The portal over the database at `db_path` (the primary tenant's; a copy the app may change, reset
    restores it) and, optionally, other tenants' databases. `app_latency`: the single-page app's delay per data call
    (min, max ms; None: ROBOTS_SANDBOX_APP_LATENCY); `spa_dir`: its build (None: the cached build of its sources)."""
    from . import control, office, pages, spa_api

    clock = clock or SandboxClock()
    paths = {PRIMARY: Path(db_path), **{k: Path(v) for k, v in (tenant_db_paths or {}).items()}}
    sandbox = Sandbox(paths, clock, policy or AuthPolicy())
    portal = SandboxPortal(sandbox)
    app = FastAPI(title="Sera sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sandbox = sandbox
    app.add_middleware(_Guard, sandbox=sandbox)

    # -- errors --------------------------------------------------------------------------------------

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/_sandbox/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        return error_page(exc.status_code, scope=request)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        if request.url.path.startswith("/_sandbox/"):
            return JSONResponse({"error": "invalid request"}, status_code=400)
        return error_page(400, scope=request)

    @app.exception_handler(LoginRequired)
    async def login_required(request: Request, exc: LoginRequired) -> Response:
        if request.url.path.startswith("/api/"):  # an XHR: the page's script sends the browser to sign in
            response: Response = JSONResponse({"error": "session expired", "login": exc.location}, status_code=401)
        else:
            response = RedirectResponse(exc.location, status_code=303)
        if exc.clear_cookie:
            response.delete_cookie(exc.clear_cookie, path="/")
        return response

    @app.exception_handler(Forbidden)
    async def forbidden(request: Request, exc: Forbidden) -> Response:
        if request.url.path.startswith("/api/"):
            return JSONResponse({"error": "forbidden"}, status_code=403)
        return error_page(403, scope=request)

    _register_sign_in(app, portal)
    office.register(app, portal)  # first: its /customers/new and /jobs/new win over /customers/{id}, /jobs/{id}
    pages.register(app, portal)
    spa_api.register(app, portal, app_latency=app_latency, spa_dir=spa_dir)
    control.register(app, portal)
    return app


def _register_sign_in(app: FastAPI, portal: SandboxPortal) -> None:
    sandbox = portal.sandbox

    def login_page(request: Request, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        prelogin = request.cookies.get(PRELOGIN_COOKIE)
        fresh = not prelogin or context.pop("rotate", False)
        if fresh:
            prelogin = secrets.token_urlsafe(24)
        assert prelogin is not None
        context.setdefault("username", "")
        context.setdefault("next_path", None)
        response = portal.render(request, "login.html", status_code, title="Sign in",
                                 csrf_token=sandbox.csrf_token(prelogin), **context)  # fmt: skip
        if fresh:
            response.set_cookie(PRELOGIN_COOKIE, prelogin, httponly=True, samesite="lax", path="/")
        return response

    def mfa_page(request: Request, user: User, status_code: int = 200, **context: Any) -> HTMLResponse:
        destination = None
        if user.mfa == "sms" and user.phone:
            destination = f"(•••) •••-{user.phone[-4:]}"
        elif user.mfa == "email" and user.email:
            local, _, domain = user.email.partition("@")
            destination = f"{local[:1]}•••@{domain}"
        return portal.render(request, "mfa.html", status_code, title="Two-step verification", mfa=user.mfa,
                             destination=destination, **context)  # fmt: skip

    def signed_in(request: Request, user: User, next_path: str | None, *, remember: bool = False,
                  session_token: str | None = None) -> Response:  # fmt: skip
        tenant = portal.tenant(request)
        token = session_token or tenant.auth.start_session(user.username)
        response = portal.redirect(request, next_path or "/dispatch")
        portal.delete_cookie(request, response, MFA_COOKIE)
        portal.set_cookie(request, response, SESSION_COOKIE, token)
        if remember:
            days = int(tenant.auth.policy.device_ttl.total_seconds())
            portal.set_cookie(request, response, DEVICE_COOKIE, tenant.auth.remember_device(user.username),
                              max_age=days)  # fmt: skip
        return response

    # ----- single sign-on through a mock identity provider on the same server ("Northwind Identity")
    def sso_code(tenant: str, username: str, expires: int) -> str:
        payload = f"{tenant}|{username}|{expires}|{secrets.token_hex(8)}"
        mac = hmac.new(sandbox._csrf_key, b"sso|" + payload.encode(), hashlib.sha256).hexdigest()
        return base64.urlsafe_b64encode(f"{payload}|{mac}".encode()).decode()

    used_codes: set[str] = set()

    @app.get("/sso/start")
    def sso_start(request: Request, next: str | None = None) -> Response:
        state = secrets.token_urlsafe(16)
        callback = str(request.base_url).rstrip("/") + info(request).base + "/sso/callback"
        query = urlencode({"client_id": f"sera-{info(request).tenant}", "redirect_uri": callback, "state": state})
        response = RedirectResponse(f"/idp/authorize?{query}", status_code=303)
        portal.set_cookie(request, response, SSO_STATE_COOKIE, f"{state}|{local_path(next) or ''}", max_age=600)
        return response

    def idp_page(request: Request, *, tenant: str, state: str, redirect_uri: str, email: str = "",
                 error: str | None = None) -> HTMLResponse:  # fmt: skip
        return portal.render(request, "idp_login.html", title="Northwind Identity", action="/idp/authorize",
                             state=state, redirect_uri=redirect_uri, email=email, error=error, tenant=tenant)

    @app.get("/idp/authorize", response_class=HTMLResponse)
    def idp_form(request: Request, client_id: str = "", redirect_uri: str = "", state: str = "") -> Response:
        return idp_page(request, tenant=client_id.removeprefix("sera-") or "?", state=state, redirect_uri=redirect_uri)

    @app.post("/idp/authorize", response_class=HTMLResponse)
    def idp_submit(
        request: Request,
        email: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        state: Annotated[str, Form()] = "",
        redirect_uri: Annotated[str, Form()] = "",
    ) -> Response:
        parts = urlsplit(redirect_uri)
        match = _TENANT_PREFIX.match(parts.path)
        tenant_slug = match.group(1) if match else TENANT
        users = TENANT_USERS.get(tenant_slug, {})
        user = next((u for u in users.values() if u.sso and u.email and u.email.lower() == email.strip().lower()),
                    None)  # fmt: skip
        if user is None or not hmac.compare_digest(user.password, password) or not parts.path.endswith("/sso/callback"):
            return idp_page(request, tenant=tenant_slug, state=state, redirect_uri=redirect_uri, email=email,
                            error="Incorrect e-mail or password.")
        expires = int(sandbox.clock.now().timestamp()) + 60
        code = sso_code(tenant_slug, user.username, expires)
        return RedirectResponse(f"{redirect_uri}?{urlencode({'code': code, 'state': state})}", status_code=303)

    @app.get("/sso/callback")
    def sso_callback(request: Request, code: str = "", state: str = "") -> Response:
        saved = portal.cookie(request, SSO_STATE_COOKIE) or ""
        saved_state, _, next_path = saved.partition("|")
        try:
            tenant_slug, username, expires, nonce, mac = base64.urlsafe_b64decode(code.encode()).decode().split("|")
        except (ValueError, UnicodeDecodeError):
            tenant_slug = username = expires = nonce = mac = ""
        payload = f"{tenant_slug}|{username}|{expires}|{nonce}"
        good = hmac.new(sandbox._csrf_key, b"sso|" + payload.encode(), hashlib.sha256).hexdigest()
        valid = (bool(mac) and hmac.compare_digest(good, mac) and bool(saved_state)
                 and hmac.compare_digest(saved_state, state) and tenant_slug == info(request).tenant
                 and expires.isdigit() and int(expires) >= sandbox.clock.now().timestamp()
                 and code not in used_codes)  # fmt: skip
        if not valid:
            return login_page(request, error=MSG_SSO_FAILED)
        used_codes.add(code)
        user = portal.tenant(request).auth.users[username]
        response = signed_in(request, user, local_path(next_path))
        portal.delete_cookie(request, response, SSO_STATE_COOKIE)
        return response

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        live = portal.tenant(request).auth.session(portal.cookie(request, SESSION_COOKIE)) is not None
        return portal.redirect(request, "/dispatch" if live else "/login")

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None, expired: str | None = None,
                   error: str | None = None, changed: str | None = None) -> Response:  # fmt: skip
        next_path = local_path(next)
        if portal.tenant(request).auth.session(portal.cookie(request, SESSION_COOKIE)) is not None:
            return portal.redirect(request, next_path or "/dispatch")
        notice = MSG_TOO_MANY_CODES if error == "too_many_attempts" else None
        notice = MSG_PASSWORD_CHANGED if changed == "1" else notice
        return login_page(request, expired=expired == "1", notice=notice, next_path=next_path)

    @app.post("/login", response_class=HTMLResponse)
    def login_submit(
        request: Request,
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "",
    ) -> Response:
        next_path = local_path(next)
        prelogin = request.cookies.get(PRELOGIN_COOKIE)
        expected = sandbox.csrf_token(prelogin) if prelogin else ""
        if not prelogin or not hmac.compare_digest(expected, csrf_token):
            return login_page(request, notice=MSG_CSRF, next_path=next_path, rotate=True)
        auth = portal.tenant(request).auth
        outcome, user = auth.check_password(username.strip(), password)
        if outcome is Outcome.LOCKED:
            return login_page(request, error=MSG_LOCKED, username=username, next_path=next_path)
        if user is None:
            return login_page(request, error=MSG_INVALID_LOGIN, username=username, next_path=next_path)
        if user.password_expired:
            response = portal.redirect(request, "/password-expired")
            portal.set_cookie(request, response, MFA_COOKIE, auth.start_pending(user, next_path))
            return response
        known_device = auth.trusted_device(portal.cookie(request, DEVICE_COOKIE), user.username)
        if user.confirm_new_device and not known_device:
            response = portal.redirect(request, "/device-check")
            portal.set_cookie(request, response, MFA_COOKIE, auth.start_pending(user, next_path))
            return response
        if user.mfa == "none" or known_device:
            return signed_in(request, user, next_path)
        response = portal.redirect(request, "/mfa")
        portal.set_cookie(request, response, MFA_COOKIE, auth.start_pending(user, next_path))
        return response

    def pending_user(request: Request) -> tuple[str, User] | None:
        auth = portal.tenant(request).auth
        token = portal.cookie(request, MFA_COOKIE)
        pending = auth.pending(token)
        if pending is None or token is None:
            return None
        return token, auth.users[pending.username]

    @app.get("/mfa", response_class=HTMLResponse)
    def mfa_form(request: Request, resent: str | None = None) -> Response:
        found = pending_user(request)
        if found is None or found[1].password_expired:
            return portal.redirect(request, "/login")
        notice = (
            f"We sent a new code to {'your phone' if found[1].mfa == 'sms' else 'your e-mail'}." if resent else None
        )
        return mfa_page(request, found[1], notice=notice)

    @app.post("/mfa", response_class=HTMLResponse)
    def mfa_submit(
        request: Request, code: Annotated[str, Form()] = "", remember: Annotated[str, Form()] = ""
    ) -> Response:
        found = pending_user(request)
        if found is None or found[1].password_expired:
            return portal.redirect(request, "/login")
        token, user = found
        outcome, session_token, next_path = portal.tenant(request).auth.verify_code(token, code)
        if outcome is Outcome.INVALID:
            return mfa_page(request, user, error=MSG_INVALID_CODE)
        if outcome is Outcome.EXPIRED:
            return mfa_page(request, user, error=MSG_CODE_EXPIRED)
        if outcome is not Outcome.OK or session_token is None:
            response = RedirectResponse(portal.login_url(request, error="too_many_attempts"), status_code=303)
            portal.delete_cookie(request, response, MFA_COOKIE)
            return response
        return signed_in(request, user, next_path, remember=bool(remember), session_token=session_token)

    @app.post("/mfa/resend")
    def mfa_resend(request: Request) -> Response:
        found = pending_user(request)
        if found is None or found[1].mfa not in ("sms", "email"):
            return portal.redirect(request, "/login")
        portal.tenant(request).auth.resend(found[0])  # silently nothing inside the cooldown
        return portal.redirect(request, "/mfa?resent=1")

    @app.get("/device-check", response_class=HTMLResponse)
    def device_check(request: Request) -> Response:
        """A device the portal does not know: the user must open the link it e-mailed, on this device."""
        found = pending_user(request)
        if found is None or not found[1].confirm_new_device:
            return portal.redirect(request, "/login")
        email = found[1].email or ""
        name, _, domain = email.partition("@")
        masked = f"{name[:1]}{'•' * max(len(name) - 1, 1)}@{domain}" if domain else "your e-mail address"
        return portal.render(request, "device_check.html", title=MSG_NEW_DEVICE, heading=MSG_NEW_DEVICE,
                             sent_to=masked)  # fmt: skip

    @app.get("/password-expired", response_class=HTMLResponse)
    def password_expired(request: Request) -> Response:
        found = pending_user(request)
        if found is None or not found[1].password_expired:
            return portal.redirect(request, "/login")
        return portal.render(request, "password_expired.html", title=MSG_PASSWORD_EXPIRED, heading=MSG_PASSWORD_EXPIRED)

    @app.post("/password-expired", response_class=HTMLResponse)
    def password_change(
        request: Request,
        current_password: Annotated[str, Form()] = "",
        new_password: Annotated[str, Form()] = "",
        confirm_password: Annotated[str, Form()] = "",
    ) -> Response:
        found = pending_user(request)
        if found is None or not found[1].password_expired:
            return portal.redirect(request, "/login")
        token, user = found
        error = None
        if not hmac.compare_digest(user.password.encode(), current_password.encode()):
            error = "Your current password is not correct."
        elif len(new_password) < 12:
            error = "The new password must be at least 12 characters long."
        elif new_password == user.password:
            error = "The new password must differ from the current one."
        elif new_password != confirm_password:
            error = "The new passwords do not match."
        if error:
            return portal.render(request, "password_expired.html", 422, title=MSG_PASSWORD_EXPIRED,
                                 heading=MSG_PASSWORD_EXPIRED, error=error)  # fmt: skip
        auth = portal.tenant(request).auth
        auth.change_password(user.username, new_password)
        portal.tenant(request).writes["users"] += 1
        response = RedirectResponse(portal.login_url(request, changed=1), status_code=303)
        portal.delete_cookie(request, response, MFA_COOKIE)
        return response

    @app.get("/logout")
    def logout(request: Request) -> Response:
        portal.tenant(request).auth.end_session(portal.cookie(request, SESSION_COOKIE))
        response = portal.redirect(request, "/login")
        portal.delete_cookie(request, response, SESSION_COOKIE)
        return response

    @app.post("/session/refresh")
    def session_refresh(request: Request) -> Response:
        """Keep-alive that rotates the session cookie: the old value stops working at once."""
        auth = portal.tenant(request).auth
        new = auth.rotate(portal.cookie(request, SESSION_COOKIE))
        session = auth.session(new)
        if new is None or session is None:
            return JSONResponse({"error": "session expired", "login": portal.login_url(request, expired=1)},
                                status_code=401)  # fmt: skip
        response = JSONResponse({"ok": True, **auth.session_expiry(session)})
        portal.set_cookie(request, response, SESSION_COOKIE, new)
        return response

    @app.post("/whats-new/dismiss")
    def whats_new_dismiss(request: Request, next: Annotated[str, Form()] = "") -> Response:
        response = portal.redirect(request, local_path(next) or "/dispatch")
        portal.set_cookie(request, response, WHATS_NEW_COOKIE, "dismissed", max_age=365 * 86400)
        return response

    @app.post("/cookies/accept")
    def cookies_accept(request: Request, next: Annotated[str, Form()] = "") -> Response:
        response = portal.redirect(request, local_path(next) or "/")
        response.set_cookie(CONSENT_COOKIE, "accepted", max_age=365 * 86400, samesite="lax", path="/")
        return response
