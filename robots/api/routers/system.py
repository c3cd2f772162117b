"""GET /health and GET /audit."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Query, Request
from sqlalchemy import text

import robots
from robots.api.common import decode_cursor, encode_cursor, services
from robots.api.errors import ERROR_RESPONSES
from robots.api.models import AuditEntry, AuditPage, Health
from robots.api.tokens import Principal, need

router = APIRouter(tags=["system"], responses=ERROR_RESPONSES)


@router.get("/health", response_model=Health, summary="Liveness and database check (no token needed)")
def health(request: Request) -> Health:
    with services(request).store.engine.connect() as c:
        c.execute(text("SELECT 1"))
    return Health(status="ok", version=getattr(robots, "__version__", "0.1.0"), database="ok")


@router.get("/audit", response_model=AuditPage, summary="The audit log, newest first (admin or audit:read)")
def audit_log(request: Request, limit: int = Query(50, ge=1, le=500), cursor: str | None = None,
              action: str | None = Query(None, max_length=255),
              principal: Principal = Depends(need("audit:read"))) -> AuditPage:  # noqa: B008
    before = decode_cursor(cursor) if cursor else None
    # A tenant's token reads its tenant's entries only; an operator's token (no tenant) reads them all.
    rows = services(request).tokens.audit_entries(limit=limit, before_id=before, action=action,
                                                   tenant=principal.tenant)
    items = [AuditEntry.model_validate(r, from_attributes=True) for r in rows]
    return AuditPage(items=items, next_cursor=encode_cursor(items[-1].id) if len(items) == limit else None)
