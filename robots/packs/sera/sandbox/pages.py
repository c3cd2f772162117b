"""The signed-in portal pages: dispatch boards, customers (list, filters, detail, CSV export), jobs (numbered
pagination, detail, status transitions) and the pricebook. Each reads the tenant picked by the request."""

from __future__ import annotations

import csv
import hmac
import io
import math
import random
import re
from datetime import date, datetime, time, timedelta
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, Form, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from . import formatting as fmt
from .app import PERMISSIONS, SESSION_COOKIE, SandboxPortal, TenantData, error_page, info, parse_int
from .clock import format_instant
from .data import TAGS, TRANSITIONS, WORK_ORDER_STATUSES

PAGE_SIZES = (25, 50, 100)
DEFAULT_PAGE_SIZE = 50
JOBS_PAGE_SIZE = 25
PRIORITY_LABELS = {"low": "Low", "normal": "Normal", "high": "High", "emergency": "Emergency"}
CUSTOMER_SORTS = {
    "number": "id", "name": "name COLLATE NOCASE, id", "-name": "name COLLATE NOCASE DESC, id DESC",
    "created": "created_at, id", "-created": "created_at DESC, id DESC", "balance": "balance_cents, id",
    "-balance": "balance_cents DESC, id DESC", "modified": "modified_at, id", "-modified": "modified_at DESC, id DESC",
}  # fmt: skip
SORT_LABELS = {
    "number": "Customer # (default)", "name": "Name A–Z", "-name": "Name Z–A", "created": "Oldest first",
    "-created": "Newest first", "balance": "Balance, low to high", "-balance": "Balance, high to low",
    "modified": "Least recently modified", "-modified": "Recently modified",
}  # fmt: skip


def _parse_date(text: str | None) -> date | None:
    try:
        return date.fromisoformat(text) if text else None
    except ValueError:
        return None


def _like(text: str) -> str:
    return "%" + re.sub(r"([\\%_])", r"\\\1", text) + "%"


def _search(text: str) -> tuple[list[str], list[Any]]:
    if not text:
        return [], []
    clauses = [f"{col} LIKE ? ESCAPE '\\'" for col in ("name", "number", "email", "city")]
    params: list[Any] = [_like(text)] * len(clauses)
    digits = re.sub(r"\D", "", text)
    if len(digits) >= 3 and len(digits) >= len(text.replace(" ", "")) // 2:  # looks like a phone number
        clauses.append("phone LIKE ?")
        params.append(f"%{digits}%")
    return ["(" + " OR ".join(clauses) + ")"], params


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


class CustomerFilters:
    """The customer list's query: search, type, status, tag, modified since, sort (shared with the export)."""

    def __init__(self, tenant: TenantData, q: str | None, type: str | None, status: str | None, tag: str | None,
                 modified_since: str | None, sort: str | None) -> None:  # fmt: skip
        self.q = (q or "").strip()
        self.type = type if type in fmt.TYPE_LABELS else ""
        self.status = status if status in fmt.STATUS_LABELS else ""
        self.tag = tag if tag in TAGS else ""
        since = _parse_date(modified_since)
        self.modified_since = since.isoformat() if since else ""
        self.sort = sort if sort in CUSTOMER_SORTS else ""
        where, self.params = _search(self.q)
        for column, value in (("type", self.type), ("status", self.status)):
            if value:
                where.append(f"{column} = ?")
                self.params.append(value)
        if self.tag:
            where.append("(',' || tags || ',') LIKE ?")
            self.params.append(f"%,{self.tag},%")
        if since:  # the day starts at midnight in the tenant's zone
            start = datetime.combine(since, time(), tenant.zone)
            where.append("COALESCE(modified_at, created_at) >= ?")
            self.params.append(format_instant(start)[:19] + "Z")
        self.where = ("WHERE " + " AND ".join(where)) if where else ""
        self.order = CUSTOMER_SORTS[self.sort or "number"]

    def query(self) -> dict[str, str]:
        """The filters as URL parameters, only those set (so plain links stay as they always were)."""
        pairs = {"q": self.q, "type": self.type, "status": self.status, "tag": self.tag,
                 "modified_since": self.modified_since, "sort": self.sort}  # fmt: skip
        return {k: v for k, v in pairs.items() if v}


def register(app: FastAPI, portal: SandboxPortal) -> None:
    sandbox = portal.sandbox

    def customer_view(tenant: TenantData, row: Any) -> dict[str, Any]:
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
            "created": fmt.local_datetime(row["created_at"], tenant.zone),
            "modified": fmt.local_datetime(row["modified_at"] or row["created_at"], tenant.zone),
            "tags": [t for t in (row["tags"] or "").split(",") if t],
            "status": fmt.STATUS_LABELS[row["status"]],
            "status_key": row["status"],
        }

    def form_token(request: Request) -> str:
        return sandbox.csrf_token("form:" + (portal.cookie(request, SESSION_COOKIE) or ""))

    # -- dispatch ------------------------------------------------------------------------------------

    def board_context(tenant: TenantData, day: date) -> dict[str, Any]:
        return {
            "day": day,
            "day_label": fmt.long_date(datetime(day.year, day.month, day.day)),
            "prev_day": (day - timedelta(days=1)).isoformat(),
            "next_day": (day + timedelta(days=1)).isoformat(),
            "hours": [f"{h % 12 or 12} {'AM' if h < 12 else 'PM'}" for h in range(8, 18)],
        }

    def board_day(request: Request, tenant: TenantData, text: str | None) -> date:
        today: date = sandbox.clock.now().astimezone(tenant.zone).date()
        return _parse_date(text) or today

    @app.get("/dispatch", response_class=HTMLResponse)
    def dispatch(request: Request, date: str | None = None) -> Response:
        user = portal.user(request, "dispatch")
        tenant = portal.tenant(request)
        day = board_day(request, tenant, date)
        return portal.render(request, "dispatch.html", title="Dispatch board", user=user, active="dispatch",
                             board=_board(tenant, day), **board_context(tenant, day))  # fmt: skip

    @app.get("/dispatch/board", response_class=HTMLResponse)
    def dispatch_live(request: Request, date: str | None = None) -> Response:
        """The same board, drawn by the page's script from /api/dispatch (nothing in the HTML itself)."""
        user = portal.user(request, "dispatch")
        tenant = portal.tenant(request)
        day = board_day(request, tenant, date)
        return portal.render(request, "dispatch_live.html", title="Schedule board", user=user, active="board",
                             **board_context(tenant, day))  # fmt: skip

    @app.get("/api/dispatch")
    def dispatch_api(request: Request, date: str | None = None) -> Response:
        portal.user(request, "dispatch")
        if not portal.api_token_ok(request):
            return JSONResponse({"error": "Your session token is missing or expired. Sign in again.",
                                 "login": portal.login_url(request, expired=1)}, status_code=401)  # fmt: skip
        tenant = portal.tenant(request)
        day = board_day(request, tenant, date)
        context = board_context(tenant, day)
        return JSONResponse({"date": day.isoformat(), "date_label": context["day_label"], "hours": context["hours"],
                             "technicians": _board(tenant, day)})  # fmt: skip

    # -- customers -----------------------------------------------------------------------------------

    @app.get("/customers", response_class=HTMLResponse)
    def customers(request: Request, page: str | None = None, page_size: str | None = None, q: str | None = None,
                  type: str | None = None, status: str | None = None, tag: str | None = None,
                  modified_since: str | None = None, sort: str | None = None) -> Response:  # fmt: skip
        user = portal.user(request, "customers")
        tenant = portal.tenant(request)
        base = info(request).base
        size = parse_int(page_size)
        size = size if size in PAGE_SIZES else DEFAULT_PAGE_SIZE
        filters = CustomerFilters(tenant, q, type, status, tag, modified_since, sort)
        total = int(tenant.query(f"SELECT COUNT(*) FROM customers {filters.where}", filters.params)[0][0])
        pages = max(1, math.ceil(total / size))
        number = parse_int(page)
        if number is None or not 1 <= number <= pages:
            number = 1  # what the real portal does, and why robots must not loop "until empty"
        rows = tenant.query(f"SELECT * FROM customers {filters.where} ORDER BY {filters.order} LIMIT ? OFFSET ?",
                            [*filters.params, size, (number - 1) * size])  # fmt: skip
        extra = filters.query()
        extra.pop("q", None)

        def href(n: int, chosen_size: int | None = None) -> str:
            query: dict[str, Any] = {"page": n}
            if chosen_size is not None:
                query["page_size"] = chosen_size
            elif size != DEFAULT_PAGE_SIZE or page_size is not None:
                query["page_size"] = size
            if filters.q:
                query["q"] = filters.q
            query.update(extra)
            return base + "/customers?" + urlencode(query)

        return portal.render(
            request,
            "customers.html",
            title="Customers",
            user=user,
            active="customers",
            q=filters.q,
            filters=filters,
            type_labels=fmt.TYPE_LABELS,
            status_labels=fmt.STATUS_LABELS,
            tags=TAGS,
            sort_labels=SORT_LABELS,
            page_size=size,
            page_sizes=[{"size": s, "href": href(1, s), "current": s == size} for s in PAGE_SIZES],
            default_page_size=DEFAULT_PAGE_SIZE,
            export_href=base + "/customers/export" + ("?" + urlencode(filters.query()) if filters.query() else ""),
            rows=[customer_view(tenant, r) for r in rows],
            total=total,
            total_label=f"{total:,}",
            first_row=(number - 1) * size + 1,
            last_row=(number - 1) * size + len(rows),
            prev_href=href(number - 1) if number > 1 else None,
            next_href=href(number + 1) if number < pages else None,
            page_links=_page_window(number, pages, href),
        )

    @app.get("/customers/export")
    def customers_export(request: Request, q: str | None = None, type: str | None = None, status: str | None = None,
                         tag: str | None = None, modified_since: str | None = None,
                         sort: str | None = None) -> Response:  # fmt: skip
        portal.user(request, "customers.export")
        tenant = portal.tenant(request)
        filters = CustomerFilters(tenant, q, type, status, tag, modified_since, sort)
        rows = tenant.query(f"SELECT * FROM customers {filters.where} ORDER BY {filters.order}", filters.params)
        out = io.StringIO()
        writer = csv.writer(out, lineterminator="\r\n")
        writer.writerow(["Customer #", "Name", "Type", "Status", "Email", "Phone", "City", "State", "Balance",
                         "Created", "Modified", "Tags", "Customer ID"])  # fmt: skip
        for row in rows:
            view = customer_view(tenant, row)
            writer.writerow([view["number"], view["name"], view["type"], view["status"], view["email"], view["phone"],
                             view["city"], view["state"], view["balance"], view["created"], view["modified"],
                             "; ".join(view["tags"]), view["id"]])  # fmt: skip
        day = sandbox.clock.now().astimezone(tenant.zone).strftime("%Y%m%d")
        # A BOM, as spreadsheet exports have, so Excel reads the accents; robots must strip it.
        return Response("\ufeff" + out.getvalue(), media_type="text/csv; charset=utf-8",
                        headers={"Content-Disposition": f'attachment; filename="customers-{day}.csv"'})  # fmt: skip

    @app.get("/customers/{customer_id}", response_class=HTMLResponse)
    def customer_detail(request: Request, customer_id: str) -> Response:
        user = portal.user(request, "customers")
        tenant = portal.tenant(request)
        cid = parse_int(customer_id)
        rows = tenant.query("SELECT * FROM customers WHERE id = ?", [cid]) if cid is not None else []
        if not rows:
            return error_page(404, scope=request)
        view = customer_view(tenant, rows[0])
        jobs = [job_row(tenant, r) for r in tenant.query(
            f"{_JOB_SELECT} WHERE w.customer_id = ? ORDER BY w.id DESC", [cid])]  # fmt: skip
        saved = {"created": "Customer created.", "updated": "Customer updated."}.get(
            request.query_params.get("saved", "")
        )
        return portal.render(request, "customer.html", title=view["name"], user=user, active="customers", c=view,
                             jobs=jobs, notice=saved, x=app.state.customer_extras(tenant, cid),
                             can_write="customers.write" in PERMISSIONS[user.role],
                             can_membership="memberships.write" in PERMISSIONS[user.role],
                             can_invoices="invoices" in PERMISSIONS[user.role])  # fmt: skip

    # -- jobs ----------------------------------------------------------------------------------------

    def job_row(tenant: TenantData, row: Any) -> dict[str, Any]:
        start, end = row["scheduled_start_at"], row["scheduled_end_at"]
        return {
            "id": row["id"],
            "number": row["number"],
            "customer_id": row["customer_id"],
            "customer": row["customer_name"] or "",
            "job_type": row["job_type"],
            "priority": PRIORITY_LABELS[row["priority"]],
            "summary": row["summary"],
            "status": WORK_ORDER_STATUSES[row["status"]],
            "status_key": row["status"],
            "scheduled": fmt.local_datetime(start, tenant.zone) if start else "",
            "scheduled_end": fmt.local_datetime(end, tenant.zone) if end else "",
            "technician": row["technician_name"] or "",
            "total": fmt.money(row["total_cents"]),
            "arrival_window": row["arrival_window"] or "",
            "created": fmt.local_datetime(row["created_at"], tenant.zone),
            "modified": fmt.local_datetime(row["modified_at"], tenant.zone),
        }

    @app.get("/jobs", response_class=HTMLResponse)
    def jobs(request: Request, page: str | None = None, q: str | None = None, status: str | None = None,
             technician: str | None = None, customer_id: str | None = None, date_from: str | None = None,
             date_to: str | None = None) -> Response:  # fmt: skip
        user = portal.user(request, "jobs")
        tenant = portal.tenant(request)
        base = info(request).base
        text = (q or "").strip()
        status = status if status in WORK_ORDER_STATUSES else ""
        where: list[str] = []
        params: list[Any] = []
        if text:
            where.append("(w.number LIKE ? ESCAPE '\\' OR c.name LIKE ? ESCAPE '\\' OR w.job_type LIKE ? ESCAPE '\\' "
                         "OR w.id IN (SELECT work_order_id FROM work_order_references WHERE reference LIKE ? "
                         "ESCAPE '\\'))")  # the customer PO / reference too
            params += [_like(text)] * 4
        if status:
            where.append("w.status = ?")
            params.append(status)
        # Technician, customer and a scheduled-date range (the tenant's days), as the Jobs report offers.
        technicians = [dict(r) for r in tenant.query("SELECT id, name FROM technicians ORDER BY name")]
        tech_id = parse_int(technician)
        technician = str(tech_id) if any(t["id"] == tech_id for t in technicians) else ""
        if technician:
            where.append("w.technician_id = ?")
            params.append(tech_id)
        cust = parse_int(customer_id)
        customer_id = str(cust) if cust is not None else ""
        if customer_id:
            where.append("w.customer_id = ?")
            params.append(cust)
        day_from, day_to = _parse_date(date_from), _parse_date(date_to)
        if day_from:
            where.append("w.scheduled_start_at >= ?")
            params.append(format_instant(datetime.combine(day_from, time(), tenant.zone))[:19] + "Z")
        if day_to:
            where.append("w.scheduled_start_at < ?")
            params.append(format_instant(datetime.combine(day_to + timedelta(days=1), time(), tenant.zone))[:19] + "Z")
        date_from = day_from.isoformat() if day_from else ""
        date_to = day_to.isoformat() if day_to else ""
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        total = int(tenant.query(f"SELECT COUNT(*) FROM work_orders w LEFT JOIN customers c ON c.id = w.customer_id "
                                 f"{clause}", params)[0][0])  # fmt: skip
        pages = max(1, math.ceil(total / JOBS_PAGE_SIZE))
        number = parse_int(page)
        if number is None or not 1 <= number <= pages:
            number = 1  # out of range: page 1 again, silently
        rows = tenant.query(f"{_JOB_SELECT} {clause} ORDER BY w.id DESC LIMIT ? OFFSET ?",
                            [*params, JOBS_PAGE_SIZE, (number - 1) * JOBS_PAGE_SIZE])  # fmt: skip

        def href(n: int) -> str:
            query: dict[str, Any] = {"page": n}
            if text:
                query["q"] = text
            if status:
                query["status"] = status
            for key, value in (("technician", technician), ("customer_id", customer_id), ("date_from", date_from),
                               ("date_to", date_to)):  # fmt: skip
                if value:
                    query[key] = value
            return base + "/jobs?" + urlencode(query)

        return portal.render(
            request, "jobs.html", title="Jobs", user=user, active="jobs", q=text, status=status,
            technicians=technicians, technician=technician, customer_id=customer_id, date_from=date_from,
            date_to=date_to,
            statuses=WORK_ORDER_STATUSES, rows=[job_row(tenant, r) for r in rows], total=total,
            total_label=f"{total:,}", page=number, pages=pages,
            first_row=(number - 1) * JOBS_PAGE_SIZE + 1, last_row=(number - 1) * JOBS_PAGE_SIZE + len(rows),
            page_links=_page_window(number, pages, href, radius=3),
        )  # fmt: skip

    def job_page(request: Request, job_id: str, status_code: int = 200, **context: Any) -> Response:
        user = portal.user(request, "jobs")
        tenant = portal.tenant(request)
        wid = parse_int(job_id)
        rows = tenant.query(f"{_JOB_SELECT} WHERE w.id = ?", [wid]) if wid is not None else []
        if not rows:
            return error_page(404, scope=request)
        job = job_row(tenant, rows[0])
        history = [
            {"status": WORK_ORDER_STATUSES[h["status"]], "at": fmt.local_datetime(h["at"], tenant.zone), "by": h["by"],
             "reason": h["reason"] or ""}
            for h in tenant.query("SELECT * FROM work_order_history WHERE work_order_id = ? ORDER BY id", [wid])
        ]  # fmt: skip
        allowed = [{"key": s, "label": WORK_ORDER_STATUSES[s]} for s in TRANSITIONS[job["status_key"]]]
        can_write = "jobs.write" in PERMISSIONS[user.role]
        uploaded = parse_int(request.query_params.get("uploaded"))
        upload = None
        if uploaded is not None:
            found = tenant.query("SELECT id, filename, size, sha256 FROM attachments "
                                 "WHERE id = ? AND work_order_id = ?",
                                 [uploaded, wid])  # fmt: skip
            upload = dict(found[0]) if found else None
        upload_error = _UPLOAD_ERRORS.get(request.query_params.get("upload_error", ""))
        if request.query_params.get("created") and not context.get("notice"):
            context["notice"] = f"Work order {job['number']} created."
        context.setdefault("can_assign", can_write and job["status_key"] not in _CLOSED_JOB_STATES)
        return portal.render(request, "job.html", status_code, title=job["number"], user=user, active="jobs", job=job,
                             history=history, allowed=allowed if can_write else [], csrf_token=form_token(request),
                             x=app.state.job_extras(request, tenant, wid), upload=upload, upload_error=upload_error,
                             **context)  # fmt: skip

    @app.get("/jobs/{job_id}", response_class=HTMLResponse)
    def job_detail(request: Request, job_id: str, updated: str | None = None) -> Response:
        notice = None
        if updated in WORK_ORDER_STATUSES:
            notice = f"Status changed to {WORK_ORDER_STATUSES[updated]}."
        notice = notice or assignment_notice(request)
        return job_page(request, job_id, notice=notice)

    @app.post("/jobs/{job_id}/status", response_class=HTMLResponse)
    def job_status(
        request: Request,
        job_id: str,
        status: Annotated[str, Form()] = "",
        reason: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
    ) -> Response:
        user = portal.user(request, "jobs.write")
        tenant = portal.tenant(request)
        if not hmac.compare_digest(form_token(request), csrf_token):
            return job_page(request, job_id, 400, error="This form has expired. Reload the page and try again.")
        wid = parse_int(job_id)
        rows = tenant.query("SELECT status FROM work_orders WHERE id = ?", [wid]) if wid is not None else []
        if not rows:
            return error_page(404, scope=request)
        current = rows[0]["status"]
        allowed = TRANSITIONS[current]
        if status not in allowed:
            target = WORK_ORDER_STATUSES.get(status, status or "(nothing)")
            names = ", ".join(WORK_ORDER_STATUSES[s] for s in allowed) or "none (the job is closed)"
            return job_page(request, job_id, 409,
                            error=f"A job that is {WORK_ORDER_STATUSES[current]} cannot become {target}. "
                                  f"Allowed: {names}.")  # fmt: skip
        if status == "canceled" and not reason.strip():
            return job_page(request, job_id, 422, error="Give a reason to cancel the job.")
        now = format_instant(sandbox.clock.now())[:19] + "Z"
        statements: list[tuple[str, list[Any]]] = [
            ("UPDATE work_orders SET status = ?, modified_at = ? WHERE id = ?", [status, now, wid]),
            ("INSERT INTO work_order_history (work_order_id, status, at, by, reason) VALUES (?, ?, ?, ?, ?)",
             [wid, status, now, user.display_name, reason.strip() or None]),
        ]  # fmt: skip
        if status == "scheduled":
            statements.append(("UPDATE work_orders SET scheduled_start_at = COALESCE(scheduled_start_at, ?), "
                               "scheduled_end_at = COALESCE(scheduled_end_at, ?), technician_id = "
                               "COALESCE(technician_id, 1) WHERE id = ?", [now, now, wid]))  # fmt: skip
        tenant.write("work_orders", statements)
        return portal.redirect(request, f"/jobs/{wid}?updated={status}")

    # -- technician assignments (assign a lead or a helper, unassign) -----------------------------------

    def assignment_notice(request: Request) -> str | None:
        """The notice after an assign or unassign (the redirect's query names the technician and what happened)."""
        tenant = portal.tenant(request)
        for key, text in _ASSIGNMENT_NOTICES.items():
            tech = parse_int(request.query_params.get(key))
            if tech is not None:
                rows = tenant.query("SELECT name FROM technicians WHERE id = ?", [tech])
                if rows:
                    return text.format(name=rows[0]["name"])
        return None

    def assignment_target(request: Request, job_id: str, csrf_token: str) -> tuple[int, str] | Response:
        """(work order id, status) when the form may change the job's technicians, else the page that says no."""
        if not hmac.compare_digest(form_token(request), csrf_token):
            return job_page(request, job_id, 400, error="This form has expired. Reload the page and try again.")
        tenant = portal.tenant(request)
        wid = parse_int(job_id)
        rows = tenant.query("SELECT status FROM work_orders WHERE id = ?", [wid]) if wid is not None else []
        if wid is None or not rows:
            return error_page(404, scope=request)
        if rows[0]["status"] in _CLOSED_JOB_STATES:
            return job_page(request, job_id, 409, error=f"A job that is {WORK_ORDER_STATUSES[rows[0]['status']]} "
                                                        "cannot change its technicians.")  # fmt: skip
        return wid, rows[0]["status"]

    @app.post("/jobs/{job_id}/assignments", response_class=HTMLResponse)
    def job_assign(
        request: Request,
        job_id: str,
        technician_id: Annotated[str, Form()] = "",
        role: Annotated[str, Form()] = "",
        csrf_token: Annotated[str, Form()] = "",
    ) -> Response:
        portal.user(request, "jobs.write")
        tenant = portal.tenant(request)
        target = assignment_target(request, job_id, csrf_token)
        if isinstance(target, Response):
            return target
        wid, _status = target
        tech_rows = tenant.query("SELECT id, name FROM technicians WHERE id = ? AND active = 1",
                                 [parse_int(technician_id)])  # fmt: skip
        if not tech_rows:
            return job_page(request, job_id, 422, error="Choose a technician.")
        if role not in ("lead", "helper"):
            return job_page(request, job_id, 422, error="Choose a role: Lead or Helper.")
        tech = tech_rows[0]
        current = tenant.query("SELECT a.technician_id, a.role, t.name FROM technician_assignments a LEFT JOIN "
                               "technicians t ON t.id = a.technician_id WHERE a.work_order_id = ?", [wid])  # fmt: skip
        if any(r["technician_id"] == tech["id"] for r in current):
            # already on the job: nothing is written (a second submit never duplicates the assignment)
            return portal.redirect(request, f"/jobs/{wid}?already_assigned={tech['id']}")
        lead = next((r for r in current if r["role"] == "lead"), None)
        if role == "lead" and lead is not None:
            return job_page(request, job_id, 409, error=f"{lead['name']} is already the lead. Assign {tech['name']} "
                                                        f"as a helper, or unassign {lead['name']} first.")  # fmt: skip
        now = format_instant(sandbox.clock.now())[:19] + "Z"
        statements: list[tuple[str, list[Any]]] = [
            ("INSERT INTO technician_assignments (work_order_id, technician_id, role, assigned_at) VALUES (?, ?, ?, ?)",
             [wid, tech["id"], role, now]),
            ("UPDATE work_orders SET modified_at = ? WHERE id = ?", [now, wid]),
        ]  # fmt: skip
        if role == "lead":
            statements.append(("UPDATE work_orders SET technician_id = ? WHERE id = ?", [tech["id"], wid]))
        tenant.write("technician_assignments", statements)
        return portal.redirect(request, f"/jobs/{wid}?assigned={tech['id']}")

    @app.post("/jobs/{job_id}/assignments/remove", response_class=HTMLResponse)
    def job_unassign(request: Request, job_id: str, technician_id: Annotated[str, Form()] = "",
                     csrf_token: Annotated[str, Form()] = "") -> Response:  # fmt: skip
        portal.user(request, "jobs.write")
        tenant = portal.tenant(request)
        target = assignment_target(request, job_id, csrf_token)
        if isinstance(target, Response):
            return target
        wid, _status = target
        tech = parse_int(technician_id)
        rows = tenant.query("SELECT id, role FROM technician_assignments WHERE work_order_id = ? AND technician_id = ?",
                            [wid, tech])  # fmt: skip
        if not rows:
            return portal.redirect(request, f"/jobs/{wid}?not_assigned={tech}")  # already off the job: no write
        now = format_instant(sandbox.clock.now())[:19] + "Z"
        tenant.write("technician_assignments", [
            ("DELETE FROM technician_assignments WHERE work_order_id = ? AND technician_id = ?", [wid, tech]),
            ("UPDATE work_orders SET technician_id = CASE WHEN technician_id = ? THEN NULL ELSE technician_id END, "
             "modified_at = ? WHERE id = ?", [tech, now, wid]),
        ])  # fmt: skip
        return portal.redirect(request, f"/jobs/{wid}?unassigned={tech}")

    # -- users and technicians (admin only) ------------------------------------------------------------

    @app.get("/settings/users", response_class=HTMLResponse)
    def users_page(request: Request) -> Response:
        """The tenant's portal accounts with their roles, and the field technicians (admins only)."""
        user = portal.user(request)
        if user.role != "admin":
            return error_page(403, scope=request)
        tenant = portal.tenant(request)
        accounts = [
            {"id": f"u-{u.username}", "name": u.display_name, "username": u.username, "email": u.email or "",
             "role": u.role.upper() if u.role == "csr" else u.role.title(), "role_key": u.role,
             "permissions": ", ".join(sorted(PERMISSIONS[u.role])), "active": "Active"}
            for u in sorted(tenant.auth.users.values(), key=lambda u: u.display_name)
        ]  # fmt: skip
        techs = [
            {"id": f"t-{r['id']}", "name": r["name"], "username": "", "email": "", "role": "Technician",
             "role_key": "technician", "permissions": ", ".join(sorted(PERMISSIONS["technician"])),
             "active": "Active" if r["active"] else "Inactive"}
            for r in tenant.query("SELECT * FROM technicians ORDER BY id")
        ]  # fmt: skip
        return portal.render(request, "users.html", title="Users", user=user, active="users",
                             rows=accounts + techs)  # fmt: skip

    # -- pricebook -----------------------------------------------------------------------------------

    @app.get("/pricebook", response_class=HTMLResponse)
    def pricebook(request: Request, category: str | None = None, q: str | None = None) -> Response:
        user = portal.user(request, "pricebook")
        tenant = portal.tenant(request)
        categories = [
            r[0] for r in tenant.query("SELECT category FROM pricebook_items GROUP BY category ORDER BY MIN(id)")
        ]
        where, params = [], []
        if category in categories:
            where.append("category = ?")
            params.append(category)
        text = (q or "").strip()
        if text:
            where.append("(name LIKE ? ESCAPE '\\' OR code LIKE ? ESCAPE '\\')")
            params += [_like(text)] * 2
        clause = ("WHERE " + " AND ".join(where)) if where else ""
        items = [
            {"id": r["id"], "code": r["code"], "name": r["name"], "kind": r["kind"].title(), "category": r["category"],
             "price": fmt.money(r["price_cents"]), "member_price": fmt.money(r["member_price_cents"]),
             "cost": fmt.money(r["cost_cents"]), "taxable": "Yes" if r["taxable"] else "No",
             "active": bool(r["active"])}
            for r in tenant.query(f"SELECT * FROM pricebook_items {clause} ORDER BY id", params)
        ]  # fmt: skip
        chosen = category if category in categories else ""
        return portal.render(request, "pricebook.html", title="Pricebook", user=user, active="pricebook", items=items,
                             categories=categories, category=chosen, q=text)  # fmt: skip


_UPLOAD_ERRORS = {
    "expired": "This form has expired. Reload the page and try again.",
    "empty": "Choose a file to upload.",
    "too_large": "The file is larger than 5 MB.",
}

_CLOSED_JOB_STATES = ("completed", "canceled")
_ASSIGNMENT_NOTICES = {
    "assigned": "{name} assigned.", "already_assigned": "{name} is already assigned.",
    "unassigned": "{name} unassigned.", "not_assigned": "{name} is not assigned to this job.",
}  # fmt: skip

_JOB_SELECT = (
    "SELECT w.*, c.name AS customer_name, t.name AS technician_name FROM work_orders w "
    "LEFT JOIN customers c ON c.id = w.customer_id LEFT JOIN technicians t ON t.id = w.technician_id"
)

_APPOINTMENT_STATES = [
    ("Pending (Unassigned)", "pending"), ("Pending (Assigned)", "assigned"), ("Accepted (Pre-Work)", "accepted"),
    ("Accepted (Start Trip)", "accepted"), ("Running", "running"), ("Completed (Won Opportunity)", "won"),
    ("Completed (Lost Opportunity)", "lost"),
]  # fmt: skip
_JOB_TYPES = ["AC Tune-Up", "Furnace Repair", "Water Heater", "Drain Cleaning", "Leak Repair", "Install Estimate"]


def _board(tenant: TenantData, day: date) -> list[dict[str, Any]]:
    """The board for a day: the same every time for a given (tenant, seed, day)."""
    salt = "" if tenant.tenant.slug == "acme" else f"{tenant.tenant.slug}-"
    rng = random.Random(f"dispatch-{salt}{tenant.seed}-{day.isoformat()}")
    count = tenant.customer_count()
    board = []
    for name in tenant.tenant.technicians:
        slots: list[dict[str, str] | None] = [None] * 10
        for start in rng.sample(range(0, 10, 2), k=rng.randint(0, 3)):
            status, css = rng.choice(_APPOINTMENT_STATES)
            row = tenant.query("SELECT name FROM customers WHERE id = ?", [1001 + rng.randrange(max(count, 1))])
            who = row[0]["name"] if row else "Walk-in"
            slots[start] = {"label": f"{rng.choice(_JOB_TYPES)} · {who}", "status": status, "css": css}
        board.append({"name": name, "slots": slots})
    return board
