"""Request and response bodies of the Sera API routes (every one documented in /openapi.json)."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from robots.api.models import Page
from robots.packs.sera.models import Customer, CustomerDetail, Invoice, PricebookItem, WorkOrder, WorkOrderDetail


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Mfa(_In):
    method: Literal["totp", "sms", "email", "sso"] = Field(description="the account's second factor")
    totp_secret: str | None = Field(None, description="method totp: the authenticator secret (base32 or otpauth://)")
    totp_secret_ref: str | None = Field(None, description="method totp: the name of a vault secret holding it")
    to: str | None = Field(None, description="method sms/email: the phone number or address the codes go to")


class SessionCreate(_In):
    portal_url: HttpUrl | None = Field(None, description="the tenant's portal, e.g. https://acme.sera.example "
                                       "(default: the API's ROBOTS_PORTAL_URL)")
    tenant: str | None = Field(None, max_length=255, description="optional: the tenant the caller expects; the "
                               "session's tenant is always the one the API's operator named for the portal "
                               "(ROBOTS_API_PORTALS), and another value here is refused")
    username: str | None = Field(None, min_length=1, max_length=255)
    password: str | None = Field(None, min_length=1, max_length=1024)
    credential: str | None = Field(None, pattern=r"^[A-Za-z0-9_]{1,64}$",
                                   description="a stored credential: vault secrets NAME_username, NAME_password "
                                               "(and NAME_totp)")
    mfa: Mfa | None = None
    scopes: list[str] | None = Field(None, description="scopes to grant, among those the calling token holds "
                                     "(default: every read and write scope the caller holds)")


class TokenOut(BaseModel):
    token: str = Field(description="the API token; shown once, send it as `Authorization: Bearer <token>`")
    token_id: str
    session_id: str | None
    scopes: list[str]
    expires_at: datetime
    tenant: str | None
    username: str | None
    role: str | None = Field(None, description="the portal user's role as the portal shows it after the sign-in "
                                               "(admin, dispatcher, csr or technician); what it cannot do is 403")
    run_id: str | None = Field(None, description="the sign-in run")


class CustomerPage(Page[Customer]):
    pass


class WorkOrderPage(Page[WorkOrder]):
    pass


class PricebookPage(Page[PricebookItem]):
    pass


class InvoicePage(Page[Invoice]):
    pass


class CustomerOut(BaseModel):
    customer: CustomerDetail
    run_id: str


class WorkOrderOut(BaseModel):
    work_order: WorkOrderDetail
    run_id: str


class CustomerCreate(_In):
    name: str = Field(min_length=1, max_length=200)
    email: str = Field(min_length=3, max_length=254)
    phone: str = Field("", max_length=40)
    type: Literal["residential", "commercial"] = "residential"
    status: Literal["active", "inactive", "on_hold"] = "active"
    city: str = Field(min_length=1, max_length=100)
    state: str = Field(min_length=2, max_length=2)


class CustomerCreated(BaseModel):
    customer: CustomerDetail
    created: bool = Field(description="false when the portal already had it (a retried create)")
    run_id: str


class StatusChange(_In):
    status: str = Field(min_length=1, max_length=40, description="the new status, as the portal names it")
    reason: str = Field("", max_length=500)


class StatusChanged(BaseModel):
    work_order: dict[str, Any]
    changed: bool
    run_id: str


class WorkOrderLine(_In):
    code: str = Field(min_length=1, max_length=40, description="the pricebook item's code")
    quantity: float = Field(1, gt=0, le=100000)
    price: str | None = Field(None, pattern=r"^\d{1,7}(\.\d{2})?$", description="overrides the unit price")


class WorkOrderCreate(_In):
    customer: str = Field(min_length=1, max_length=40, description="the customer's id (1003) or number (C-100003)")
    location_id: int | None = Field(None, ge=1)
    job_type: str = Field(min_length=1, max_length=100)
    priority: Literal["low", "normal", "high", "emergency"] = "normal"
    summary: str = Field("", max_length=500)
    date: str = Field("", pattern=r"^(\d{2}/\d{2}/\d{4})?$", description="MM/DD/YYYY; empty: unscheduled")
    time: str = Field("", max_length=20, description="like 9:00 AM")
    arrival_window: str = Field("", max_length=40)
    lines: list[WorkOrderLine] = Field(min_length=1, max_length=100)


class WorkOrderCreated(BaseModel):
    work_order: dict[str, Any]
    created: bool
    run_id: str


class MembershipCreate(_In):
    program_id: int = Field(ge=1)
    cadence: Literal["monthly", "quarterly", "semi_annual", "annual"]
    interval: int = Field(1, ge=1, le=12)
    price: str = Field(pattern=r"^\d{1,7}(\.\d{2})?$", description="per billing period, e.g. 189.00")
    autopay: bool = False
    payment_method_token: str | None = Field(None, max_length=200, description="kept as a secret: masked in "
                                             "records, never stored by the API")
    start_date: str = Field("", pattern=r"^(\d{4}-\d{2}-\d{2})?$")
    location_id: int | None = Field(None, ge=1)


class MembershipCreated(BaseModel):
    membership: dict[str, Any]
    created: bool
    run_id: str
