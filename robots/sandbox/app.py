"""The sandbox Sera portal as a FastAPI app: server-rendered pages, real sign-in rules, control endpoints.

Pages behave like the real portal (C1, DOMAIN.md); `/_sandbox/*` are JSON control endpoints for tests and
are never linked from a page. No request ever gets a Python traceback: errors render the portal's own pages.
"""

from __future__ import annotations

import collections
import hashlib
import hmac
import logging
import math
import random
import re
import secrets
import sqlite3
import threading
import time
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
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

from . import formatting as fmt
from .accounts import TENANT, TENANT_NAME, TIME_ZONE, User
from .auth import AuthPolicy, AuthState, Outcome
from .clock import SandboxClock, format_instant, parse_instant

logger = logging.getLogger("robots.sandbox")

SESSION_COOKIE = "sera_session"
PRELOGIN_COOKIE = "sera_login"
MFA_COOKIE = "sera_mfa"
PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
REQUEST_LOG_SIZE = 500

MSG_INVALID_LOGIN = "Invalid username or password."
MSG_CSRF = "Your session timed out. Please sign in again."
MSG_TOO_MANY_CODES = "Too many attempts. Please sign in again."
MSG_LOCKED = "Too many failed sign-in attempts. Your account is locked; try again in 15 minutes."
MSG_INVALID_CODE = "Invalid verification code."

_TEMPLATES = jinja2.Environment(
    loader=jinja2.FileSystemLoader(Path(__file__).parent / "templates"),
    autoescape=jinja2.select_autoescape(["html"]),
    trim_blocks=True,
    lstrip_blocks=True,
)

_ERRORS = {
    400: ("Bad request", "The request could not be understood."),
    403: ("Access denied", "You do not have permission to view this page."),
    404: ("Page not found", "We couldn't find the page you were looking for."),
    405: ("Not allowed", "This action is not available here."),
    500: ("Something went wrong", "An unexpected error occurred. Please try again; if it keeps happening, "
                                  "contact Sera support with the reference below."),
}  # fmt: skip


def render(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    context.setdefault("tenant", TENANT)
    context.setdefault("tenant_name", TENANT_NAME)
    return HTMLResponse(_TEMPLATES.get_template(name).render(**context), status_code=status_code)


def error_page(status: int, reference: str | None = None) -> HTMLResponse:
    heading, message = _ERRORS.get(status, (f"Error {status}", "The request could not be completed."))
    return render("error.html", status, title=heading, status=status, heading=heading, message=message,
                  reference=reference)  # fmt: skip


class _LoginRequired(Exception):
    def __init__(self, location: str, clear_cookie: bool) -> None:
        super().__init__(location)
        self.location = location
        self.clear_cookie = clear_cookie


@dataclass
class Sandbox:
    """Everything one portal instance holds: its database, the pristine copy reset restores, auth state."""

    db_path: Path
    clock: SandboxClock
    auth: AuthState
    zone: ZoneInfo = field(default_factory=lambda: ZoneInfo(TIME_ZONE))
    requests: collections.deque[dict[str, Any]] = field(
        default_factory=lambda: collections.deque(maxlen=REQUEST_LOG_SIZE)
    )

    def __post_init__(self) -> None:
        self.db_lock = threading.Lock()
        self.db = sqlite3.connect(self.db_path, check_same_thread=False)
        self.db.row_factory = sqlite3.Row
        # The pristine copy lives in memory: reset is one page-by-page backup, a few milliseconds.
        self._pristine = sqlite3.connect(":memory:", check_same_thread=False)
        self.db.backup(self._pristine)
        meta = {str(row[0]): str(row[1]) for row in self.query("SELECT key, value FROM meta")}
        self.seed = int(meta["seed"])
        self.size = str(meta["size"])
        self._csrf_key = secrets.token_bytes(32)

    def query(self, sql: str, params: tuple[Any, ...] | list[Any] = ()) -> list[sqlite3.Row]:
        with self.db_lock:
            return self.db.execute(sql, params).fetchall()

    def customer_count(self) -> int:
        return int(self.query("SELECT COUNT(*) FROM customers")[0][0])

    def reset(self) -> int:
        with self.db_lock:
            self._pristine.backup(self.db)
        self.auth.clear()
        self.clock.reset()
        self.requests.clear()
        return self.customer_count()

    def close(self) -> None:
        with self.db_lock:
            self.db.close()
            self._pristine.close()

    def csrf_token(self, prelogin: str) -> str:
        return hmac.new(self._csrf_key, prelogin.encode(), hashlib.sha256).hexdigest()


class _Guard:
    """Outermost app middleware: logs each request (never bodies or cookies) and turns any exception that
    escaped into the portal's 500 page, so no client ever sees a traceback."""

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

        async def send_wrapper(message: Message) -> None:
            nonlocal status, response_started
            if message["type"] == "http.response.start":
                status = message["status"]
                response_started = True
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        except Exception:
            reference = secrets.token_hex(4).upper()
            logger.exception("sandbox: unhandled error on %s %s (reference %s)", scope["method"], scope["path"],
                             reference)  # fmt: skip
            if not response_started:
                await error_page(500, reference)(scope, receive, send_wrapper)
        finally:
            if scope["path"] != "/_sandbox/requests":
                self.sandbox.requests.append({
                    "method": scope["method"],
                    "path": scope["path"],
                    "query": scope.get("query_string", b"").decode("latin-1"),
                    "status": status,
                    "at": format_instant(self.sandbox.clock.now()),
                    "duration_ms": round((time.perf_counter() - started) * 1000, 2),
                })  # fmt: skip


def _local_path(value: str | None) -> str | None:
    """`value` if it is a path on this site (open redirects are refused), else None."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return None
    parts = urlsplit(value)
    return value if not parts.scheme and not parts.netloc else None


def _login_url(**params: Any) -> str:
    params = {k: v for k, v in params.items() if v}
    return "/login" + ("?" + urlencode(params, safe="/") if params else "")


def _parse_int(text: str | None) -> int | None:
    try:
        return int(text) if text is not None and text.strip().isdigit() else None
    except ValueError:
        return None


def create_app(db_path: str | Path, *, clock: SandboxClock | None = None, policy: AuthPolicy | None = None) -> FastAPI:
    """The portal over the database at `db_path` (a copy the app may change; reset restores it)."""
    clock = clock or SandboxClock()
    sandbox = Sandbox(Path(db_path), clock, AuthState(clock, policy=policy or AuthPolicy()))
    app = FastAPI(title="Sera sandbox", docs_url=None, redoc_url=None, openapi_url=None)
    app.state.sandbox = sandbox
    app.add_middleware(_Guard, sandbox=sandbox)

    # -- errors --------------------------------------------------------------------------------------

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException) -> Response:
        if request.url.path.startswith("/_sandbox/"):
            return JSONResponse({"error": exc.detail}, status_code=exc.status_code)
        return error_page(exc.status_code)

    @app.exception_handler(RequestValidationError)
    async def invalid_request(request: Request, exc: RequestValidationError) -> Response:
        return error_page(400)

    @app.exception_handler(_LoginRequired)
    async def login_required(request: Request, exc: _LoginRequired) -> Response:
        response = RedirectResponse(exc.location, status_code=303)
        if exc.clear_cookie:
            response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- helpers -------------------------------------------------------------------------------------

    def current_user(request: Request) -> User:
        token = request.cookies.get(SESSION_COOKIE)
        session = sandbox.auth.session(token)
        if session is None:
            target = request.url.path + (f"?{request.url.query}" if request.url.query else "")
            raise _LoginRequired(_login_url(expired=1 if token else None, next=target), clear_cookie=bool(token))
        return sandbox.auth.users[session.username]

    def login_page(request: Request, *, status_code: int = 200, **context: Any) -> HTMLResponse:
        prelogin = request.cookies.get(PRELOGIN_COOKIE)
        fresh = not prelogin or context.pop("rotate", False)
        if fresh:
            prelogin = secrets.token_urlsafe(24)
        assert prelogin is not None
        context.setdefault("username", "")
        context.setdefault("next_path", None)
        response = render("login.html", status_code, title="Sign in", csrf_token=sandbox.csrf_token(prelogin),
                          **context)  # fmt: skip
        if fresh:
            response.set_cookie(PRELOGIN_COOKIE, prelogin, httponly=True, samesite="lax", path="/")
        return response

    def customer_view(row: sqlite3.Row) -> dict[str, Any]:
        return {
            "id": row["id"],
            "number": row["number"],
            "name": row["name"],
            "type": fmt.TYPE_LABELS[row["type"]],
            "email": row["email"] or "",
            "phone": fmt.phone(row["phone"]),
            "city": row["city"],
            "state": row["state"],
            "balance": fmt.money(row["balance_cents"]),
            "created": fmt.local_datetime(row["created_at"], sandbox.zone),
            "status": fmt.STATUS_LABELS[row["status"]],
            "status_key": row["status"],
        }

    # -- sign-in -------------------------------------------------------------------------------------

    @app.get("/", include_in_schema=False)
    def home(request: Request) -> Response:
        signed_in = sandbox.auth.session(request.cookies.get(SESSION_COOKIE)) is not None
        return RedirectResponse("/dispatch" if signed_in else "/login", status_code=303)

    @app.get("/login", response_class=HTMLResponse)
    def login_form(request: Request, next: str | None = None, expired: str | None = None,
                   error: str | None = None) -> Response:  # fmt: skip
        next_path = _local_path(next)
        if sandbox.auth.session(request.cookies.get(SESSION_COOKIE)) is not None:
            return RedirectResponse(next_path or "/dispatch", status_code=303)
        notice = MSG_TOO_MANY_CODES if error == "too_many_attempts" else None
        return login_page(request, expired=expired == "1", notice=notice, next_path=next_path)

    @app.post("/login", response_class=HTMLResponse)
    def login_submit(
        request: Request,
        username: Annotated[str, Form()] = "",
        password: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
        next: Annotated[str, Form()] = "",
    ) -> Response:
        next_path = _local_path(next)
        prelogin = request.cookies.get(PRELOGIN_COOKIE)
        expected = sandbox.csrf_token(prelogin) if prelogin else ""
        if not prelogin or not hmac.compare_digest(expected, csrf_token):
            return login_page(request, notice=MSG_CSRF, next_path=next_path, rotate=True)
        outcome, user = sandbox.auth.check_password(username.strip(), password)
        if outcome is Outcome.LOCKED:
            return login_page(request, error=MSG_LOCKED, username=username, next_path=next_path)
        if user is None:
            return login_page(request, error=MSG_INVALID_LOGIN, username=username, next_path=next_path)
        response = RedirectResponse("/mfa", status_code=303)
        token = sandbox.auth.start_pending(user, next_path)
        response.set_cookie(MFA_COOKIE, token, httponly=True, samesite="lax", path="/")
        return response

    @app.get("/mfa", response_class=HTMLResponse)
    def mfa_form(request: Request) -> Response:
        if sandbox.auth.pending(request.cookies.get(MFA_COOKIE)) is None:
            return RedirectResponse("/login", status_code=303)
        return render("mfa.html", title="Two-step verification")

    @app.post("/mfa", response_class=HTMLResponse)
    def mfa_submit(request: Request, code: Annotated[str, Form()] = "") -> Response:
        token = request.cookies.get(MFA_COOKIE)
        if sandbox.auth.pending(token) is None:
            return RedirectResponse("/login", status_code=303)
        assert token is not None
        outcome, session_token, next_path = sandbox.auth.verify_code(token, code)
        if outcome is Outcome.INVALID:
            return render("mfa.html", title="Two-step verification", error=MSG_INVALID_CODE)
        if outcome is not Outcome.OK or session_token is None:
            response = RedirectResponse(_login_url(error="too_many_attempts"), status_code=303)
            response.delete_cookie(MFA_COOKIE, path="/")
            return response
        response = RedirectResponse(next_path or "/dispatch", status_code=303)
        response.delete_cookie(MFA_COOKIE, path="/")
        response.set_cookie(SESSION_COOKIE, session_token, httponly=True, samesite="lax", path="/")
        return response

    @app.get("/logout")
    def logout(request: Request) -> Response:
        sandbox.auth.end_session(request.cookies.get(SESSION_COOKIE))
        response = RedirectResponse("/login", status_code=303)
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response

    # -- portal pages --------------------------------------------------------------------------------

    @app.get("/dispatch", response_class=HTMLResponse)
    def dispatch(request: Request, date: str | None = None) -> Response:
        user = current_user(request)
        today = clock.now().astimezone(sandbox.zone).date()
        day = _parse_date(date) or today
        return render(
            "dispatch.html",
            title="Dispatch board",
            user=user,
            active="dispatch",
            day=day,
            day_label=fmt.long_date(datetime(day.year, day.month, day.day)),
            prev_day=(day - timedelta(days=1)).isoformat(),
            next_day=(day + timedelta(days=1)).isoformat(),
            hours=[f"{h % 12 or 12} {'AM' if h < 12 else 'PM'}" for h in range(8, 18)],
            board=_board(sandbox, day),
        )

    @app.get("/customers", response_class=HTMLResponse)
    def customers(request: Request, page: str | None = None, page_size: str | None = None,
                  q: str | None = None) -> Response:  # fmt: skip
        user = current_user(request)
        size = _parse_int(page_size)
        size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
        text = (q or "").strip()
        where, params = _search(text)
        total = int(sandbox.query(f"SELECT COUNT(*) FROM customers {where}", params)[0][0])
        pages = max(1, math.ceil(total / size))
        number = _parse_int(page)
        if number is None or not 1 <= number <= pages:
            number = 1  # what the real portal does, and why robots must not loop "until empty"
        rows = sandbox.query(f"SELECT * FROM customers {where} ORDER BY id LIMIT ? OFFSET ?",
                             [*params, size, (number - 1) * size])  # fmt: skip

        def href(n: int) -> str:
            query: dict[str, Any] = {"page": n}
            if size != DEFAULT_PAGE_SIZE or page_size is not None:
                query["page_size"] = size
            if text:
                query["q"] = text
            return "/customers?" + urlencode(query)

        return render(
            "customers.html",
            title="Customers",
            user=user,
            active="customers",
            q=text,
            page_size=size,
            default_page_size=DEFAULT_PAGE_SIZE,
            rows=[customer_view(r) for r in rows],
            total=total,
            total_label=f"{total:,}",
            first_row=(number - 1) * size + 1,
            last_row=(number - 1) * size + len(rows),
            prev_href=href(number - 1) if number > 1 else None,
            next_href=href(number + 1) if number < pages else None,
            page_links=_page_window(number, pages, href),
        )

    @app.get("/customers/{customer_id}", response_class=HTMLResponse)
    def customer_detail(request: Request, customer_id: str) -> Response:
        user = current_user(request)
        cid = _parse_int(customer_id)
        rows = sandbox.query("SELECT * FROM customers WHERE id = ?", [cid]) if cid is not None else []
        if not rows:
            return error_page(404)
        view = customer_view(rows[0])
        return render("customer.html", title=view["name"], user=user, active="customers", c=view)

    # -- control endpoints (tests only; never linked) -------------------------------------------------

    @app.get("/_sandbox/clock", include_in_schema=False)
    def clock_get() -> dict[str, str]:
        return {"now": format_instant(clock.now())}

    @app.post("/_sandbox/clock", include_in_schema=False)
    async def clock_post(request: Request) -> Response:
        try:
            body = await request.json()
            if not isinstance(body, dict):
                raise ValueError("expected a JSON object")
            if body.get("reset"):
                now = clock.reset()
            elif "set" in body:
                now = clock.set(parse_instant(str(body["set"])))
            elif "advance" in body:
                now = clock.advance(float(body["advance"]))
            else:
                raise ValueError('expected one of {"set": ISO8601}, {"advance": seconds}, {"reset": true}')
        except (ValueError, TypeError) as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        return JSONResponse({"now": format_instant(now)})

    @app.post("/_sandbox/reset", include_in_schema=False)
    def reset() -> dict[str, Any]:
        return {"ok": True, "customers": sandbox.reset()}

    @app.get("/_sandbox/stats", include_in_schema=False)
    def stats() -> dict[str, Any]:
        return {"customers": sandbox.customer_count(), "seed": sandbox.seed, "size": sandbox.size}

    @app.get("/_sandbox/requests", include_in_schema=False)
    async def requests_log() -> list[dict[str, Any]]:
        return list(sandbox.requests)

    @app.get("/_sandbox/error", include_in_schema=False)
    def deliberate_error() -> None:
        raise RuntimeError("deliberate error from /_sandbox/error")

    return app


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _search(text: str) -> tuple[str, list[Any]]:
    if not text:
        return "", []
    like = "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"
    clauses = [f"{col} LIKE ? ESCAPE '\\'" for col in ("name", "number", "email", "city")]
    params: list[Any] = [like] * len(clauses)
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 3 and len(digits) >= len(text.replace(" ", "")) // 2:  # looks like a phone number
        clauses.append("phone LIKE ?")
        params.append(f"%{digits}%")
    return "WHERE " + " OR ".join(clauses), params


def _page_window(current: int, pages: int, href: Any, radius: int = 2) -> list[dict[str, Any]]:
    """Numbered links around the current page, with the first and last page and gaps between."""
    shown = sorted({1, pages, *range(max(1, current - radius), min(pages, current + radius) + 1)})
    items: list[dict[str, Any]] = []
    previous = 0
    for n in shown:
        if n - previous > 1:
            items.append({"gap": True})
        items.append({"gap": False, "number": n, "current": n == current, "href": href(n)})
        previous = n
    return items


_TECHNICIANS = ["Marcus Reyes", "Tara Nguyen", "Luis Ortega", "Kim Patel", "Dwayne Brooks"]
_APPOINTMENT_STATES = [
    ("Pending (Unassigned)", "pending"), ("Pending (Assigned)", "assigned"), ("Accepted (Pre-Work)", "accepted"),
    ("Accepted (Start Trip)", "accepted"), ("Running", "running"), ("Completed (Won Opportunity)", "won"),
    ("Completed (Lost Opportunity)", "lost"),
]  # fmt: skip
_JOB_TYPES = ["AC Tune-Up", "Furnace Repair", "Water Heater", "Drain Cleaning", "Leak Repair", "Install Estimate"]


def _board(sandbox: Sandbox, day: date) -> list[dict[str, Any]]:
    """A placeholder board that is the same every time for a given day."""
    rng = random.Random(f"dispatch-{sandbox.seed}-{day.isoformat()}")
    count = sandbox.customer_count()
    board = []
    for name in _TECHNICIANS:
        slots: list[dict[str, str] | None] = [None] * 10
        for start in rng.sample(range(0, 10, 2), k=rng.randint(0, 3)):
            status, css = rng.choice(_APPOINTMENT_STATES)
            row = sandbox.query("SELECT name FROM customers WHERE id = ?", [1001 + rng.randrange(max(count, 1))])
            who = row[0]["name"] if row else "Walk-in"
            slots[start] = {"label": f"{rng.choice(_JOB_TYPES)} · {who}", "status": status, "css": css}
        board.append({"name": name, "slots": slots})
    return board
