"""The sandbox's second front end: a single-page app (Vue 3 + Vuetify 3, sources in `spa/`) at `/app/` with hash
routes, over JSON endpoints at `/app/api/*` that read and write the same tenant databases as the server-rendered
pages (through `TenantData.write` and office.py's shared writers) and sign in by the same rules (password, then the
second factor; the same sessions and cookies, so a session from either front end works in the other).

Every data call waits a delay drawn from MIN-MAX ms (ROBOTS_SANDBOX_APP_LATENCY, default 150-400) by a random stream
seeded with the sandbox's seed: the same calls get the same delays after every reset. The request log records it
per call (`latency_ms`); `GET/POST /_sandbox/app` reads or changes it, and the undo window of the app's edits (5 s),
until the next reset. The compiled app comes from the build cache (spa_build.py); when it is missing, `/app/` is a
503 page naming the command that builds it.
"""

from __future__ import annotations

import asyncio
import mimetypes
import random
import re
import threading
from datetime import datetime, timedelta
from pathlib import Path
from typing import Any

from fastapi import FastAPI, Request
from fastapi.responses import FileResponse, HTMLResponse, JSONResponse, Response

from . import spa_build
from .accounts import User
from .app import (
    DEVICE_COOKIE,
    MFA_COOKIE,
    MSG_CODE_EXPIRED,
    MSG_INVALID_CODE,
    MSG_INVALID_LOGIN,
    MSG_LOCKED,
    MSG_TOO_MANY_CODES,
    PERMISSIONS,
    SESSION_COOKIE,
    SandboxPortal,
    TenantData,
    info,
    parse_int,
)
from .auth import Outcome
from .clock import format_instant
from .data import JOB_TYPES, WORK_ORDER_STATUSES
from .office import PRIORITIES, _address, create_work_order, update_customer, validate_customer

WORK_ORDER_PAGE_SIZES = (10, 25, 50)
DEFAULT_UNDO_MS = 5000
MSG_SIGN_IN = "Please sign in to continue."
MSG_SIGN_IN_AGAIN = "Your session timed out. Please sign in again."
MSG_FORBIDDEN = "You don't have permission to view this page."
MSG_XHR = "This endpoint answers the app's own calls only (X-Requested-With: XMLHttpRequest)."
_LATENCY = re.compile(r"^\s*(\d+(?:\.\d+)?)\s*(?:-\s*(\d+(?:\.\d+)?)\s*)?$")


def parse_latency(text: str, where: str = "ROBOTS_SANDBOX_APP_LATENCY") -> tuple[float, float]:
    """'150-400' -> (150.0, 400.0); '200' -> (200.0, 200.0); '0' switches it off. ValueError naming `where`."""
    match = _LATENCY.match(text or "")
    low = float(match.group(1)) if match else -1.0
    high = float(match.group(2)) if match and match.group(2) is not None else low
    if not match or high < low:
        raise ValueError(f"{where} must be a delay in milliseconds, MIN-MAX like 150-400 or one number like 200; "
                         f"got {text!r}")  # fmt: skip
    return low, high


def configured_latency() -> tuple[float, float]:
    from robots.settings import settings

    return parse_latency(settings().sandbox_app_latency)


class AppSettings:
    """The app's knobs: the delay of each data call, uniform in [low, high] ms from a stream seeded by the sandbox's
    seed, and how long an edit can be undone before the app saves it (`undo_ms`, given to the app at sign-in)."""

    def __init__(self, seed: int, baseline: tuple[float, float], undo_ms: int = DEFAULT_UNDO_MS) -> None:
        self.seed = seed
        self.baseline = baseline
        self.baseline_undo_ms = undo_ms
        self._lock = threading.Lock()
        self.reset()

    def reset(self) -> None:
        with self._lock:
            self.low, self.high = self.baseline
            self.undo_ms = self.baseline_undo_ms
            self._rng = random.Random(f"sera-app-latency-{self.seed}")

    def set(self, low: float, high: float) -> None:
        with self._lock:
            self.low, self.high = low, high

    def draw(self) -> float:
        with self._lock:
            return round(self._rng.uniform(self.low, self.high), 1) if self.high > 0 else 0.0

    def to_json(self) -> dict[str, Any]:
        return {"latency_ms": [self.low, self.high], "seed": self.seed, "undo_ms": self.undo_ms}


class _Refusal(Exception):
    def __init__(self, status: int, body: dict[str, Any]) -> None:
        super().__init__(body.get("error", ""))
        self.status = status
        self.body = body


def customer_json(row: Any) -> dict[str, Any]:
    """A customer as the app's API gives it: the stored values (cents, UTC instants, digits-only phone)."""
    return {
        "id": row["id"], "number": row["number"], "name": row["name"], "type": row["type"], "email": row["email"],
        "phone": row["phone"], "city": row["city"], "state": row["state"], "balance_cents": row["balance_cents"],
        "status": row["status"], "tags": [t for t in (row["tags"] or "").split(",") if t],
        "created_at": row["created_at"], "modified_at": row["modified_at"],
    }  # fmt: skip


_WORK_ORDER_SELECT = (
    "SELECT w.*, c.name AS customer_name, t.name AS technician_name FROM work_orders w "
    "LEFT JOIN customers c ON c.id = w.customer_id LEFT JOIN technicians t ON t.id = w.technician_id"
)


def work_order_json(row: Any) -> dict[str, Any]:
    return {
        "id": row["id"], "number": row["number"], "customer_id": row["customer_id"],
        "customer_name": row["customer_name"] or "", "job_type": row["job_type"], "priority": row["priority"],
        "priority_label": PRIORITIES[row["priority"]], "summary": row["summary"], "status": row["status"],
        "status_label": WORK_ORDER_STATUSES[row["status"]], "scheduled_start_at": row["scheduled_start_at"],
        "scheduled_end_at": row["scheduled_end_at"], "technician_id": row["technician_id"],
        "technician_name": row["technician_name"] or "", "total_cents": row["total_cents"],
        "location_id": row["location_id"], "arrival_window": row["arrival_window"], "created_at": row["created_at"],
        "modified_at": row["modified_at"],
    }  # fmt: skip


def _missing_build_page(path: Path) -> HTMLResponse:
    from html import escape

    message = escape(spa_build.missing_build_message(path))
    return HTMLResponse(f"<!doctype html><title>Sera app not built</title><h1>The app is not built</h1>"
                        f"<p data-cy=app-not-built>{message}</p>", status_code=503)  # fmt: skip


def register(app: FastAPI, portal: SandboxPortal, *, app_latency: tuple[float, float] | None = None,
             spa_dir: Path | None = None) -> None:  # fmt: skip
    sandbox = portal.sandbox
    knobs = AppSettings(sandbox.seed, app_latency if app_latency is not None else configured_latency())
    sandbox.on_reset.append(knobs.reset)
    app.state.app_settings = knobs
    build = spa_dir if spa_dir is not None else spa_build.build_dir()

    @app.exception_handler(_Refusal)
    async def refused(request: Request, exc: _Refusal) -> Response:
        return JSONResponse(exc.body, status_code=exc.status)

    async def data_call(request: Request, *, write: bool = False) -> TenantData:
        """Every call of the app: its delay (logged), the XHR header on writes; the request's tenant."""
        delay = knobs.draw()
        info(request).latency_ms = delay
        if delay:
            await asyncio.sleep(delay / 1000)
        if write and request.headers.get("x-requested-with") != "XMLHttpRequest":
            raise _Refusal(400, {"error": MSG_XHR})
        return portal.tenant(request)

    def signed_in(request: Request, permission: str) -> User:
        tenant = portal.tenant(request)
        session = tenant.auth.session(portal.cookie(request, SESSION_COOKIE))
        if session is None:
            raise _Refusal(401, {"error": MSG_SIGN_IN, "signed_out": True})
        user = tenant.auth.users[session.username]
        if permission not in PERMISSIONS[user.role]:
            raise _Refusal(403, {"error": MSG_FORBIDDEN})
        return user

    async def body_of(request: Request) -> dict[str, Any]:
        try:
            body = await request.json()
        except ValueError:
            body = None
        if not isinstance(body, dict):
            raise _Refusal(400, {"error": "expected a JSON object"})
        return body

    def text(body: dict[str, Any], key: str) -> str:
        value = body.get(key)
        return value if isinstance(value, str) else ""

    def now_utc() -> str:
        return format_instant(sandbox.clock.now())[:19] + "Z"

    # -- the page and its files -------------------------------------------------------------------------

    @app.get("/app", include_in_schema=False)
    def app_root(request: Request) -> Response:
        return portal.redirect(request, "/app/")

    @app.get("/app/", include_in_schema=False)
    def app_page() -> Response:
        index = build / "index.html"
        if not index.is_file():
            return _missing_build_page(build)
        return FileResponse(index, media_type="text/html", headers={"Cache-Control": "no-cache"})

    @app.get("/app/assets/{name}", include_in_schema=False)
    def app_asset(name: str) -> Response:
        path = build / "assets" / name
        if "/" in name or name.startswith(".") or not path.is_file():
            return JSONResponse({"error": "not found"}, status_code=404)
        kind = mimetypes.guess_type(name)[0] or "application/octet-stream"
        return FileResponse(path, media_type=kind, headers={"Cache-Control": "max-age=31536000, immutable"})

    # -- sign-in: password, then the second factor ------------------------------------------------------

    def user_json(request: Request, user: User) -> dict[str, Any]:
        tenant = portal.tenant(request).tenant
        return {"user": {"username": user.username, "display_name": user.display_name, "role": user.role,
                         "permissions": sorted(PERMISSIONS[user.role])},
                "tenant": tenant.name, "time_zone": tenant.time_zone, "undo_ms": knobs.undo_ms}  # fmt: skip

    @app.get("/app/api/session")
    async def session_get(request: Request) -> Response:
        tenant = await data_call(request)
        session = tenant.auth.session(portal.cookie(request, SESSION_COOKIE))
        if session is None:
            return JSONResponse({"user": None})
        return JSONResponse(user_json(request, tenant.auth.users[session.username]))

    @app.post("/app/api/session")
    async def session_start(request: Request) -> Response:
        tenant = await data_call(request, write=True)
        body = await body_of(request)
        auth = tenant.auth
        outcome, user = auth.check_password(text(body, "username").strip(), text(body, "password"))
        if outcome is Outcome.LOCKED:
            return JSONResponse({"error": MSG_LOCKED}, status_code=403)
        if user is None:
            return JSONResponse({"error": MSG_INVALID_LOGIN}, status_code=401)
        base = info(request).base
        classic = "/password-expired" if user.password_expired else None
        if classic is None and user.confirm_new_device:
            classic = None if auth.trusted_device(portal.cookie(request, DEVICE_COOKIE), user.username) else (
                "/device-check")  # fmt: skip
        if classic is not None:  # steps only the server-rendered pages offer
            response = JSONResponse({"next": "classic", "location": base + classic})
            portal.set_cookie(request, response, MFA_COOKIE, auth.start_pending(user, None))
            return response
        if user.mfa == "none" or auth.trusted_device(portal.cookie(request, DEVICE_COOKIE), user.username):
            response = JSONResponse({"next": "done", **user_json(request, user)})
            portal.set_cookie(request, response, SESSION_COOKIE, auth.start_session(user.username))
            return response
        destination = ""
        if user.mfa == "sms" and user.phone:
            destination = f"(•••) •••-{user.phone[-4:]}"
        elif user.mfa == "email" and user.email:
            local, _, domain = user.email.partition("@")
            destination = f"{local[:1]}•••@{domain}"
        response = JSONResponse({"next": "code", "mfa": user.mfa, "destination": destination})
        portal.set_cookie(request, response, MFA_COOKIE, auth.start_pending(user, None))
        return response

    @app.post("/app/api/session/code")
    async def session_code(request: Request) -> Response:
        tenant = await data_call(request, write=True)
        body = await body_of(request)
        token = portal.cookie(request, MFA_COOKIE)
        pending = tenant.auth.pending(token)
        if pending is None or token is None or tenant.auth.users[pending.username].password_expired:
            return JSONResponse({"error": MSG_SIGN_IN_AGAIN, "restart": True}, status_code=401)
        outcome, session_token, _next = tenant.auth.verify_code(token, text(body, "code"))
        if outcome is Outcome.INVALID:
            return JSONResponse({"error": MSG_INVALID_CODE}, status_code=422)
        if outcome is Outcome.EXPIRED:
            return JSONResponse({"error": MSG_CODE_EXPIRED}, status_code=422)
        if outcome is not Outcome.OK or session_token is None:
            response = JSONResponse({"error": MSG_TOO_MANY_CODES, "restart": True}, status_code=401)
            portal.delete_cookie(request, response, MFA_COOKIE)
            return response
        response = JSONResponse({"next": "done", **user_json(request, tenant.auth.users[pending.username])})
        portal.delete_cookie(request, response, MFA_COOKIE)
        portal.set_cookie(request, response, SESSION_COOKIE, session_token)
        return response

    @app.delete("/app/api/session")
    async def session_end(request: Request) -> Response:
        tenant = await data_call(request, write=True)
        tenant.auth.end_session(portal.cookie(request, SESSION_COOKIE))
        response = JSONResponse({"ok": True})
        portal.delete_cookie(request, response, SESSION_COOKIE)
        return response

    # -- customers -------------------------------------------------------------------------------------

    @app.get("/app/api/customers")
    async def customers(request: Request) -> Response:
        """Every customer of the tenant, by id: the app pages, sorts and filters them itself."""
        tenant = await data_call(request)
        signed_in(request, "customers")
        rows = tenant.query("SELECT * FROM customers ORDER BY id")
        return JSONResponse({"items": [customer_json(r) for r in rows], "total": len(rows)})

    @app.get("/app/api/customers/search")
    async def customers_search(request: Request, q: str = "") -> Response:
        """The new-work-order form's autocomplete: up to 10 customers whose name or number holds `q` (2+ letters)."""
        tenant = await data_call(request)
        signed_in(request, "jobs.create")
        query = q.strip()
        if len(query) < 2:
            return JSONResponse({"items": []})
        like = "%" + re.sub(r"([\\%_])", r"\\\1", query) + "%"
        rows = tenant.query("SELECT id, number, name, city FROM customers WHERE name LIKE ? ESCAPE '\\' OR number "
                            "LIKE ? ESCAPE '\\' ORDER BY name COLLATE NOCASE, id LIMIT 10", [like, like])  # fmt: skip
        return JSONResponse({"items": [dict(r) for r in rows]})

    def customer_or_404(tenant: TenantData, customer_id: str) -> Any:
        cid = parse_int(customer_id)
        rows = tenant.query("SELECT * FROM customers WHERE id = ?", [cid]) if cid is not None else []
        if not rows:
            raise _Refusal(404, {"error": f"There is no customer {customer_id}."})
        return rows[0]

    @app.get("/app/api/customers/{customer_id}")
    async def customer(request: Request, customer_id: str) -> Response:
        tenant = await data_call(request)
        signed_in(request, "customers")
        row = customer_or_404(tenant, customer_id)
        orders = tenant.query(f"{_WORK_ORDER_SELECT} WHERE w.customer_id = ? ORDER BY w.id DESC", [row["id"]])
        return JSONResponse({**customer_json(row), "work_orders": [work_order_json(r) for r in orders]})

    @app.get("/app/api/customers/{customer_id}/locations")
    async def customer_locations(request: Request, customer_id: str) -> Response:
        tenant = await data_call(request)
        signed_in(request, "jobs.create")
        row = customer_or_404(tenant, customer_id)
        rows = tenant.query("SELECT * FROM service_locations WHERE customer_id = ? ORDER BY id", [row["id"]])
        return JSONResponse({"items": [{"id": r["id"], "name": r["name"], "address": _address(r)} for r in rows]})

    @app.put("/app/api/customers/{customer_id}")
    async def customer_update(request: Request, customer_id: str) -> Response:
        """Save an edit (the app sends it when its undo window closes): the classic form's checks and write."""
        tenant = await data_call(request, write=True)
        signed_in(request, "customers.write")
        row = customer_or_404(tenant, customer_id)
        body = await body_of(request)
        form = {key: text(body, key) for key in ("name", "type", "email", "phone", "city", "state", "status")}
        errors, clean = validate_customer(form)
        if errors:
            return JSONResponse({"error": "The customer was not saved.", "errors": errors}, status_code=422)
        update_customer(tenant, row["id"], clean, now_utc())
        return JSONResponse(customer_json(customer_or_404(tenant, customer_id)))

    # -- work orders -----------------------------------------------------------------------------------

    @app.get("/app/api/lookups")
    async def lookups(request: Request) -> Response:
        tenant = await data_call(request)
        signed_in(request, "jobs")
        today = sandbox.clock.now().astimezone(tenant.zone).date()
        return JSONResponse({"statuses": WORK_ORDER_STATUSES, "job_types": JOB_TYPES, "priorities": PRIORITIES,
                             "today": today.isoformat()})  # fmt: skip

    @app.get("/app/api/work-orders")
    async def work_orders(request: Request, page: str | None = None, per_page: str | None = None,
                          status: str | None = None) -> Response:  # fmt: skip
        """One page of work orders, newest first (as the classic jobs list), optionally of one status."""
        tenant = await data_call(request)
        signed_in(request, "jobs")
        size = parse_int(per_page)
        size = size if size in WORK_ORDER_PAGE_SIZES else 25
        where, params = ("WHERE w.status = ?", [status]) if status in WORK_ORDER_STATUSES else ("", [])
        total = int(tenant.query(f"SELECT COUNT(*) FROM work_orders w {where}", params)[0][0])
        pages = max(1, -(-total // size))
        number = parse_int(page)
        number = number if number is not None and 1 <= number <= pages else 1
        rows = tenant.query(f"{_WORK_ORDER_SELECT} {where} ORDER BY w.id DESC LIMIT ? OFFSET ?",
                            [*params, size, (number - 1) * size])  # fmt: skip
        return JSONResponse({"items": [work_order_json(r) for r in rows], "total": total, "page": number,
                             "per_page": size})  # fmt: skip

    @app.get("/app/api/work-orders/{work_order_id}")
    async def work_order(request: Request, work_order_id: str) -> Response:
        tenant = await data_call(request)
        signed_in(request, "jobs")
        wid = parse_int(work_order_id)
        rows = tenant.query(f"{_WORK_ORDER_SELECT} WHERE w.id = ?", [wid]) if wid is not None else []
        if not rows:
            return JSONResponse({"error": f"There is no work order {work_order_id}."}, status_code=404)
        history = tenant.query("SELECT * FROM work_order_history WHERE work_order_id = ? ORDER BY id", [wid])
        place = tenant.query("SELECT * FROM service_locations WHERE id = ?", [rows[0]["location_id"]])
        return JSONResponse({
            **work_order_json(rows[0]), "location": _address(place[0]) if place else "",
            "history": [{"id": h["id"], "status": h["status"], "status_label": WORK_ORDER_STATUSES[h["status"]],
                         "at": h["at"], "by": h["by"], "reason": h["reason"]} for h in history],
        })  # fmt: skip

    @app.post("/app/api/work-orders")
    async def work_order_create(request: Request) -> Response:
        """A new work order: customer, service location, job type, priority, summary, an optional start (the
        tenant's wall clock, YYYY-MM-DDTHH:MM) and its duration in hours (1 to 8)."""
        tenant = await data_call(request, write=True)
        user = signed_in(request, "jobs.create")
        body = await body_of(request)
        errors: dict[str, str] = {}
        customer_id = body.get("customer_id")
        rows = tenant.query("SELECT id FROM customers WHERE id = ?", [customer_id]) if isinstance(
            customer_id, int) and not isinstance(customer_id, bool) else []  # fmt: skip
        if not rows:
            errors["customer_id"] = "Choose a customer from the list."
        location_id = body.get("location_id")
        if rows and not tenant.query("SELECT 1 FROM service_locations WHERE id = ? AND customer_id = ?",
                                     [location_id if isinstance(location_id, int) else None, customer_id]):  # fmt: skip
            errors["location_id"] = "Choose one of the customer's service locations."
        job_type, priority = text(body, "job_type"), text(body, "priority") or "normal"
        if job_type not in JOB_TYPES:
            errors["job_type"] = "Choose a job type."
        if priority not in PRIORITIES:
            errors["priority"] = "Choose a priority."
        hours = body.get("duration_hours", 2)
        if isinstance(hours, bool) or not isinstance(hours, int | float) or not 1 <= hours <= 8:
            errors["duration_hours"] = "Enter a duration between 1 and 8 hours."
        start_utc = end_utc = None
        if body.get("scheduled_start"):
            try:
                local = datetime.strptime(text(body, "scheduled_start"), "%Y-%m-%dT%H:%M").replace(tzinfo=tenant.zone)
            except ValueError:
                errors["scheduled_start"] = "Choose a date and a time."
            else:
                if local.date() < sandbox.clock.now().astimezone(tenant.zone).date():
                    errors["scheduled_start"] = "The date cannot be in the past."
                elif "duration_hours" not in errors:
                    start_utc = format_instant(local)[:19] + "Z"
                    end_utc = format_instant(local + timedelta(hours=float(hours)))[:19] + "Z"
        if errors:
            return JSONResponse({"error": "The work order was not created.", "errors": errors}, status_code=422)
        wid = create_work_order(
            tenant, customer_id=int(customer_id), location_id=int(location_id), job_type=job_type,  # type: ignore[arg-type]
            priority=priority, summary=text(body, "summary"), start_utc=start_utc, end_utc=end_utc, arrival="",
            total_cents=0, by=user.display_name, now=now_utc(),
        )  # fmt: skip
        number = tenant.query("SELECT number FROM work_orders WHERE id = ?", [wid])[0][0]
        return JSONResponse({"id": wid, "number": number}, status_code=201)

    @app.api_route("/app/api/{rest:path}", methods=["GET", "POST", "PUT", "DELETE"], include_in_schema=False)
    async def unknown(request: Request, rest: str) -> Response:
        await data_call(request)
        return JSONResponse({"error": f"There is no endpoint /app/api/{rest}."}, status_code=404)

    # -- control ---------------------------------------------------------------------------------------

    @app.get("/_sandbox/app", include_in_schema=False)
    def control_get() -> dict[str, Any]:
        return {**knobs.to_json(), "build": str(build), "built": (build / "index.html").is_file()}

    @app.post("/_sandbox/app", include_in_schema=False)
    async def control_post(request: Request) -> Response:
        """`{"latency_ms": [MIN, MAX]}` (or one number, or "MIN-MAX"): the data calls' delay; `{"undo_ms": N}`: the
        undo window of the app's edits from its next sign-in or load. Either or both, until the next reset."""
        try:
            body = await request.json()
            if not isinstance(body, dict) or not body or set(body) - {"latency_ms", "undo_ms"}:
                raise ValueError('expected {"latency_ms": [MIN, MAX], "undo_ms": N}, either or both')
            span = None
            if "latency_ms" in body:
                value = body["latency_ms"]
                if isinstance(value, list) and len(value) == 2:
                    value = f"{value[0]}-{value[1]}"
                if isinstance(value, int | float) and not isinstance(value, bool):
                    value = str(value)
                if not isinstance(value, str):
                    raise ValueError("latency_ms must be [MIN, MAX] in milliseconds")
                span = parse_latency(value, "latency_ms")
            undo = body.get("undo_ms", knobs.undo_ms)
            if isinstance(undo, bool) or not isinstance(undo, int) or undo < 0:
                raise ValueError(f"undo_ms must be a whole number of milliseconds >= 0; got {undo!r}")
        except ValueError as exc:
            return JSONResponse({"error": str(exc)}, status_code=400)
        if span is not None:
            knobs.set(*span)
        knobs.undo_ms = undo
        return JSONResponse(control_get())
