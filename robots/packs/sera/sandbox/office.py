"""The back-office pages: invoices (list, detail, void, record a payment), payments, memberships (list, Service
Utilization tab, create and renew), estimates, the customer create/edit form, the new-work-order form with its
XHR typeahead, and the work-order attachments (upload with a SHA-256 checksum, an iframe viewer, print preview).

Registered before pages.py so that `/customers/new` and `/jobs/new` win over `/customers/{id}` and `/jobs/{id}`.
Every POST checks the form's CSRF token, counts one write in `/_sandbox/writes` on success, and re-renders the
form with the errors next to their fields (HTTP 422) when the input is wrong.
"""

from __future__ import annotations

import hashlib
import hmac
import math
import re
from datetime import date, datetime
from typing import Annotated, Any
from urllib.parse import urlencode

from fastapi import FastAPI, File, Form, Request, UploadFile
from fastapi.responses import HTMLResponse, JSONResponse, Response

from . import formatting as fmt
from .app import SESSION_COOKIE, SandboxPortal, TenantData, error_page, info, parse_int
from .clock import format_instant
from .data import JOB_TYPES, WORK_ORDER_STATUSES
from .ledger import CADENCE_MONTHS, TAX_RATE_BP, add_months, arrival_window

LIST_PAGE_SIZE = 50
MAX_UPLOAD_BYTES = 5 * 1024 * 1024
MSG_FORM_EXPIRED = "This form has expired. Reload the page and try again."
CADENCE_LABELS = {"monthly": "Monthly", "quarterly": "Quarterly", "semi_annual": "Semi-Annual", "annual": "Annual"}
MEMBERSHIP_STATUS = {"active": "Active", "pending": "Pending", "expired": "Expired", "canceled": "Canceled"}
INVOICE_STATUS = {"pending": "Pending", "finalized": "Finalized", "voided": "Voided"}
PAYMENT_STATUS = {"unpaid": "Unpaid", "partial": "Partially Paid", "paid": "Paid", "refunded": "Refunded"}
PAYMENT_METHODS = {"card": "Credit Card", "ach": "ACH / Bank", "check": "Check", "cash": "Cash",
                   "financing": "Financing"}  # fmt: skip
ESTIMATE_STATUS = {"draft": "Draft", "sent": "Sent", "approved": "Approved", "declined": "Declined",
                   "expired": "Expired"}  # fmt: skip
PRIORITIES = {"low": "Low", "normal": "Normal", "high": "High", "emergency": "Emergency"}
ARRIVAL_WINDOWS = ["8 AM – 10 AM", "10 AM – 12 PM", "12 PM – 2 PM", "2 PM – 4 PM", "4 PM – 6 PM"]
ROLE_LABELS = {"lead": "Lead", "helper": "Helper"}

_MONEY = re.compile(r"^\$?\s*(\d{1,3}(?:,\d{3})+|\d+)(?:\.(\d{1,2}))?$")
_US_DATE = re.compile(r"^(\d{1,2})/(\d{1,2})/(\d{4})$")
_CARD_NUMBER = re.compile(r"(?:\d[ -]?){12,19}")
_TOKEN = re.compile(r"^pm_[A-Za-z0-9]{8,32}$")
_LAST_FOUR = re.compile(r"^(?:[A-Za-z ]*•{0,4}\s*)?\d{4}$")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


def parse_money(text: str) -> int | None:
    """ "$1,234.50" / "1234.5" / "1,234" -> cents; None when it is not an amount."""
    m = _MONEY.match(text.strip())
    if not m:
        return None
    return int(m.group(1).replace(",", "")) * 100 + int((m.group(2) or "0").ljust(2, "0"))


def parse_us_date(text: str) -> date | None:
    m = _US_DATE.match(text.strip())
    if not m:
        try:
            return date.fromisoformat(text.strip()) if text.strip() else None
        except ValueError:
            return None
    try:
        return date(int(m.group(3)), int(m.group(1)), int(m.group(2)))
    except ValueError:
        return None


def us_date(iso_text: str | None) -> str:
    if not iso_text:
        return ""
    d = date.fromisoformat(iso_text[:10])
    return f"{d:%m/%d/%Y}"


def money_input(cents: int) -> str:
    return f"{cents // 100}.{cents % 100:02d}"


def payment_ref_error(method: str, ref: str) -> str | None:
    """A reference must be a token or the last four digits; a full card number is refused, never stored."""
    digits = re.sub(r"\D", "", ref)
    if _CARD_NUMBER.search(ref) and len(digits) >= 12:
        return "Never enter a full card number. Use the saved payment method token or the last four digits."
    if method == "card" and ref and not (_TOKEN.match(ref) or _LAST_FOUR.match(ref)):
        return "Enter a payment method token (pm_…) or the card's last four digits."
    if method == "card" and not ref:
        return "Card payments need a payment method token or the last four digits."
    return None


def _pages(total: int, page: str | None) -> tuple[int, int]:
    pages = max(1, math.ceil(total / LIST_PAGE_SIZE))
    number = parse_int(page)
    if number is None or not 1 <= number <= pages:
        number = 1
    return number, pages


def _list_page(tenant: Any, select: str, count_sql: str, where: list[str], params: list[Any], order: str,
               page: str | None) -> tuple[int, int, int, list[Any]]:
    """One page of a filtered list: (total, page number, page count, rows). `count_sql` holds `{clause}`
    where the WHERE clause goes."""
    clause = ("WHERE " + " AND ".join(where)) if where else ""
    total = int(tenant.query(count_sql.replace("{clause}", clause), params)[0][0])
    number, pages = _pages(total, page)
    rows = tenant.query(f"{select} {clause} ORDER BY {order} LIMIT ? OFFSET ?",
                        [*params, LIST_PAGE_SIZE, (number - 1) * LIST_PAGE_SIZE])  # fmt: skip
    return total, number, pages, rows


def validate_customer(form: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
    """The customer form's errors by field (the portal's words) and its cleaned values; shared by the page's form
    and the single-page app's JSON endpoint (spa_api.py)."""
    errors: dict[str, str] = {}
    name = " ".join(form["name"].split())
    if not name:
        errors["name"] = "Enter the customer's name."
    elif len(name) > 120:
        errors["name"] = "The name can be at most 120 characters."
    if form["type"] not in fmt.TYPE_LABELS:
        errors["type"] = "Choose Residential or Commercial."
    if form["status"] not in fmt.STATUS_LABELS:
        errors["status"] = "Choose a status."
    email = form["email"].strip()
    if email and not _EMAIL.match(email):
        errors["email"] = "Enter an e-mail address like name@example.com."
    digits = re.sub(r"\D", "", form["phone"])
    if len(digits) == 11 and digits.startswith("1"):
        digits = digits[1:]
    if form["phone"].strip() and len(digits) != 10:
        errors["phone"] = "Enter a 10-digit US phone number like (512) 555-0143."
    if not form["city"].strip():
        errors["city"] = "Enter the city of the service address."
    state = form["state"].strip().upper()
    if not re.fullmatch(r"[A-Z]{2}", state):
        errors["state"] = "Enter the two-letter state code, e.g. TX."
    if not email and not digits:
        errors.setdefault("email", "Give at least an e-mail address or a phone number.")
    return errors, {"name": name, "email": email or None, "phone": digits or None, "city": form["city"].strip(),
                    "state": state, "type": form["type"], "status": form["status"]}  # fmt: skip


def update_customer(tenant: Any, customer_id: int, clean: dict[str, Any], now: str) -> None:
    """Write an edited customer (values from validate_customer): one write of "customers"."""
    tenant.write("customers", [(
        "UPDATE customers SET name = ?, type = ?, email = ?, phone = ?, city = ?, state = ?, status = ?, "
        "modified_at = ? WHERE id = ?",
        [clean["name"], clean["type"], clean["email"], clean["phone"], clean["city"], clean["state"],
         clean["status"], now, customer_id],
    )])  # fmt: skip


def create_work_order(tenant: Any, *, customer_id: int, location_id: int, job_type: str, priority: str, summary: str,
                      start_utc: str | None, end_utc: str | None, arrival: str, total_cents: int, by: str, now: str,
                      reference: str = "", lines: list[dict[str, Any]] | None = None) -> int:  # fmt: skip
    """Write a new work order (checked values; scheduled when it has a start), its history and lines: one write of
    "work_orders". Shared by the new-work-order page and the single-page app's JSON endpoint. Returns its id."""
    wid = int(tenant.query("SELECT MAX(id) FROM work_orders")[0][0]) + 1
    status = "scheduled" if start_utc else "unscheduled"
    window = arrival or (arrival_window(start_utc, tenant.zone) if start_utc else None)
    summary = " ".join(summary.split()) or job_type
    statements: list[tuple[str, list[Any]]] = [
        ("INSERT INTO work_orders VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, NULL, ?, ?, ?, ?, ?)",
         [wid, f"WO-{wid - 50001 + 10001}", customer_id, job_type, priority, summary, status,
          start_utc, end_utc, total_cents, now, now, location_id, window]),
        ("INSERT INTO work_order_history (work_order_id, status, at, by, reason) VALUES (?, 'unscheduled', ?, ?, "
         "NULL)", [wid, now, by]),
    ]  # fmt: skip
    if status == "scheduled":
        statements.append(("INSERT INTO work_order_history (work_order_id, status, at, by, reason) VALUES "
                           "(?, 'scheduled', ?, ?, NULL)", [wid, now, by]))  # fmt: skip
    if reference:
        statements.append(("INSERT INTO work_order_references VALUES (?, ?)", [wid, reference]))
    for line in lines or ():
        statements.append((
            "INSERT INTO line_items (work_order_id, pricebook_item_id, description, quantity, unit_price_cents, "
            "total_cents, taxable) VALUES (?, ?, ?, ?, ?, ?, ?)",
            [wid, line["id"], line["name"], line["qty"], line["price_cents"],
             round(line["qty"] * line["price_cents"]), line["taxable"]],
        ))  # fmt: skip
    tenant.write("work_orders", statements)
    return wid


def register(app: FastAPI, portal: SandboxPortal) -> None:  # noqa: C901 - one route table, read top to bottom
    sandbox = portal.sandbox

    def token(request: Request) -> str:
        return sandbox.csrf_token("form:" + (portal.cookie(request, SESSION_COOKIE) or ""))

    def csrf_ok(request: Request, value: str) -> bool:
        return hmac.compare_digest(token(request), value)

    def now_utc() -> str:
        return format_instant(sandbox.clock.now())[:19] + "Z"

    def today(tenant: TenantData) -> date:
        result: date = sandbox.clock.now().astimezone(tenant.zone).date()
        return result

    def when(tenant: TenantData, text: str | None) -> str:
        return fmt.local_datetime(text, tenant.zone) if text else ""

    def render(request: Request, name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
        context.setdefault("csrf_token", token(request))
        return portal.render(request, name, status_code, **context)

    def pagination(request: Request, path: str, number: int, pages: int, query: dict[str, Any]) -> dict[str, Any]:
        base = info(request).base

        def href(n: int) -> str:
            return base + path + "?" + urlencode({"page": n, **{k: v for k, v in query.items() if v}})

        return {"page": number, "pages": pages, "prev_href": href(number - 1) if number > 1 else None,
                "next_href": href(number + 1) if number < pages else None}  # fmt: skip

    # -- lookups shared by pages ---------------------------------------------------------------------

    def customer_row(tenant: TenantData, customer_id: str | int | None) -> Any:
        cid = parse_int(str(customer_id)) if customer_id is not None else None
        rows = tenant.query("SELECT * FROM customers WHERE id = ?", [cid]) if cid is not None else []
        return rows[0] if rows else None

    def line_view(row: Any) -> dict[str, Any]:
        qty = row["quantity"]
        return {"pricebook_item_id": row["pricebook_item_id"], "description": row["description"],
                "quantity": f"{qty:g}", "unit_price": fmt.money(row["unit_price_cents"]),
                "total": fmt.money(row["total_cents"]), "taxable": "Yes" if row["taxable"] else "No",
                "code": row["code"] if "code" in row.keys() else None}  # fmt: skip

    def invoice_view(tenant: TenantData, row: Any) -> dict[str, Any]:
        return {
            "id": row["id"], "number": row["number"], "work_order_id": row["work_order_id"],
            "work_order_number": row["work_order_number"], "customer_id": row["customer_id"],
            "customer": row["customer_name"], "subtotal": fmt.money(row["subtotal_cents"]),
            "tax": fmt.money(row["tax_cents"]), "total": fmt.money(row["total_cents"]),
            "balance": fmt.money(row["balance_cents"]), "balance_cents": row["balance_cents"],
            "status": INVOICE_STATUS[row["status"]], "status_key": row["status"],
            "payment_status": PAYMENT_STATUS[row["payment_status"]], "payment_status_key": row["payment_status"],
            "issued": us_date(row["issued_date"]), "due": us_date(row["due_date"]),
            "voided": when(tenant, row["voided_at"]), "void_reason": row["void_reason"] or "",
        }  # fmt: skip

    def payment_view(tenant: TenantData, row: Any) -> dict[str, Any]:
        sign = -1 if row["kind"] == "refund" else 1
        return {
            "id": row["id"], "number": row["number"], "invoice_id": row["invoice_id"],
            "invoice_number": row["invoice_number"], "kind": row["kind"].title(), "kind_key": row["kind"],
            "method": PAYMENT_METHODS[row["method"]], "method_key": row["method"],
            "amount": fmt.money(sign * row["amount_cents"]), "status": row["status"].title(),
            "paid": when(tenant, row["paid_at"]), "reference": row["payment_method_ref"] or "",
            "memo": row["memo"] or "", "customer": row["customer_name"] if "customer_name" in row.keys() else "",
        }  # fmt: skip

    def membership_view(tenant: TenantData, row: Any) -> dict[str, Any]:
        return {
            "id": row["id"], "number": row["number"], "customer_id": row["customer_id"],
            "customer": row["customer_name"], "program": row["program_name"], "program_id": row["program_id"],
            "status": MEMBERSHIP_STATUS[row["status"]], "status_key": row["status"],
            "start": us_date(row["start_date"]), "end": us_date(row["end_date"]),
            "next_billing": us_date(row["next_billing_date"]),
            "renewal": "Auto-renew" if row["renewal_type"] == "auto_renew" else "Expires",
            "cadence": CADENCE_LABELS[row["cadence"]], "interval": row["interval_count"],
            "price": fmt.money(row["price_cents"]), "autopay": "On" if row["autopay"] else "Off",
            "collection": row["collection_method"].replace("_", " ").title(),
            "payment_method": row["payment_method_ref"] or "", "visits": f"{row['visits_used']} of "
            f"{row['visits_included']}", "location": row["location_name"] or "",
        }  # fmt: skip

    _INVOICE_SELECT = (
        "SELECT i.*, c.name AS customer_name, w.number AS work_order_number FROM invoices i "
        "LEFT JOIN customers c ON c.id = i.customer_id LEFT JOIN work_orders w ON w.id = i.work_order_id"
    )
    _PAYMENT_SELECT = (
        "SELECT p.*, i.number AS invoice_number, c.name AS customer_name FROM payments p "
        "LEFT JOIN invoices i ON i.id = p.invoice_id LEFT JOIN customers c ON c.id = i.customer_id"
    )
    _MEMBERSHIP_SELECT = (
        "SELECT m.*, c.name AS customer_name, p.name AS program_name, l.name AS location_name "
        "FROM customer_memberships m LEFT JOIN customers c ON c.id = m.customer_id "
        "LEFT JOIN membership_programs p ON p.id = m.program_id LEFT JOIN service_locations l ON l.id = m.location_id"
    )
    app.state.office_selects = {"invoice": _INVOICE_SELECT, "membership": _MEMBERSHIP_SELECT}

    def customer_extras(tenant: TenantData, cid: int) -> dict[str, Any]:
        """Locations, contacts with their methods, memberships and invoices for the customer page."""
        locations = [
            {"id": r["id"], "name": r["name"], "street": r["street"], "unit": r["unit"] or "", "city": r["city"],
             "state": r["state"], "zip": r["zip"] or "", "notes": r["access_notes"] or "", "primary": r["is_primary"]}
            for r in tenant.query("SELECT * FROM service_locations WHERE customer_id = ? ORDER BY id", [cid])
        ]  # fmt: skip
        contacts = []
        for r in tenant.query("SELECT * FROM contacts WHERE customer_id = ? ORDER BY id", [cid]):
            methods = [
                {"type": m["type"], "label": m["type"].title(),
                 "value": fmt.phone(m["value"]) if m["type"] != "email" else m["value"],
                 "opt_in": "Opted in" if m["opt_in"] else "Opted out"}
                for m in tenant.query("SELECT * FROM contact_methods WHERE contact_id = ? ORDER BY id", [r["id"]])
            ]  # fmt: skip
            contacts.append({"id": r["id"], "name": r["name"], "role": r["role"] or "", "primary": r["is_primary"],
                             "methods": methods})  # fmt: skip
        memberships = [membership_view(tenant, r) for r in tenant.query(
            f"{_MEMBERSHIP_SELECT} WHERE m.customer_id = ? ORDER BY m.id DESC", [cid])]  # fmt: skip
        invoices = [invoice_view(tenant, r) for r in tenant.query(
            f"{_INVOICE_SELECT} WHERE i.customer_id = ? ORDER BY i.id DESC", [cid])]  # fmt: skip
        return {"locations": locations, "contacts": contacts, "memberships": memberships, "invoices": invoices}

    app.state.customer_extras = customer_extras

    def job_extras(request: Request, tenant: TenantData, wid: int) -> dict[str, Any]:
        """Line items, totals, technician assignments, invoice and attachments for the work-order page."""
        rows = tenant.query("SELECT l.*, p.code FROM line_items l LEFT JOIN pricebook_items p "
                            "ON p.id = l.pricebook_item_id WHERE l.work_order_id = ? ORDER BY l.id", [wid])  # fmt: skip
        subtotal = sum(r["total_cents"] for r in rows)
        taxable = sum(r["total_cents"] for r in rows if r["taxable"])
        tax = (taxable * TAX_RATE_BP.get(tenant.tenant.slug, 825) + 5000) // 10000
        assignments = [
            {"technician": r["name"], "role": ROLE_LABELS[r["role"]], "assigned": when(tenant, r["assigned_at"]),
             "accepted": when(tenant, r["accepted_at"]), "dispatched": when(tenant, r["dispatched_at"]),
             "arrived": when(tenant, r["arrived_at"]), "completed": when(tenant, r["completed_at"]),
             "technician_id": r["technician_id"], "role_key": r["role"]}
            for r in tenant.query("SELECT a.*, t.name FROM technician_assignments a LEFT JOIN technicians t "
                                  "ON t.id = a.technician_id WHERE a.work_order_id = ? ORDER BY a.id", [wid])
        ]  # fmt: skip
        invoice = tenant.query("SELECT id, number FROM invoices WHERE work_order_id = ? ORDER BY id DESC", [wid])
        location = tenant.query("SELECT l.* FROM service_locations l JOIN work_orders w ON w.location_id = l.id "
                                "WHERE w.id = ?", [wid])  # fmt: skip
        attachments = tenant.query("SELECT id FROM attachments WHERE work_order_id = ?", [wid])
        return {
            "lines": [line_view(r) for r in rows], "subtotal": fmt.money(subtotal), "tax": fmt.money(tax),
            "grand_total": fmt.money(subtotal + tax), "assignments": assignments,
            "invoice": dict(invoice[0]) if invoice else None, "attachment_count": len(attachments),
            "location": _address(location[0]) if location else "", "upload_token": token(request),
            "technicians": [dict(r) for r in tenant.query("SELECT id, name FROM technicians WHERE active = 1 "
                                                          "ORDER BY name")],
            "reference": next(iter(r[0] for r in tenant.query(
                "SELECT reference FROM work_order_references WHERE work_order_id = ?", [wid])), ""),
        }  # fmt: skip

    app.state.job_extras = job_extras

    # -- invoices ------------------------------------------------------------------------------------

    @app.get("/invoices", response_class=HTMLResponse)
    def invoices(request: Request, page: str | None = None, q: str | None = None, status: str | None = None,
                 payment_status: str | None = None) -> Response:  # fmt: skip
        user = portal.user(request, "invoices")
        tenant = portal.tenant(request)
        where, params = [], []
        text = (q or "").strip()
        if text:
            where.append("(i.number LIKE ? OR c.name LIKE ? OR w.number LIKE ?)")
            params += [f"%{text}%"] * 3
        status = status if status in INVOICE_STATUS else ""
        payment_status = payment_status if payment_status in PAYMENT_STATUS else ""
        if status:
            where.append("i.status = ?")
            params.append(status)
        if payment_status:
            where.append("i.payment_status = ?")
            params.append(payment_status)
        total, number, pages, rows = _list_page(tenant, _INVOICE_SELECT,
                                                f"SELECT COUNT(*) FROM ({_INVOICE_SELECT} {{clause}})",
                                                where, params, "i.id DESC", page)  # fmt: skip
        return render(request, "invoices.html", title="Invoices", user=user, active="invoices", q=text,
                      status=status, payment_status=payment_status, statuses=INVOICE_STATUS,
                      payment_statuses=PAYMENT_STATUS, rows=[invoice_view(tenant, r) for r in rows],
                      total_label=f"{total:,}",
                      **pagination(request, "/invoices", number, pages,
                                   {"q": text, "status": status, "payment_status": payment_status}))  # fmt: skip

    def invoice_page(request: Request, invoice_id: str, status_code: int = 200, **context: Any) -> Response:
        user = portal.user(request, "invoices")
        tenant = portal.tenant(request)
        iid = parse_int(invoice_id)
        rows = tenant.query(f"{_INVOICE_SELECT} WHERE i.id = ?", [iid]) if iid is not None else []
        if not rows:
            return error_page(404, scope=request)
        inv = invoice_view(tenant, rows[0])
        lines = [line_view(r) for r in tenant.query(
            "SELECT * FROM line_items WHERE work_order_id = ? ORDER BY id", [rows[0]["work_order_id"]])]  # fmt: skip
        payments = [payment_view(tenant, r) for r in tenant.query(
            f"{_PAYMENT_SELECT} WHERE p.invoice_id = ? ORDER BY p.id", [iid])]  # fmt: skip
        can_write = "invoices.write" in portal.permissions(user)
        return render(request, "invoice.html", status_code, title=inv["number"], user=user, active="invoices",
                      inv=inv, lines=lines, payments=payments, can_write=can_write, **context)  # fmt: skip

    @app.get("/invoices/{invoice_id}", response_class=HTMLResponse)
    def invoice_detail(request: Request, invoice_id: str, voided: str | None = None,
                       paid: str | None = None) -> Response:  # fmt: skip
        notice = "Invoice voided." if voided else ("Payment recorded." if paid else None)
        return invoice_page(request, invoice_id, notice=notice)

    @app.post("/invoices/{invoice_id}/void", response_class=HTMLResponse)
    def invoice_void(request: Request, invoice_id: str, csrf_token: Annotated[str, Form()] = "",
                     confirm: Annotated[str, Form()] = "",
                     reason: Annotated[str, Form()] = "") -> Response:  # fmt: skip
        portal.user(request, "invoices.write")
        tenant = portal.tenant(request)
        if not csrf_ok(request, csrf_token):
            return invoice_page(request, invoice_id, 400, error=MSG_FORM_EXPIRED)
        iid = parse_int(invoice_id)
        rows = tenant.query("SELECT status FROM invoices WHERE id = ?", [iid]) if iid is not None else []
        if not rows:
            return error_page(404, scope=request)
        if rows[0]["status"] == "voided":
            return invoice_page(request, invoice_id, 409, error="This invoice is already voided.")
        errors = {}
        if confirm != "yes":
            errors["confirm"] = "Tick the box to confirm that you want to void this invoice."
        if not reason.strip():
            errors["reason"] = "Give a reason for voiding the invoice."
        if errors:
            return invoice_page(request, invoice_id, 422, void_errors=errors, void_reason=reason, void_open=True)
        tenant.write("invoices", [("UPDATE invoices SET status = 'voided', balance_cents = 0, voided_at = ?, "
                                   "void_reason = ? WHERE id = ?", [now_utc(), reason.strip(), iid])])  # fmt: skip
        return portal.redirect(request, f"/invoices/{iid}?voided=1")

    def payment_form(request: Request, invoice_id: str, status_code: int = 200, **context: Any) -> Response:
        user = portal.user(request, "invoices.write")
        tenant = portal.tenant(request)
        iid = parse_int(invoice_id)
        rows = tenant.query(f"{_INVOICE_SELECT} WHERE i.id = ?", [iid]) if iid is not None else []
        if not rows:
            return error_page(404, scope=request)
        inv = invoice_view(tenant, rows[0])
        form = {"amount": money_input(max(0, inv["balance_cents"])), "method": "card", "reference": "",
                "paid_date": f"{today(tenant):%m/%d/%Y}", "memo": ""}  # fmt: skip
        form.update(context.pop("form", {}))
        return render(request, "payment_form.html", status_code, title=f"Record a payment · {inv['number']}",
                      user=user, active="invoices", inv=inv, form=form, methods=PAYMENT_METHODS,
                      errors=context.pop("errors", {}), **context)  # fmt: skip

    @app.get("/invoices/{invoice_id}/payments/new", response_class=HTMLResponse)
    def payment_new(request: Request, invoice_id: str) -> Response:
        return payment_form(request, invoice_id)

    @app.post("/invoices/{invoice_id}/payments/new", response_class=HTMLResponse)
    def payment_create(request: Request, invoice_id: str, csrf_token: Annotated[str, Form()] = "",
                       amount: Annotated[str, Form()] = "", method: Annotated[str, Form()] = "",
                       reference: Annotated[str, Form()] = "", paid_date: Annotated[str, Form()] = "",
                       memo: Annotated[str, Form()] = "") -> Response:  # fmt: skip
        portal.user(request, "invoices.write")
        tenant = portal.tenant(request)
        reference = reference.strip()
        form = {
            "amount": amount,
            "method": method,
            "reference": "" if _CARD_NUMBER.search(reference) else reference,
            "paid_date": paid_date,
            "memo": memo,
        }  # fmt: skip  (a typed card number is never echoed back)
        if not csrf_ok(request, csrf_token):
            return payment_form(request, invoice_id, 400, form=form, error=MSG_FORM_EXPIRED)
        iid = parse_int(invoice_id)
        rows = tenant.query("SELECT * FROM invoices WHERE id = ?", [iid]) if iid is not None else []
        if not rows:
            return error_page(404, scope=request)
        inv = rows[0]
        errors: dict[str, str] = {}
        cents = parse_money(amount)
        if inv["status"] == "voided":
            errors["amount"] = "A voided invoice cannot take payments."
        elif cents is None:
            errors["amount"] = "Enter an amount like 125.00."
        elif cents <= 0:
            errors["amount"] = "The amount must be more than $0.00."
        elif cents > inv["balance_cents"]:
            errors["amount"] = f"The amount cannot exceed the balance due of {fmt.money(inv['balance_cents'])}."
        if method not in PAYMENT_METHODS:
            errors["method"] = "Choose a payment method."
        else:
            problem = payment_ref_error(method, reference)
            if problem:
                errors["reference"] = problem
        day = parse_us_date(paid_date)
        if day is None:
            errors["paid_date"] = "Enter the payment date as MM/DD/YYYY."
        elif day > today(tenant):
            errors["paid_date"] = "The payment date cannot be in the future."
        if errors:
            return payment_form(request, invoice_id, 422, form=form, errors=errors)
        assert cents is not None and day is not None
        balance = inv["balance_cents"] - cents
        count = int(tenant.query("SELECT COALESCE(MAX(id), 0) FROM payments")[0][0]) + 1
        paid_at = now_utc() if day == today(tenant) else f"{day.isoformat()}T18:00:00Z"
        tenant.write("payments", [
            ("INSERT INTO payments (id, number, invoice_id, kind, method, amount_cents, status, paid_at, "
             "payment_method_ref, memo) VALUES (?, ?, ?, 'payment', ?, ?, 'succeeded', ?, ?, ?)",
             [count, f"P-{70000 + count}", iid, method, cents, paid_at, reference or None, memo.strip() or None]),
            ("UPDATE invoices SET balance_cents = ?, payment_status = ? WHERE id = ?",
             [balance, "paid" if balance == 0 else "partial", iid]),
        ])  # fmt: skip
        return portal.redirect(request, f"/invoices/{iid}?paid=1")

    # -- payments ------------------------------------------------------------------------------------

    @app.get("/payments", response_class=HTMLResponse)
    def payments(request: Request, page: str | None = None, method: str | None = None,
                 kind: str | None = None) -> Response:  # fmt: skip
        user = portal.user(request, "payments")
        tenant = portal.tenant(request)
        where, params = [], []
        method = method if method in PAYMENT_METHODS else ""
        kind = kind if kind in ("payment", "refund") else ""
        if method:
            where.append("p.method = ?")
            params.append(method)
        if kind:
            where.append("p.kind = ?")
            params.append(kind)
        total, number, pages, rows = _list_page(tenant, _PAYMENT_SELECT, "SELECT COUNT(*) FROM payments p {clause}",
                                                where, params, "p.id DESC", page)  # fmt: skip
        return render(request, "payments.html", title="Payments", user=user, active="payments", method=method,
                      kind=kind, methods=PAYMENT_METHODS, rows=[payment_view(tenant, r) for r in rows],
                      total_label=f"{total:,}",
                      **pagination(request, "/payments", number, pages, {"method": method, "kind": kind}))  # fmt: skip

    # -- memberships ---------------------------------------------------------------------------------

    @app.get("/memberships", response_class=HTMLResponse)
    def memberships(request: Request, page: str | None = None, status: str | None = None,
                    tab: str | None = None) -> Response:  # fmt: skip
        user = portal.user(request, "memberships")
        tenant = portal.tenant(request)
        status = status if status in MEMBERSHIP_STATUS else ""
        tab = "utilization" if tab == "utilization" else "list"
        where, params = ([], []) if not status else (["m.status = ?"], [status])
        if tab == "utilization":
            where, params = ["m.status = 'active'"], []
        total, number, pages, rows = _list_page(tenant, _MEMBERSHIP_SELECT,
                                                "SELECT COUNT(*) FROM customer_memberships m {clause}",
                                                where, params, "m.id DESC", page)  # fmt: skip
        utilization = []
        if tab == "utilization":
            tasks = {r["id"]: r["tasks"].split(";") for r in tenant.query("SELECT id, tasks FROM membership_programs")}
            for r in rows:
                view = membership_view(tenant, r)
                start = date.fromisoformat(r["start_date"])
                year = f"{start:%m/%d/%Y} – {add_months(start, 12):%m/%d/%Y}"
                for index, task in enumerate(tasks.get(r["program_id"], [])[: r["visits_included"]]):
                    utilization.append({"membership": view["number"], "membership_id": r["id"],
                                        "customer": view["customer"], "customer_id": r["customer_id"],
                                        "location": view["location"], "task": task, "contract_year": year,
                                        "status": "Completed" if index < r["visits_used"] else "Available",
                                        })  # fmt: skip
        return render(
            request,
            "memberships.html",
            title="Memberships",
            user=user,
            active="memberships",
            tab=tab,
            status=status,
            statuses=MEMBERSHIP_STATUS,
            rows=[membership_view(tenant, r) for r in rows],
            utilization=utilization,
            total_label=f"{total:,}",
            **pagination(
                request,
                "/memberships",
                number,
                pages,
                {"status": status, "tab": "utilization" if tab == "utilization" else ""},
            ),
        )

    @app.get("/memberships/programs", response_class=HTMLResponse)
    def membership_programs(request: Request) -> Response:
        """The membership programs (service agreements) the tenant sells: price per period, visits, discounts."""
        user = portal.user(request, "memberships")
        tenant = portal.tenant(request)
        rows = [
            {"id": r["id"], "name": r["name"], "cadence": CADENCE_LABELS[r["cadence"]],
             "price": fmt.money(r["price_cents"]), "visits": r["included_visits"],
             "discount": f"{r['discount_percent']}% off repairs" if r["discount_percent"] else "",
             "tasks": r["tasks"].split(";"), "active": "Active" if r["active"] else "Retired"}
            for r in tenant.query("SELECT * FROM membership_programs ORDER BY id")
        ]  # fmt: skip
        return render(request, "membership_programs.html", title="Membership programs", user=user,
                      active="memberships", rows=rows)  # fmt: skip

    @app.get("/memberships/{membership_id}", response_class=HTMLResponse)
    def membership_detail(request: Request, membership_id: str, saved: str | None = None) -> Response:
        user = portal.user(request, "memberships")
        tenant = portal.tenant(request)
        mid = parse_int(membership_id)
        rows = tenant.query(f"{_MEMBERSHIP_SELECT} WHERE m.id = ?", [mid]) if mid is not None else []
        if not rows:
            return error_page(404, scope=request)
        view = membership_view(tenant, rows[0])
        return render(request, "membership.html", title=view["number"], user=user, active="memberships", m=view,
                      notice={"created": "Membership created.", "renewed": "Membership renewed."}.get(saved or ""),
                      can_write="memberships.write" in portal.permissions(user),
                      history=membership_history(tenant, rows[0]))  # fmt: skip

    def membership_history(tenant: TenantData, row: Any) -> dict[str, Any]:
        """The membership's term history: the membership it renewed, and the one that renewed it (if any)."""
        def link(r: Any) -> dict[str, Any]:
            return {"id": r["id"], "number": r["number"], "start": us_date(r["start_date"]),
                    "end": us_date(r["end_date"])}

        before = tenant.query("SELECT * FROM customer_memberships WHERE id = ?", [row["renewed_from"]]) \
            if row["renewed_from"] is not None else []  # fmt: skip
        after = tenant.query("SELECT * FROM customer_memberships WHERE renewed_from = ? ORDER BY id", [row["id"]])
        return {"renewal_of": link(before[0]) if before else None, "renewed_as": link(after[0]) if after else None}

    def membership_form(request: Request, customer: Any, status_code: int = 200, *, renew: Any = None,
                        form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                        error: str | None = None) -> Response:  # fmt: skip
        user = portal.user(request, "memberships.write")
        tenant = portal.tenant(request)
        programs = [dict(r) for r in tenant.query("SELECT * FROM membership_programs WHERE active = 1 ORDER BY id")]
        for p in programs:
            p["price"] = fmt.money(p["price_cents"])
            p["cadence_label"] = CADENCE_LABELS[p["cadence"]]
        defaults = {"program_id": "", "cadence": "", "interval_count": "1", "price": "", "autopay": "",
                    "payment_method_ref": "", "start_date": f"{today(tenant):%m/%d/%Y}"}  # fmt: skip
        if renew is not None:
            end = date.fromisoformat(renew["end_date"]) if renew["end_date"] else today(tenant)
            defaults.update(program_id=str(renew["program_id"]), cadence=renew["cadence"],
                            interval_count=str(renew["interval_count"]), price=money_input(renew["price_cents"]),
                            autopay="1" if renew["autopay"] else "",
                            payment_method_ref=renew["payment_method_ref"] or "",
                            start_date=f"{max(end, today(tenant)):%m/%d/%Y}")  # fmt: skip
        defaults.update(form or {})
        locations = tenant.query("SELECT id, name, street FROM service_locations WHERE customer_id = ? ORDER BY id",
                                 [customer["id"]])  # fmt: skip
        action = (
            f"/memberships/{renew['id']}/renew" if renew is not None else f"/customers/{customer['id']}/memberships/new"
        )
        return render(request, "membership_form.html", status_code, user=user, active="memberships",
                      title=("Renew membership" if renew is not None else "New membership") + f" · {customer['name']}",
                      customer=customer, programs=programs, cadences=CADENCE_LABELS, form=defaults,
                      errors=errors or {}, error=error, renew=renew, action=action,
                      locations=[dict(r) for r in locations])  # fmt: skip

    def membership_errors(tenant: TenantData, form: dict[str, str]) -> tuple[dict[str, str], dict[str, Any]]:
        errors: dict[str, str] = {}
        clean: dict[str, Any] = {}
        program = parse_int(form["program_id"])
        rows = (
            tenant.query("SELECT * FROM membership_programs WHERE id = ? AND active = 1", [program]) if program else []
        )
        if not rows:
            errors["program_id"] = "Choose a membership program."
        else:
            clean["program"] = rows[0]
        if form["cadence"] not in CADENCE_LABELS:
            errors["cadence"] = "Choose how often the membership is billed."
        interval = parse_int(form["interval_count"])
        if interval is None or not 1 <= interval <= 12:
            errors["interval_count"] = "Bill every 1 to 12 periods."
        cents = parse_money(form["price"]) if form["price"].strip() else None
        if not form["price"].strip():
            errors["price"] = "Enter the price per billing period."
        elif cents is None:
            errors["price"] = "Enter a price like 189.00."
        elif cents <= 0:
            errors["price"] = "The price must be more than $0.00."
        ref = form["payment_method_ref"].strip()
        if form["autopay"] and not ref:
            errors["payment_method_ref"] = "Autopay needs a saved payment method token (pm_…)."
        elif ref and _CARD_NUMBER.search(ref) and len(re.sub(r"\D", "", ref)) >= 12:
            errors["payment_method_ref"] = "Never enter a full card number. Use the saved payment method token."
        elif ref and not _TOKEN.match(ref):
            errors["payment_method_ref"] = "A payment method token starts with pm_ (e.g. pm_4fT9kLm2Qx7Rz8)."
        start = parse_us_date(form["start_date"])
        if start is None:
            errors["start_date"] = "Enter the start date as MM/DD/YYYY."
        location = parse_int(form.get("location_id", ""))
        clean.update(cents=cents, interval=interval, ref=ref or None, start=start, location=location)
        return errors, clean

    def save_membership(tenant: TenantData, customer_id: int, clean: dict[str, Any], form: dict[str, str],
                        renewed_from: int | None) -> int:  # fmt: skip
        program = clean["program"]
        start: date = clean["start"]
        months = CADENCE_MONTHS[form["cadence"]] * clean["interval"]
        status = "active" if start <= today(tenant) else "pending"
        mid = int(tenant.query("SELECT COALESCE(MAX(id), 0) FROM customer_memberships")[0][0]) + 1
        autopay = bool(form["autopay"])
        statements: list[tuple[str, list[Any]]] = [(
            "INSERT INTO customer_memberships VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [mid, f"M-{20000 + mid}", customer_id, program["id"], clean["location"], status, start.isoformat(),
             add_months(start, 12).isoformat(), add_months(start, months).isoformat() if status == "active"
             else start.isoformat(), "auto_renew", form["cadence"], clean["interval"], clean["cents"], int(autopay),
             "card_on_file" if autopay else "invoice", clean["ref"], 0, program["included_visits"], now_utc(),
             renewed_from],
        )]  # fmt: skip
        if renewed_from is not None:
            statements.append(("UPDATE customer_memberships SET status = 'expired', next_billing_date = NULL "
                                "WHERE id = ? AND status IN ('active', 'pending')", [renewed_from]))  # fmt: skip
        tenant.write("memberships", statements)
        return mid

    def read_membership_form(program_id: str, cadence: str, interval_count: str, price: str, autopay: str,
                             payment_method_ref: str, start_date: str, location_id: str) -> dict[str, str]:  # fmt: skip
        return {"program_id": program_id, "cadence": cadence, "interval_count": interval_count, "price": price,
                "autopay": autopay, "payment_method_ref": payment_method_ref, "start_date": start_date,
                "location_id": location_id}  # fmt: skip

    @app.get("/customers/{customer_id}/memberships/new", response_class=HTMLResponse)
    def membership_new(request: Request, customer_id: str) -> Response:
        portal.user(request, "memberships.write")
        customer = customer_row(portal.tenant(request), customer_id)
        return membership_form(request, customer) if customer else error_page(404, scope=request)

    @app.post("/customers/{customer_id}/memberships/new", response_class=HTMLResponse)
    def membership_create(request: Request, customer_id: str, csrf_token: Annotated[str, Form()] = "",
                          program_id: Annotated[str, Form()] = "", cadence: Annotated[str, Form()] = "",
                          interval_count: Annotated[str, Form()] = "", price: Annotated[str, Form()] = "",
                          autopay: Annotated[str, Form()] = "", payment_method_ref: Annotated[str, Form()] = "",
                          start_date: Annotated[str, Form()] = "",
                          location_id: Annotated[str, Form()] = "") -> Response:  # fmt: skip
        portal.user(request, "memberships.write")
        tenant = portal.tenant(request)
        customer = customer_row(tenant, customer_id)
        if customer is None:
            return error_page(404, scope=request)
        form = read_membership_form(program_id, cadence, interval_count, price, autopay, payment_method_ref,
                                    start_date, location_id)  # fmt: skip
        if not csrf_ok(request, csrf_token):
            return membership_form(request, customer, 400, form=form, error=MSG_FORM_EXPIRED)
        errors, clean = membership_errors(tenant, form)
        if errors:
            return membership_form(request, customer, 422, form=form, errors=errors)
        mid = save_membership(tenant, customer["id"], clean, form, None)
        return portal.redirect(request, f"/memberships/{mid}?saved=created")

    def membership_row(tenant: TenantData, membership_id: str) -> Any:
        mid = parse_int(membership_id)
        rows = tenant.query("SELECT * FROM customer_memberships WHERE id = ?", [mid]) if mid is not None else []
        return rows[0] if rows else None

    @app.get("/memberships/{membership_id}/renew", response_class=HTMLResponse)
    def membership_renew_form(request: Request, membership_id: str) -> Response:
        portal.user(request, "memberships.write")
        tenant = portal.tenant(request)
        renew = membership_row(tenant, membership_id)
        if renew is None:
            return error_page(404, scope=request)
        return membership_form(request, customer_row(tenant, renew["customer_id"]), renew=renew)

    @app.post("/memberships/{membership_id}/renew", response_class=HTMLResponse)
    def membership_renew(request: Request, membership_id: str, csrf_token: Annotated[str, Form()] = "",
                         program_id: Annotated[str, Form()] = "", cadence: Annotated[str, Form()] = "",
                         interval_count: Annotated[str, Form()] = "", price: Annotated[str, Form()] = "",
                         autopay: Annotated[str, Form()] = "", payment_method_ref: Annotated[str, Form()] = "",
                         start_date: Annotated[str, Form()] = "",
                         location_id: Annotated[str, Form()] = "") -> Response:  # fmt: skip
        portal.user(request, "memberships.write")
        tenant = portal.tenant(request)
        renew = membership_row(tenant, membership_id)
        if renew is None:
            return error_page(404, scope=request)
        customer = customer_row(tenant, renew["customer_id"])
        form = read_membership_form(program_id, cadence, interval_count, price, autopay, payment_method_ref,
                                    start_date, location_id)  # fmt: skip
        if not csrf_ok(request, csrf_token):
            return membership_form(request, customer, 400, renew=renew, form=form, error=MSG_FORM_EXPIRED)
        renewed_as = membership_history(tenant, renew)["renewed_as"]
        if renewed_as is not None:  # a term is renewed once; the renewal is renewed in its turn
            return membership_form(request, customer, 409, renew=renew, form=form,
                                   error=f"This membership was already renewed as {renewed_as['number']}.")
        errors, clean = membership_errors(tenant, form)
        if errors:
            return membership_form(request, customer, 422, renew=renew, form=form, errors=errors)
        clean["location"] = clean["location"] or renew["location_id"]
        mid = save_membership(tenant, customer["id"], clean, form, renew["id"])
        return portal.redirect(request, f"/memberships/{mid}?saved=renewed")

    # -- estimates -----------------------------------------------------------------------------------

    _ESTIMATE_SELECT = (
        "SELECT e.*, c.name AS customer_name, w.number AS work_order_number, "
        "(SELECT MAX(total_cents) FROM estimate_options o WHERE o.estimate_id = e.id) AS top_cents, "
        "(SELECT COUNT(*) FROM estimate_options o WHERE o.estimate_id = e.id) AS option_count FROM estimates e "
        "LEFT JOIN customers c ON c.id = e.customer_id LEFT JOIN work_orders w ON w.id = e.work_order_id"
    )

    def estimate_view(tenant: TenantData, r: Any) -> dict[str, Any]:
        return {"id": r["id"], "number": r["number"], "customer": r["customer_name"], "customer_id": r["customer_id"],
                "work_order_id": r["work_order_id"], "work_order_number": r["work_order_number"],
                "status": ESTIMATE_STATUS[r["status"]], "status_key": r["status"],
                "created": when(tenant, r["created_at"]),
                "summary": r["summary"] or "", "options": r["option_count"],
                "top_total": fmt.money(r["top_cents"] or 0)}  # fmt: skip

    @app.get("/estimates", response_class=HTMLResponse)
    def estimates(request: Request, page: str | None = None, status: str | None = None) -> Response:
        user = portal.user(request, "estimates")
        tenant = portal.tenant(request)
        status = status if status in ESTIMATE_STATUS else ""
        where, params = (["e.status = ?"], [status]) if status else ([], [])
        total, number, pages, rows = _list_page(tenant, _ESTIMATE_SELECT, "SELECT COUNT(*) FROM estimates e {clause}",
                                                where, params, "e.id DESC", page)  # fmt: skip
        return render(request, "estimates.html", title="Estimates", user=user, active="estimates", status=status,
                      statuses=ESTIMATE_STATUS, rows=[estimate_view(tenant, r) for r in rows],
                      total_label=f"{total:,}",
                      **pagination(request, "/estimates", number, pages, {"status": status}))  # fmt: skip

    @app.get("/estimates/{estimate_id}", response_class=HTMLResponse)
    def estimate_detail(request: Request, estimate_id: str) -> Response:
        user = portal.user(request, "estimates")
        tenant = portal.tenant(request)
        eid = parse_int(estimate_id)
        rows = tenant.query(f"{_ESTIMATE_SELECT} WHERE e.id = ?", [eid]) if eid is not None else []
        if not rows:
            return error_page(404, scope=request)
        options = []
        for o in tenant.query("SELECT * FROM estimate_options WHERE estimate_id = ? ORDER BY id", [eid]):
            lines = [
                {
                    "description": r["description"],
                    "quantity": f"{r['quantity']:g}",
                    "unit_price": fmt.money(r["unit_price_cents"]),
                    "total": fmt.money(r["total_cents"]),
                }
                for r in tenant.query("SELECT * FROM estimate_lines WHERE option_id = ? ORDER BY id", [o["id"]])
            ]
            options.append({"id": o["id"], "name": o["name"], "total": fmt.money(o["total_cents"]), "lines": lines})
        return render(request, "estimate.html", title=rows[0]["number"], user=user, active="estimates",
                      est=estimate_view(tenant, rows[0]), options=options)  # fmt: skip

    # -- customers: create and edit ------------------------------------------------------------------

    def customer_form(request: Request, status_code: int = 200, *, customer: Any = None,
                      form: dict[str, str] | None = None, errors: dict[str, str] | None = None,
                      error: str | None = None) -> Response:  # fmt: skip
        user = portal.user(request, "customers.write")
        values = {"name": "", "type": "residential", "email": "", "phone": "", "city": "", "state": "",
                  "status": "active"}  # fmt: skip
        if customer is not None:
            values.update(name=customer["name"], type=customer["type"], email=customer["email"] or "",
                          phone=fmt.phone(customer["phone"]), city=customer["city"], state=customer["state"],
                          status=customer["status"])  # fmt: skip
        values.update(form or {})
        title = f"Edit {customer['name']}" if customer is not None else "New customer"
        action = f"/customers/{customer['id']}/edit" if customer is not None else "/customers/new"
        return render(request, "customer_form.html", status_code, title=title, user=user, active="customers",
                      form=values, errors=errors or {}, error=error, customer=customer, action=action,
                      type_labels=fmt.TYPE_LABELS, status_labels=fmt.STATUS_LABELS)  # fmt: skip

    def customer_fields(name: str, type: str, email: str, phone: str, city: str, state: str,
                        status: str) -> dict[str, str]:  # fmt: skip
        return {"name": name, "type": type, "email": email, "phone": phone, "city": city, "state": state,
                "status": status}  # fmt: skip

    @app.get("/customers/new", response_class=HTMLResponse)
    def customer_new(request: Request) -> Response:
        return customer_form(request)

    @app.post("/customers/new", response_class=HTMLResponse)
    def customer_create(request: Request, csrf_token: Annotated[str, Form()] = "", name: Annotated[str, Form()] = "",
                        type: Annotated[str, Form()] = "", email: Annotated[str, Form()] = "",
                        phone: Annotated[str, Form()] = "", city: Annotated[str, Form()] = "",
                        state: Annotated[str, Form()] = "",
                        status: Annotated[str, Form()] = "active") -> Response:  # fmt: skip
        portal.user(request, "customers.write")
        tenant = portal.tenant(request)
        form = customer_fields(name, type, email, phone, city, state, status)
        if not csrf_ok(request, csrf_token):
            return customer_form(request, 400, form=form, error=MSG_FORM_EXPIRED)
        errors, clean = validate_customer(form)
        if errors:
            return customer_form(request, 422, form=form, errors=errors)
        cid = int(tenant.query("SELECT COALESCE(MAX(id), 1000) FROM customers")[0][0]) + 1
        lid = int(tenant.query("SELECT COALESCE(MAX(id), 7000) FROM service_locations")[0][0]) + 1
        now = now_utc()
        tenant.write("customers", [
            ("INSERT INTO customers (id, number, name, type, email, phone, city, state, balance_cents, created_at, "
             "status, tags, modified_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, 0, ?, ?, '', ?)",
             [cid, f"C-{99000 + cid:06d}", clean["name"], clean["type"], clean["email"], clean["phone"],
              clean["city"], clean["state"], now, clean["status"], now]),
            ("INSERT INTO service_locations VALUES (?, ?, ?, ?, NULL, ?, ?, NULL, 'US', NULL, 1)",
             [lid, cid, "Home" if clean["type"] == "residential" else "Headquarters", "(address pending)",
              clean["city"], clean["state"]]),
        ])  # fmt: skip
        return portal.redirect(request, f"/customers/{cid}?saved=created")

    @app.get("/customers/{customer_id}/edit", response_class=HTMLResponse)
    def customer_edit_form(request: Request, customer_id: str) -> Response:
        portal.user(request, "customers.write")
        customer = customer_row(portal.tenant(request), customer_id)
        return customer_form(request, customer=customer) if customer else error_page(404, scope=request)

    @app.post("/customers/{customer_id}/edit", response_class=HTMLResponse)
    def customer_update(request: Request, customer_id: str, csrf_token: Annotated[str, Form()] = "",
                        name: Annotated[str, Form()] = "", type: Annotated[str, Form()] = "",
                        email: Annotated[str, Form()] = "", phone: Annotated[str, Form()] = "",
                        city: Annotated[str, Form()] = "", state: Annotated[str, Form()] = "",
                        status: Annotated[str, Form()] = "") -> Response:  # fmt: skip
        portal.user(request, "customers.write")
        tenant = portal.tenant(request)
        customer = customer_row(tenant, customer_id)
        if customer is None:
            return error_page(404, scope=request)
        form = customer_fields(name, type, email, phone, city, state, status)
        if not csrf_ok(request, csrf_token):
            return customer_form(request, 400, customer=customer, form=form, error=MSG_FORM_EXPIRED)
        errors, clean = validate_customer(form)
        if errors:
            return customer_form(request, 422, customer=customer, form=form, errors=errors)
        update_customer(tenant, customer["id"], clean, now_utc())
        return portal.redirect(request, f"/customers/{customer['id']}?saved=updated")

    # -- XHR endpoints behind the new-work-order form --------------------------------------------------

    @app.get("/api/customers/search")
    def customers_search(request: Request, q: str = "") -> Response:
        portal.user(request, "jobs")
        tenant = portal.tenant(request)
        text = q.strip()
        if len(text) < 2:
            return JSONResponse({"items": []})
        rows = tenant.query("SELECT id, number, name, city FROM customers WHERE name LIKE ? OR number LIKE ? "
                            "ORDER BY name COLLATE NOCASE, id LIMIT 10", [f"%{text}%", f"%{text}%"])  # fmt: skip
        return JSONResponse({"items": [dict(r) for r in rows]})

    @app.get("/api/customers/{customer_id}/locations")
    def customer_locations(request: Request, customer_id: str) -> Response:
        portal.user(request, "jobs")
        tenant = portal.tenant(request)
        cid = parse_int(customer_id)
        rows = tenant.query("SELECT * FROM service_locations WHERE customer_id = ? ORDER BY id", [cid])
        return JSONResponse({"items": [{"id": r["id"], "name": r["name"], "address": _address(r)} for r in rows]})

    @app.get("/api/pricebook/search")
    def pricebook_search(request: Request, q: str = "") -> Response:
        portal.user(request, "jobs")
        tenant = portal.tenant(request)
        text = q.strip()
        rows = tenant.query("SELECT * FROM pricebook_items WHERE active = 1 AND (name LIKE ? OR code LIKE ?) "
                            "ORDER BY code = ? COLLATE NOCASE DESC, id LIMIT 15",
                            [f"%{text}%", f"%{text}%", text])  # an exact code first; fmt: skip
        return JSONResponse({"items": [{"id": r["id"], "code": r["code"], "name": r["name"],
                                        "price_cents": r["price_cents"], "price": fmt.money(r["price_cents"]),
                                        "taxable": bool(r["taxable"])} for r in rows]})  # fmt: skip

    # -- new work order ------------------------------------------------------------------------------

    def job_form(request: Request, status_code: int = 200, *, form: dict[str, Any] | None = None,
                 errors: dict[str, str] | None = None, error: str | None = None) -> Response:  # fmt: skip
        user = portal.user(request, "jobs.create")
        tenant = portal.tenant(request)
        values: dict[str, Any] = {"customer_id": "", "customer_label": "", "location_id": "", "job_type": "",
                                  "priority": "normal", "summary": "", "arrival_window": "", "schedule_date": "",
                                  "schedule_time": "", "lines": [], "client_total": "", "reference": ""}  # fmt: skip
        values.update(form or {})
        locations = []
        if parse_int(str(values["customer_id"])):
            locations = [
                {"id": r["id"], "name": r["name"], "address": _address(r)}
                for r in tenant.query(
                    "SELECT * FROM service_locations WHERE customer_id = ? ORDER BY id", [values["customer_id"]]
                )
            ]
        return render(request, "job_form.html", status_code, title="New work order", user=user, active="jobs",
                      form=values, errors=errors or {}, error=error, job_types=JOB_TYPES, priorities=PRIORITIES,
                      windows=ARRIVAL_WINDOWS, locations=locations,
                      tax_rate_bp=TAX_RATE_BP.get(tenant.tenant.slug, 825))  # fmt: skip

    @app.get("/jobs/new", response_class=HTMLResponse)
    def job_new(request: Request, customer_id: str | None = None) -> Response:
        tenant = portal.tenant(request)
        portal.user(request, "jobs.create")
        form: dict[str, Any] = {}
        customer = customer_row(tenant, customer_id) if customer_id else None
        if customer is not None:
            form = {"customer_id": str(customer["id"]), "customer_label": f"{customer['name']} ({customer['number']})"}
        return job_form(request, form=form)

    @app.post("/jobs/new", response_class=HTMLResponse)
    async def job_create(request: Request) -> Response:
        portal.user(request, "jobs.create")
        user = portal.user(request)
        tenant = portal.tenant(request)
        data = await request.form()
        get = lambda key: str(data.get(key) or "")  # noqa: E731
        ids = [str(v) for v in data.getlist("line_item_id")]
        qtys = [str(v) for v in data.getlist("line_quantity")]
        prices = [str(v) for v in data.getlist("line_price")]  # optional unit-price overrides, blank: the pricebook's
        form: dict[str, Any] = {k: get(k) for k in ("customer_id", "customer_label", "location_id", "job_type",
                                                    "priority", "summary", "arrival_window", "schedule_date",
                                                    "schedule_time", "client_total", "reference")}  # fmt: skip
        if not csrf_ok(request, get("csrf_token")):
            return job_form(request, 400, form=form, error=MSG_FORM_EXPIRED)
        errors: dict[str, str] = {}
        customer = customer_row(tenant, form["customer_id"]) if form["customer_id"] else None
        if customer is None:
            errors["customer_id"] = "Choose a customer from the list."
        location = None
        if customer is not None:
            rows = tenant.query("SELECT * FROM service_locations WHERE id = ? AND customer_id = ?",
                                [parse_int(form["location_id"]), customer["id"]])  # fmt: skip
            location = rows[0] if rows else None
            if location is None:
                errors["location_id"] = "Choose one of the customer's service locations."
        if form["job_type"] not in JOB_TYPES:
            errors["job_type"] = "Choose a job type."
        if form["priority"] not in PRIORITIES:
            errors["priority"] = "Choose a priority."
        if form["arrival_window"] and form["arrival_window"] not in ARRIVAL_WINDOWS:
            errors["arrival_window"] = "Choose an arrival window."
        form["reference"] = " ".join(form["reference"].split())
        if len(form["reference"]) > 40:
            errors["reference"] = "Keep the customer PO / reference to 40 characters."
        start_utc = end_utc = None
        if form["schedule_date"] or form["schedule_time"]:
            day = parse_us_date(form["schedule_date"])
            moment = None
            try:
                moment = (
                    datetime.strptime(form["schedule_time"].strip().upper(), "%H:%M") if form["schedule_time"] else None
                )
            except ValueError:
                try:
                    moment = datetime.strptime(form["schedule_time"].strip().upper(), "%I:%M %p")
                except ValueError:
                    moment = None
            if day is None:
                errors["schedule_date"] = "Enter the date as MM/DD/YYYY."
            elif day < today(tenant):
                errors["schedule_date"] = "The date cannot be in the past."
            if moment is None:
                errors["schedule_time"] = "Enter a time like 9:00 AM."
            if day is not None and moment is not None and "schedule_date" not in errors:
                local = datetime.combine(day, moment.time(), tenant.zone)
                start_utc = format_instant(local)[:19] + "Z"
                end_utc = format_instant(local.replace(hour=min(local.hour + 2, 23)))[:19] + "Z"
        lines: list[dict[str, Any]] = []
        line_error = None
        prices += [""] * (len(ids) - len(prices))
        for raw_id, raw_qty, raw_price in zip(ids, qtys + [""] * (len(ids) - len(qtys)), prices, strict=False):
            item_rows = tenant.query("SELECT * FROM pricebook_items WHERE id = ? AND active = 1", [parse_int(raw_id)])
            try:
                qty = float(raw_qty)
            except ValueError:
                qty = 0.0
            if not item_rows:
                line_error = "One of the line items is no longer in the pricebook."
                continue
            item = item_rows[0]
            if not (0 < qty <= 999) or round(qty * 100) != qty * 100:
                line_error = f"Enter a quantity between 0.01 and 999 for {item['name']}."
            price_cents = item["price_cents"]
            if raw_price.strip():
                override = parse_money(raw_price)
                if override is None or not 0 <= override <= 99_999_999:
                    line_error = f"Enter a unit price like 125.00 for {item['name']}."
                else:
                    price_cents = override
            lines.append({"id": item["id"], "name": item["name"], "code": item["code"], "quantity": raw_qty,
                          "qty": qty, "price_cents": price_cents, "price": fmt.money(item["price_cents"]),
                          "price_override": raw_price.strip(), "taxable": item["taxable"]})  # fmt: skip
        form["lines"] = lines
        if line_error:
            errors["lines"] = line_error
        elif not lines:
            errors["lines"] = "Add at least one line item."
        subtotal = sum(round(line["qty"] * line["price_cents"]) for line in lines)
        taxable = sum(round(line["qty"] * line["price_cents"]) for line in lines if line["taxable"])
        tax = (taxable * TAX_RATE_BP.get(tenant.tenant.slug, 825) + 5000) // 10000
        if not errors and parse_money(form["client_total"]) != subtotal + tax:
            errors["lines"] = (f"The total changed to {fmt.money(subtotal + tax)} (prices are re-checked when you "
                               "save). Review the line items and save again.")  # fmt: skip
            form["client_total"] = ""
        if errors:
            return job_form(request, 422, form=form, errors=errors)
        assert customer is not None and location is not None
        wid = create_work_order(
            tenant, customer_id=customer["id"], location_id=location["id"], job_type=form["job_type"],
            priority=form["priority"], summary=form["summary"], start_utc=start_utc, end_utc=end_utc,
            arrival=form["arrival_window"], total_cents=subtotal, by=user.display_name, now=now_utc(),
            reference=form["reference"], lines=lines,
        )  # fmt: skip
        return portal.redirect(request, f"/jobs/{wid}?created=1")

    # -- attachments (upload with checksum, iframe viewer), print preview ---------------------------------

    def job_exists(tenant: TenantData, job_id: str) -> int | None:
        wid = parse_int(job_id)
        if wid is None or not tenant.query("SELECT 1 FROM work_orders WHERE id = ?", [wid]):
            return None
        return wid

    @app.post("/jobs/{job_id}/attachments", response_class=HTMLResponse)
    async def attachment_upload(request: Request, job_id: str, file: Annotated[UploadFile | None, File()] = None,
                                csrf_token: Annotated[str, Form()] = "") -> Response:  # fmt: skip
        user = portal.user(request, "jobs")
        tenant = portal.tenant(request)
        wid = job_exists(tenant, job_id)
        if wid is None:
            return error_page(404, scope=request)
        if not csrf_ok(request, csrf_token):
            return portal.redirect(request, f"/jobs/{wid}?upload_error=expired")
        data = await file.read(MAX_UPLOAD_BYTES + 1) if file is not None else b""
        if file is None or not file.filename or not data:
            return portal.redirect(request, f"/jobs/{wid}?upload_error=empty")
        if len(data) > MAX_UPLOAD_BYTES:
            return portal.redirect(request, f"/jobs/{wid}?upload_error=too_large")
        if "corrupt_upload" in sandbox.faults.matching(request.url.path):
            data = data[:-1]  # a proxy that cut the file short: the portal stores (and vouches for) what it got
        digest = hashlib.sha256(data).hexdigest()
        aid = int(tenant.query("SELECT COALESCE(MAX(id), 0) FROM attachments")[0][0]) + 1
        name = re.sub(r"[\\/\x00-\x1f]", "_", file.filename)[-120:]
        tenant.write("attachments", [(
            "INSERT INTO attachments VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [aid, wid, name, file.content_type or "application/octet-stream", len(data), digest, data, now_utc(),
             user.display_name],
        )])  # fmt: skip
        return portal.redirect(request, f"/jobs/{wid}?uploaded={aid}")

    @app.get("/jobs/{job_id}/attachments/viewer", response_class=HTMLResponse)
    def attachment_viewer(request: Request, job_id: str) -> Response:
        """The page inside the work order's iframe: a robot must switch into the frame to read it."""
        portal.user(request, "jobs")
        tenant = portal.tenant(request)
        wid = job_exists(tenant, job_id)
        if wid is None:
            return error_page(404, scope=request)
        rows = tenant.query("SELECT id, filename, content_type, size, sha256, uploaded_at, uploaded_by FROM "
                            "attachments WHERE work_order_id = ? ORDER BY id", [wid])  # fmt: skip
        files = [{"id": r["id"], "name": r["filename"], "type": r["content_type"], "size": f"{r['size']:,} bytes",
                  "sha256": r["sha256"], "uploaded": when(tenant, r["uploaded_at"]), "by": r["uploaded_by"]}
                 for r in rows]  # fmt: skip
        preview = None
        if rows and rows[-1]["content_type"].startswith("text/"):
            blob = tenant.query("SELECT data FROM attachments WHERE id = ?", [rows[-1]["id"]])[0][0]
            preview = bytes(blob[:2000]).decode("utf-8", "replace")
        return portal.render(request, "attachment_viewer.html", title="Attachments", files=files, preview=preview,
                             job_id=wid)  # fmt: skip

    @app.get("/jobs/{job_id}/attachments/{attachment_id}")
    def attachment_download(request: Request, job_id: str, attachment_id: str) -> Response:
        portal.user(request, "jobs")
        tenant = portal.tenant(request)
        rows = tenant.query("SELECT * FROM attachments WHERE id = ? AND work_order_id = ?",
                            [parse_int(attachment_id), parse_int(job_id)])  # fmt: skip
        if not rows:
            return error_page(404, scope=request)
        r = rows[0]
        return Response(bytes(r["data"]), media_type=r["content_type"],
                        headers={"Content-Disposition": f'attachment; filename="{r["filename"]}"',
                                 "X-Checksum-SHA256": r["sha256"]})  # fmt: skip

    @app.get("/jobs/{job_id}/print", response_class=HTMLResponse)
    def job_print(request: Request, job_id: str) -> Response:
        """Print preview: opened by a target=_blank link, so it arrives in a new window."""
        portal.user(request, "jobs")
        tenant = portal.tenant(request)
        wid = job_exists(tenant, job_id)
        if wid is None:
            return error_page(404, scope=request)
        row = tenant.query("SELECT w.*, c.name AS customer_name FROM work_orders w LEFT JOIN customers c "
                           "ON c.id = w.customer_id WHERE w.id = ?", [wid])[0]  # fmt: skip
        extras = job_extras(request, tenant, wid)
        return portal.render(request, "job_print.html", title=f"Print {row['number']}", job=row,
                             scheduled=when(tenant, row["scheduled_start_at"]), x=extras)  # fmt: skip


def _address(row: Any) -> str:
    unit = f" {row['unit']}" if row["unit"] else ""
    zipcode = f" {row['zip']}" if row["zip"] else ""
    return f"{row['street']}{unit}, {row['city']}, {row['state']}{zipcode}"


__all__ = ["register", "parse_money", "payment_ref_error", "WORK_ORDER_STATUSES"]
