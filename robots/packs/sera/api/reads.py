"""Reads backed by the Sera flows: customers, work orders, the pricebook and invoices.

A list runs its list flow (which follows the portal's pagination to the end) and answers one page of it in the
pagination envelope; a detail runs the detail flow. Every run is in the audit log with its run id.
"""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Depends, Path, Query, Request
from pydantic import ValidationError

from robots.api.common import audit, decode_cursor, encode_cursor, page_of, run_audited, services
from robots.api.errors import ERROR_RESPONSES, ApiError
from robots.api.tokens import Principal, need
from robots.packs.sera.api.models import (
    CustomerOut,
    CustomerPage,
    InvoicePage,
    PricebookPage,
    WorkOrderOut,
    WorkOrderPage,
)
from robots.packs.sera.api.warm import WarmReads
from robots.packs.sera.models import Customer, CustomerDetail, Invoice, PricebookItem, WorkOrder, WorkOrderDetail
from robots.records.model import RunRecord

router = APIRouter(tags=["reads"], responses=ERROR_RESPONSES)

PageQ = Query(1, ge=1, le=100000, description="1-based page (ignored when cursor is given)")
SizeQ = Query(50, ge=1, le=100, description="items per page")
DAY = r"^(\d{4}-\d{2}-\d{2})?$"
CursorQ = Query(None, max_length=200, description="next_cursor of the previous page")


def _read(request: Request, principal: Principal, flow: str, vars: dict[str, Any], action: str,
          target: str | None) -> RunRecord:
    record: RunRecord = run_audited(request, principal, flow, vars, action, target)
    return record


def _models(model: Any, items: list[Any], run_id: str) -> list[Any]:
    try:
        return [model.model_validate(i) for i in items]
    except ValidationError as e:
        raise ApiError(502, f"the portal's data did not fit the {model.__name__} model", type="scrape_drift",
                       details={"run_id": run_id, "errors": e.errors(include_url=False, include_input=False)}) from None


def _warm(request: Request) -> WarmReads:
    """The app's warm reads, made on first use and closed when the app stops."""
    state = services(request)
    warm: WarmReads | None = getattr(state, "sera_warm", None)
    if warm is None:
        warm = state.sera_warm = WarmReads(state.flows)
        state.closing.append(warm.close)
    return warm


def _clean(values: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in values.items() if v not in (None, "")}


@router.get("/customers", response_model=CustomerPage, summary="Customers, filtered and paginated")
def list_customers(
    request: Request,
    q: str = Query("", max_length=200, description="free text over name, e-mail, phone, city and number"),
    type: Literal["", "residential", "commercial"] = "",
    status: Literal["", "active", "inactive", "on_hold"] = "",
    tag: str = Query("", max_length=100),
    modified_on_or_after: str = Query("", pattern=r"^(\d{4}-\d{2}-\d{2})?$", description="YYYY-MM-DD"),
    sort: Literal["", "name", "-name", "created", "-created", "balance", "-balance", "modified", "-modified"] = "",
    page: int = PageQ, page_size: int = SizeQ, cursor: str | None = CursorQ,
    principal: Principal = Depends(need("customers:read")),  # noqa: B008
) -> dict[str, Any]:
    vars = _clean({"q": q, "type": type, "status": status, "tag": tag,
                   "modified_on_or_after": modified_on_or_after, "sort": sort})
    offset = decode_cursor(cursor) if cursor else (page - 1) * page_size
    warm = _warm(request).customers_page(principal, vars, offset, page_size)
    if warm is not None:
        audit(request, principal, "customers.list", None, "ok (http)")
        items = _models(Customer, warm["items"], "")
        return {**{k: warm[k] for k in ("page", "page_size", "total_count", "has_more")}, "items": items,
                "next_cursor": encode_cursor(offset + page_size) if warm["has_more"] else None}
    record = _read(request, principal, "sera/list_customers", {**vars, "page_size": 100}, "customers.list",
                   None)
    items = _models(Customer, record.outputs.get("customers") or [], record.run_id)
    return page_of(items, page, page_size, cursor)


@router.get("/customers/{customer_id}", response_model=CustomerOut, summary="One customer with its locations, "
            "contacts and memberships")
def get_customer(request: Request, customer_id: int = Path(ge=1, le=2**31 - 1),
                 principal: Principal = Depends(need("customers:read"))) -> dict[str, Any]:  # noqa: B008
    record = _read(request, principal, "sera/get_customer", {"id": customer_id}, "customers.get", str(customer_id))
    return {"customer": _models(CustomerDetail, [record.outputs.get("customer")], record.run_id)[0],
            "run_id": record.run_id}


@router.get("/work-orders", response_model=WorkOrderPage, summary="Work orders, filtered and paginated")
def list_work_orders(
    request: Request,
    q: str = Query("", max_length=200), status: str = Query("", max_length=40),
    technician: str = Query("", max_length=100), customer_id: str = Query("", pattern=r"^\d{0,10}$"),
    date_from: str = Query("", pattern=DAY), date_to: str = Query("", pattern=DAY),
    page: int = PageQ, page_size: int = SizeQ, cursor: str | None = CursorQ,
    principal: Principal = Depends(need("work_orders:read")),  # noqa: B008
) -> dict[str, Any]:
    vars = _clean({"q": q, "status": status, "technician": technician, "customer_id": customer_id,
                   "date_from": date_from, "date_to": date_to})
    record = _read(request, principal, "sera/list_work_orders", vars, "work_orders.list", None)
    items = _models(WorkOrder, record.outputs.get("work_orders") or [], record.run_id)
    return page_of(items, page, page_size, cursor)


@router.get("/work-orders/{work_order_id}", response_model=WorkOrderOut, summary="One work order in full")
def get_work_order(request: Request, work_order_id: int = Path(ge=1, le=2**31 - 1),
                   principal: Principal = Depends(need("work_orders:read"))) -> dict[str, Any]:  # noqa: B008
    record = _read(request, principal, "sera/get_work_order", {"id": work_order_id}, "work_orders.get",
                   str(work_order_id))
    return {"work_order": _models(WorkOrderDetail, [record.outputs.get("work_order")], record.run_id)[0],
            "run_id": record.run_id}


@router.get("/pricebook", response_model=PricebookPage, summary="Pricebook items (services, materials, equipment)")
def list_pricebook(request: Request, q: str = Query("", max_length=200), category: str = Query("", max_length=100),
                   page: int = PageQ, page_size: int = SizeQ, cursor: str | None = CursorQ,
                   principal: Principal = Depends(need("pricebook:read"))) -> dict[str, Any]:  # noqa: B008
    record = _read(request, principal, "sera/list_pricebook", _clean({"q": q, "category": category}),
                   "pricebook.list", None)
    items = _models(PricebookItem, record.outputs.get("items") or [], record.run_id)
    return page_of(items, page, page_size, cursor)


@router.get("/invoices", response_model=InvoicePage, summary="Invoices, filtered and paginated")
def list_invoices(request: Request, q: str = Query("", max_length=200), status: str = Query("", max_length=40),
                  payment_status: str = Query("", max_length=40),
                  page: int = PageQ, page_size: int = SizeQ, cursor: str | None = CursorQ,
                  principal: Principal = Depends(need("invoices:read"))) -> dict[str, Any]:  # noqa: B008
    record = _read(request, principal, "sera/list_invoices",
                   _clean({"q": q, "status": status, "payment_status": payment_status}), "invoices.list", None)
    items = _models(Invoice, record.outputs.get("invoices") or [], record.run_id)
    return page_of(items, page, page_size, cursor)
