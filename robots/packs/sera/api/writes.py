"""Writes backed by the Sera write flows, each behind an Idempotency-Key: the key is also the flow's own
idempotency key, so a write retried after a timeout finds the record the first attempt made instead of making a
second one (the flows probe before they submit)."""

from __future__ import annotations

import hashlib
import uuid
from typing import Any

from fastapi import APIRouter, Depends, Header, Path, Request

from robots.api.common import IDEMPOTENCY_HEADER, audit, idempotent, run_audited, services
from robots.api.errors import ERROR_RESPONSES
from robots.api.models import RunOut
from robots.api.routers.runs import run_out
from robots.api.tokens import Principal, need
from robots.packs.sera.api.models import (
    CustomerCreate,
    CustomerCreated,
    MembershipCreate,
    MembershipCreated,
    StatusChange,
    StatusChanged,
    WorkOrderCreate,
    WorkOrderCreated,
)
from robots.packs.sera.api.reads import _models
from robots.packs.sera.models import CustomerDetail
from robots.records.model import RunRecord

router = APIRouter(tags=["writes"], responses=ERROR_RESPONSES)
KeyHeader = Header(None, alias=IDEMPOTENCY_HEADER, description="makes a retried write safe (1-255 characters)")


PreferHeader = Header(None, alias="Prefer", description="`respond-async`: answer 202 at once with `Location: "
                                                         "/runs/{id}` (poll it, or get the run.finished webhook)")
#: the answer of a write asked for with `Prefer: respond-async`
ASYNC: dict[int | str, dict[str, Any]] = {202: {"model": RunOut, "description": "Prefer: respond-async - the write's "
                                                "run started; its Location is /runs/{id}, its outputs the record"}}


def _write(request: Request, principal: Principal, flow: str, vars: dict[str, Any], action: str,
           target: str | None, secrets: dict[str, str] | None = None) -> RunRecord:
    record: RunRecord = run_audited(request, principal, flow, vars, action, target, secrets)
    return record


def _respond_async(prefer: str | None) -> bool:
    """Whether the client prefers an answer at once (RFC 7240 `Prefer: respond-async`)."""
    return prefer is not None and any(p.split(";")[0].strip().lower() == "respond-async" for p in prefer.split(","))


def _started(request: Request, principal: Principal, flow: str, vars: dict[str, Any], action: str,
             target: str | None, secrets: dict[str, str] | None = None) -> tuple[int, Any, dict[str, str]]:
    """A write started on a worker: 202 with its run (kept for the Idempotency-Key like any answer, so the same
    key and body answer the same run)."""
    state = services(request)
    record = state.flows.start(state.flows.load(flow, library=True), vars, principal, secrets)
    audit(request, principal, action, target, "accepted", record.run_id)
    return 202, run_out(record), {"Location": f"/runs/{record.run_id}", "Preference-Applied": "respond-async"}


def _flow_key(principal: Principal, key: str | None) -> str:
    """The key the flow writes into the portal (a work order's reference holds at most 40 characters): derived
    from the caller and its Idempotency-Key, so two clients' "1" never meet and the portal sees neither."""
    if not key:
        return f"api-{uuid.uuid4().hex[:24]}"
    return "api-" + hashlib.sha256(f"{principal.owner}\n{key}".encode()).hexdigest()[:24]


@router.post("/customers", status_code=201, response_model=CustomerCreated, summary="Create a customer",
             responses=ASYNC)
def create_customer(request: Request, body: CustomerCreate, idempotency_key: str | None = KeyHeader,
                    prefer: str | None = PreferHeader,
                    principal: Principal = Depends(need("customers:write"))) -> Any:  # noqa: B008
    def call() -> tuple[int, Any, dict[str, str]]:
        vars = {"idempotency_key": _flow_key(principal, idempotency_key), "name": body.name, "email": body.email,
                "phone": body.phone, "type": body.type.capitalize(),
                "status": {"on_hold": "On hold"}.get(body.status, body.status.capitalize()),
                "city": body.city, "state": body.state}
        if _respond_async(prefer):
            return _started(request, principal, "sera/create_customer", vars, "customers.create", body.name)
        record = _write(request, principal, "sera/create_customer", vars, "customers.create", body.name)
        customer = _models(CustomerDetail, [record.outputs.get("customer")], record.run_id)[0]
        out = CustomerCreated(customer=customer, created=bool(record.outputs.get("created")), run_id=record.run_id)
        return 201, out.model_dump(mode="json"), {"Location": f"/customers/{customer.id}"}

    return idempotent(request, principal, idempotency_key, body, call)


@router.patch("/work-orders/{work_order_id}/status", response_model=StatusChanged,
              summary="Move a work order to another status", responses=ASYNC)
def change_status(request: Request, body: StatusChange, work_order_id: int = Path(ge=1, le=2**31 - 1),
                  idempotency_key: str | None = KeyHeader, prefer: str | None = PreferHeader,
                  principal: Principal = Depends(need("work_orders:write"))) -> Any:  # noqa: B008
    def call() -> tuple[int, Any, dict[str, str]]:
        vars = {"idempotency_key": _flow_key(principal, idempotency_key), "id": work_order_id,
                "status": body.status, "reason": body.reason}
        if _respond_async(prefer):
            return _started(request, principal, "sera/change_work_order_status", vars, "work_orders.status",
                            str(work_order_id))
        record = _write(request, principal, "sera/change_work_order_status", vars, "work_orders.status",
                        str(work_order_id))
        out = StatusChanged(work_order=record.outputs.get("work_order") or {},
                            changed=bool(record.outputs.get("changed")), run_id=record.run_id)
        return 200, out.model_dump(mode="json"), {}

    return idempotent(request, principal, idempotency_key, body, call)


@router.post("/work-orders", status_code=201, response_model=WorkOrderCreated,
             summary="Create a work order: customer, location, job type, schedule window, pricebook lines",
             responses=ASYNC)
def create_work_order(request: Request, body: WorkOrderCreate, idempotency_key: str | None = KeyHeader,
                      prefer: str | None = PreferHeader,
                      principal: Principal = Depends(need("work_orders:write"))) -> Any:  # noqa: B008
    def call() -> tuple[int, Any, dict[str, str]]:
        vars: dict[str, Any] = {
            "idempotency_key": _flow_key(principal, idempotency_key), "customer": body.customer,
            "job_type": body.job_type, "priority": body.priority,
            "lines": [{k: v for k, v in line.model_dump().items() if v is not None} for line in body.lines]}
        for name in ("location_id", "summary", "date", "time", "arrival_window"):
            value = getattr(body, name)
            if value not in (None, ""):
                vars[name] = str(value)
        if _respond_async(prefer):
            return _started(request, principal, "sera/create_work_order", vars, "work_orders.create", body.customer)
        record = _write(request, principal, "sera/create_work_order", vars, "work_orders.create", body.customer)
        work_order = record.outputs.get("work_order") or {}
        out = WorkOrderCreated(work_order=work_order, created=bool(record.outputs.get("created")),
                               run_id=record.run_id)
        return 201, out.model_dump(mode="json"), {"Location": f"/work-orders/{work_order.get('id')}"}

    return idempotent(request, principal, idempotency_key, body, call)


@router.post("/customers/{customer_id}/memberships", status_code=201, response_model=MembershipCreated,
             summary="Create a membership with its billing configuration", responses=ASYNC)
def create_membership(request: Request, body: MembershipCreate, customer_id: int = Path(ge=1, le=2**31 - 1),
                      idempotency_key: str | None = KeyHeader, prefer: str | None = PreferHeader,
                      principal: Principal = Depends(need("memberships:write"))) -> Any:  # noqa: B008
    def call() -> tuple[int, Any, dict[str, str]]:
        vars: dict[str, Any] = {
            "idempotency_key": _flow_key(principal, idempotency_key), "customer_id": customer_id,
            "program_id": body.program_id, "cadence": body.cadence, "interval": body.interval,
            "price": body.price, "autopay": body.autopay}
        for name in ("start_date", "location_id"):
            value = getattr(body, name)
            if value not in (None, ""):
                vars[name] = str(value)
        secrets = {"sera_payment_method": body.payment_method_token} if body.payment_method_token else None
        if _respond_async(prefer):
            return _started(request, principal, "sera/create_membership", vars, "memberships.create",
                            str(customer_id), secrets)
        record = _write(request, principal, "sera/create_membership", vars, "memberships.create", str(customer_id),
                        secrets)
        out = MembershipCreated(membership=record.outputs.get("membership") or {},
                                created=bool(record.outputs.get("created")), run_id=record.run_id)
        return 201, out.model_dump(mode="json"), {}

    return idempotent(request, principal, idempotency_key, body, call)
