"""Webhook subscriptions: POST/GET /webhooks, GET/DELETE /webhooks/{id} (a token sees its session's own)."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from fastapi import APIRouter, Depends, Request, Response
from pydantic import BaseModel, ConfigDict, Field, HttpUrl

from robots.api.common import audit, services
from robots.api.errors import ERROR_RESPONSES, ApiError
from robots.api.tokens import Principal, need
from robots.netguard import TargetRefused

router = APIRouter(tags=["webhooks"], responses=ERROR_RESPONSES)


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")
    url: HttpUrl = Field(description="where events are POSTed (signed: X-Robots-Signature, X-Robots-Event-Id)")
    events: list[Literal["run.finished"]] = Field(["run.finished"], min_length=1)


class WebhookOut(BaseModel):
    webhook_id: str
    url: str
    events: list[str]
    created_at: datetime


class WebhookList(BaseModel):
    items: list[WebhookOut]


def _owner(principal: Principal) -> str:
    """Subscriptions belong to the caller's portal session (or token): another owner's, of this tenant or another,
    is answered 404 like one that does not exist."""
    return principal.owner


def _out(row: object) -> WebhookOut:
    return WebhookOut(webhook_id=row.webhook_id, url=row.url, events=row.events.split(),  # type: ignore[attr-defined]
                      created_at=row.created_at)  # type: ignore[attr-defined]


@router.post("/webhooks", status_code=201, response_model=WebhookOut, summary="Subscribe a URL to events")
def create_webhook(request: Request, body: WebhookCreate,
                   principal: Principal = Depends(need("webhooks:manage"))) -> WebhookOut:  # noqa: B008
    try:  # public addresses only, unless the operator allows a network (robots.netguard)
        services(request).webhooks.check(str(body.url))
    except TargetRefused as e:
        raise ApiError(422, str(e), type="webhook_url_refused") from None
    row = services(request).webhooks.add(_owner(principal), str(body.url), list(dict.fromkeys(body.events)),
                                         tenant=principal.tenant)
    audit(request, principal, "webhooks.create", row.webhook_id, "ok")
    return _out(row)


@router.get("/webhooks", response_model=WebhookList, summary="This token's webhook subscriptions")
def list_webhooks(request: Request, principal: Principal = Depends(need("webhooks:manage"))) -> WebhookList:  # noqa: B008
    return WebhookList(items=[_out(r) for r in services(request).webhooks.of(_owner(principal))])


@router.get("/webhooks/{webhook_id}", response_model=WebhookOut, summary="One webhook subscription")
def get_webhook(webhook_id: str, request: Request,
                principal: Principal = Depends(need("webhooks:manage"))) -> WebhookOut:  # noqa: B008
    row = services(request).webhooks.get(_owner(principal), webhook_id)
    if row is None:
        raise ApiError(404, f"no webhook {webhook_id!r}", type="webhook_not_found")
    return _out(row)


@router.delete("/webhooks/{webhook_id}", status_code=204, response_class=Response, summary="Unsubscribe")
def delete_webhook(webhook_id: str, request: Request,
                   principal: Principal = Depends(need("webhooks:manage"))) -> Response:  # noqa: B008
    if not services(request).webhooks.remove(_owner(principal), webhook_id):
        raise ApiError(404, f"no webhook {webhook_id!r}", type="webhook_not_found")
    audit(request, principal, "webhooks.delete", webhook_id, "ok")
    return Response(status_code=204)
