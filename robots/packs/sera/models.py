"""Normalized Sera records (docs/DOMAIN.md). A list view fills what it shows and leaves the rest None.

Every model is registered by name (`sera.customer`, ...) so that a flow's extract step (`record:`) or its
`conform` step can declare the shape it returns; a record that does not fit is scrape drift (ContractError)."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from robots.scrape.contracts import register_model

_UTC = r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$"
_DATE = r"^\d{4}-\d\d-\d\d$"
_ID = r"^\d+$"



def _utc() -> Any:
    """An optional UTC instant field ('2025-03-14T19:05:00Z')."""
    return Field(None, pattern=_UTC)


def _date() -> Any:
    """An optional date field ('2025-03-14'), for what the portal shows without a time of day."""
    return Field(None, pattern=_DATE)


class _Part(BaseModel):
    """A record nested inside another (a line item, an address): strict, frozen, no provenance of its own."""

    model_config = ConfigDict(extra="forbid", frozen=True)


class _Row(_Part):
    """A nested record read from a table row or a card: it may carry the page it came from."""

    source_url: str | None = None
    scraped_at: str | None = Field(None, pattern=_UTC)


class SeraRecord(_Part):
    source_url: str
    scraped_at: str = Field(pattern=_UTC)


# ----- customers ---------------------------------------------------------------------------------------


class Customer(SeraRecord):
    id: str = Field(pattern=_ID)
    number: str | None = None
    name: str
    type: Literal["residential", "commercial"] | None = None
    status: Literal["active", "inactive", "on_hold"] | None = None
    raw_status: str | None = None
    raw_type: str | None = None
    email: str | None = None
    phones: list[str] = Field(default_factory=list)
    city: str | None = None
    tags: list[str] | None = None
    balance_cents: int | None = None
    created_at: str | None = _utc()
    modified_at: str | None = _utc()
    do_not_service: bool | None = None
    locations: list[str] | None = None
    primary_contact: str | None = None


class Address(_Part):
    street: str | None = None
    unit: str | None = None
    city: str | None = None
    state: str | None = None
    zip: str | None = None
    country: str | None = None


class ServiceLocation(_Row):
    id: str = Field(pattern=_ID)
    customer_id: str | None = None
    name: str | None = None
    primary: bool | None = None
    address: Address
    geo: dict[str, float] | None = None
    access_notes: str | None = None
    equipment: list[str] | None = None


class ContactMethod(_Part):
    type: Literal["email", "phone", "mobile"]
    value: str
    opt_in: bool | None = None


class Contact(_Row):
    id: str = Field(pattern=_ID)
    customer_id: str | None = None
    name: str
    role: str | None = None
    primary: bool | None = None
    methods: list[ContactMethod]


# ----- work orders -------------------------------------------------------------------------------------

WorkOrderStatus = Literal["unscheduled", "scheduled", "dispatched", "in_progress", "paused", "on_hold", "completed",
                          "canceled"]  # fmt: skip


class LineItem(_Row):
    pricebook_item_id: str | None = None
    code: str | None = None
    description: str
    quantity: float
    unit_price_cents: int
    total_cents: int
    taxable: bool | None = None


class TechnicianAssignment(_Row):
    technician_id: str | None = None
    technician: str
    role: Literal["lead", "helper"]
    raw_role: str | None = None
    assigned_at: str | None = _utc()
    accepted_at: str | None = _utc()
    dispatched_at: str | None = _utc()
    arrived_at: str | None = _utc()
    completed_at: str | None = _utc()


class StatusChange(_Row):
    status: WorkOrderStatus
    raw_status: str
    at: str = Field(pattern=_UTC)
    by: str | None = None
    reason: str | None = None


class WorkOrder(SeraRecord):
    """A job. The list fills number, customer, job type, priority, status, schedule, technician and total."""

    id: str = Field(pattern=_ID)
    number: str = Field(pattern=r"^WO-\d+$")
    customer_id: str | None = None
    customer: str | None = None
    location_id: str | None = None
    location: str | None = None
    job_type: str | None = None
    priority: Literal["low", "normal", "high", "emergency"] | None = None
    raw_priority: str | None = None
    summary: str | None = None
    status: WorkOrderStatus
    raw_status: str
    scheduled_start_at: str | None = _utc()
    scheduled_end_at: str | None = _utc()
    arrival_window: str | None = None
    technician: str | None = None
    invoice_id: str | None = None
    total_cents: int | None = None
    created_at: str | None = _utc()
    modified_at: str | None = _utc()


class WorkOrderDetail(WorkOrder):
    line_items: list[LineItem]
    subtotal_cents: int | None = None
    tax_cents: int | None = None
    grand_total_cents: int | None = None
    assignments: list[TechnicianAssignment]
    status_history: list[StatusChange]
    appointments: list[Appointment]


class Appointment(_Row):
    """One appointment: on the dispatch board (with its technician) or a work order's scheduled visit."""

    id: str | None = None
    work_order_id: str | None = None
    technician: str | None = None
    job_type: str | None = None
    customer: str | None = None
    start_at: str | None = _utc()
    end_at: str | None = _utc()
    status: Literal["pending", "accepted", "running", "completed", "canceled"]
    raw_status: str
    assigned: bool | None = None


# ----- pricebook, estimates, invoices, payments --------------------------------------------------------


class PricebookItem(SeraRecord):
    id: str = Field(pattern=_ID)
    code: str
    name: str
    kind: Literal["service", "material", "equipment"]
    raw_kind: str | None = None
    category: str | None = None
    price_cents: int
    member_price_cents: int | None = None
    cost_cents: int | None = None
    taxable: bool
    active: bool
    raw_active: str | None = None


class EstimateOption(_Part):
    id: str = Field(pattern=_ID)
    name: str
    total_cents: int
    line_items: list[LineItem]


EstimateStatus = Literal["draft", "sent", "approved", "declined", "expired"]


class Estimate(SeraRecord):
    id: str = Field(pattern=_ID)
    number: str
    customer: str | None = None
    work_order_number: str | None = None
    work_order_id: str | None = None
    created_at: str | None = _utc()
    status: EstimateStatus
    raw_status: str
    option_count: int | None = None
    top_total_cents: int | None = None
    options: list[EstimateOption] | None = None


class Invoice(SeraRecord):
    id: str = Field(pattern=_ID)
    number: str
    work_order_id: str | None = None
    work_order_number: str | None = None
    customer_id: str | None = None
    customer: str | None = None
    line_items: list[LineItem] | None = None
    subtotal_cents: int | None = None
    tax_cents: int | None = None
    total_cents: int
    balance_cents: int
    status: Literal["pending", "finalized", "voided"]
    raw_status: str
    payment_status: Literal["unpaid", "partial", "paid", "refunded"]
    raw_payment_status: str
    issued_date: str | None = _date()
    due_date: str | None = _date()


class Payment(SeraRecord):
    id: str = Field(pattern=_ID)
    number: str | None = None
    invoice_id: str | None = None
    invoice_number: str | None = None
    customer: str | None = None
    kind: Literal["payment", "refund"]
    raw_kind: str | None = None
    method: Literal["card", "ach", "check", "cash", "financing"]
    raw_method: str | None = None
    amount_cents: int
    status: Literal["succeeded", "pending", "failed"] | None = None
    raw_status: str | None = None
    paid_at: str | None = _utc()
    #: a token, the last four digits, a check number or a financing application: never a full card number
    payment_method_ref: str | None = Field(
        None, pattern=r"^(pm_[A-Za-z0-9]+|[^0-9]*\d{4}|Check #\d{1,8}|[A-Za-z ]+ APP-\d{1,10})$")


# ----- memberships, users ------------------------------------------------------------------------------

Cadence = Literal["monthly", "quarterly", "semi_annual", "annual"]


class MembershipProgram(SeraRecord):
    id: str = Field(pattern=_ID)
    name: str
    cadence: Cadence
    raw_cadence: str | None = None
    price_cents: int
    included_visits: int
    discounts: list[str]
    tasks: list[str] | None = None
    active: bool


class MembershipBilling(_Part):
    cadence: Cadence
    raw_cadence: str | None = None
    interval_count: int = Field(ge=1)
    price_cents: int
    autopay: bool | None = None
    collection_method: str | None = None
    payment_method_ref: str | None = None


class CustomerMembership(SeraRecord):
    id: str = Field(pattern=_ID)
    number: str | None = None
    customer_id: str | None = None
    customer: str | None = None
    program_id: str | None = None
    program: str | None = None
    status: Literal["active", "pending", "expired", "canceled"]
    raw_status: str
    start_date: str | None = _date()
    end_date: str | None = _date()
    next_billing_date: str | None = _date()
    renewal_type: Literal["auto_renew", "expires"] | None = None
    raw_renewal_type: str | None = None
    billing: MembershipBilling
    visits_used: int | None = None
    visits_included: int | None = None


class User(SeraRecord):
    id: str
    name: str
    username: str | None = None
    email: str | None = None
    role: Literal["admin", "dispatcher", "csr", "technician"]
    raw_role: str | None = None
    permissions: list[str]
    active: bool


# ----- composed records (detail pages) -----------------------------------------------------------------


class CustomerDetail(Customer):
    """The customer page: the customer with its locations, contacts, memberships and open work orders."""

    state: str | None = None
    locations: list[ServiceLocation]  # type: ignore[assignment]
    contacts: list[Contact]
    memberships: list[CustomerMembership]
    open_work_orders: list[WorkOrder]
    invoices: list[Invoice] | None = None


WorkOrderDetail.model_rebuild()

MODELS: dict[str, type[BaseModel]] = {
    "sera.customer": Customer, "sera.customer_detail": CustomerDetail, "sera.service_location": ServiceLocation,
    "sera.contact": Contact, "sera.work_order": WorkOrder, "sera.work_order_detail": WorkOrderDetail,
    "sera.appointment": Appointment, "sera.pricebook_item": PricebookItem, "sera.estimate": Estimate,
    "sera.invoice": Invoice, "sera.payment": Payment, "sera.membership_program": MembershipProgram,
    "sera.customer_membership": CustomerMembership, "sera.user": User,
}  # fmt: skip
for _name, _model in MODELS.items():
    register_model(_name, _model)
