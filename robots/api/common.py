"""Helpers the routers share: the app's services, pagination, the audit log and Idempotency-Key."""

from __future__ import annotations

import base64
import hashlib
import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from fastapi import Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel
from sqlalchemy import delete, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker

from robots.api.errors import REQUEST_ID, ApiError, request_id
from robots.api.tables import IdempotencyRow
from robots.api.tokens import Principal


def services(request: Request) -> Any:
    return request.app.state


# ------------------------------------------------------------------ pagination
def encode_cursor(offset: int) -> str:
    return base64.urlsafe_b64encode(f"o:{offset}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        kind, _, number = text.partition(":")
        if kind != "o" or not number.isdigit():
            raise ValueError(text)
        return int(number)
    except ValueError:
        raise ApiError(400, "the cursor is not one this API gave out", type="invalid_cursor",
                       details=[{"loc": ["query", "cursor"], "field": "cursor", "msg": "unknown cursor",
                                 "type": "value_error"}]) from None


def page_of(items: list[Any], page: int, page_size: int, cursor: str | None) -> dict[str, Any]:
    """One page of `items`: by `cursor` when given, else by the 1-based `page`."""
    offset = decode_cursor(cursor) if cursor else (page - 1) * page_size
    chosen = items[offset:offset + page_size]
    more = offset + page_size < len(items)
    return {"items": chosen, "page": offset // page_size + 1, "page_size": page_size, "total_count": len(items),
            "has_more": more, "next_cursor": encode_cursor(offset + page_size) if more else None}


# ------------------------------------------------------------------ audit log
def audit(request: Request, principal: Principal | None, action: str, target: str | None, result: str,
          run_id: str | None = None, *, who: str | None = None, tenant: str | None = None) -> None:
    services(request).tokens.audit(
        who=who or (principal.label if principal else "anonymous"), token_id=principal.token_id if principal else None,
        tenant=tenant or (principal.tenant if principal else None), action=action, target=target, result=result,
        run_id=run_id, request_id=request_id(request))


_GATE_LOCK = threading.Lock()


def portal_gate(state: Any) -> threading.BoundedSemaphore:
    """At most `ROBOTS_MAX_BROWSERS` of this API's requests run a flow at once; the others wait here, before their
    run starts, instead of 20 requests at once starting 20 runs (records, threads, files) that each wait for one of
    the pool's browser slots."""
    from robots.pool import max_browsers

    with _GATE_LOCK:
        gate = getattr(state, "portal_gate", None)
        if gate is None:
            gate = state.portal_gate = threading.BoundedSemaphore(max_browsers())
        return gate  # type: ignore[no-any-return]


def run_audited(request: Request, principal: Principal, flow: str, vars: dict[str, Any], action: str,
                target: str | None, secrets: dict[str, str] | None = None) -> Any:
    """Run a library flow for this request and wait (see FlowService.run), with its audit line either way."""
    state = services(request)
    loaded = state.flows.load(flow, library=True)
    try:
        with portal_gate(state):
            record = state.flows.run(loaded, vars, principal, secrets)
    except ApiError as e:
        run_id = e.details.get("run_id") if isinstance(e.details, dict) else None
        audit(request, principal, action, target, f"error {e.status}", run_id)
        raise
    audit(request, principal, action, target, "ok", record.run_id)
    return record


# ------------------------------------------------------------------ Idempotency-Key
IDEMPOTENCY_HEADER = "Idempotency-Key"
STALE_CLAIM_S = 900  # longer than any write flow may take (their runs are bounded by the flows' own timeouts)
# Keys this process is answering right now: their claims are never stale, however long they waited for a browser.
_ANSWERING: set[tuple[str, str]] = set()
_ANSWERING_LOCK = threading.Lock()


def idempotent(request: Request, principal: Principal, key: str | None, body: BaseModel | None,
               call: Callable[[], tuple[int, Any, dict[str, str]]]) -> JSONResponse:
    """Answer a POST/PATCH once per Idempotency-Key: the same key and body again gets the stored answer without
    running anything; the same key with another body is 409. A 5xx is not kept, so a retry runs again (the write
    flows find a record an earlier attempt made by its key before submitting)."""
    if key is not None and not (1 <= len(key) <= 255):
        raise ApiError(400, "the Idempotency-Key header must be 1 to 255 characters", type="invalid_idempotency_key")
    if key is None:
        status, payload, headers = call()
        return _respond(request, status, payload, headers)
    owner = principal.owner
    text = json.dumps(body.model_dump(mode="json") if body else None, sort_keys=True)
    fingerprint = hashlib.sha256(f"{request.method} {request.url.path}\n{text}".encode()).hexdigest()
    engine = services(request).store.engine
    write = sessionmaker(engine.execution_options(robots_write=True))
    try:
        with _ANSWERING_LOCK, write.begin() as s:
            # A claim left by a request that never finished (the server died in it) is taken over after a while;
            # never one this process is still answering (it may have waited long for a browser slot).
            if (owner, key) not in _ANSWERING:
                s.execute(delete(IdempotencyRow).where(
                    IdempotencyRow.token_id == owner, IdempotencyRow.key == key,
                    IdempotencyRow.status_code.is_(None), IdempotencyRow.request_sha256 == fingerprint,
                    IdempotencyRow.created_at < datetime.now(UTC) - timedelta(seconds=STALE_CLAIM_S)))
            s.add(IdempotencyRow(token_id=owner, key=key, request_sha256=fingerprint, status_code=None,
                                 created_at=datetime.now(UTC)))
            s.flush()
            _ANSWERING.add((owner, key))
    except IntegrityError:
        with sessionmaker(engine)() as s:
            row = s.get(IdempotencyRow, (owner, key))
        if row is None:
            raise ApiError(409, "a request with this Idempotency-Key is being answered; retry",
                           type="idempotency_in_progress") from None
        if row.request_sha256 != fingerprint:
            raise ApiError(409, "this Idempotency-Key was used with a different request", type="idempotency_conflict",
                           details={"idempotency_key": key}) from None
        if row.status_code is None:
            raise ApiError(409, "a request with this Idempotency-Key is still being answered; retry later",
                           type="idempotency_in_progress", headers={"Retry-After": "5"}) from None
        headers = json.loads(row.headers_json or "{}")
        stored = json.loads(row.response_json or "null")
        if isinstance(stored, dict) and isinstance(stored.get("error"), dict):
            stored["error"]["request_id"] = request_id(request)  # the envelope names this request, like its header
        return _respond(request, row.status_code, stored, {**headers, "Idempotent-Replayed": "true"})
    try:
        status, payload, headers = call()
    except ApiError as e:
        if e.status >= 500:
            _forget(write, owner, key)
        else:
            _keep(write, owner, key, e.status, {"error": {"type": e.type, "message": e.message, "details": e.details,
                                                         "request_id": request_id(request)}}, e.headers)
        raise
    except BaseException:
        _forget(write, owner, key)
        raise
    else:
        _keep(write, owner, key, status, payload, headers)
    finally:
        with _ANSWERING_LOCK:
            _ANSWERING.discard((owner, key))
    return _respond(request, status, payload, headers)


def _keep(write: sessionmaker[Any], owner: str, key: str, status: int, payload: Any, headers: dict[str, str]) -> None:
    with write.begin() as s:
        row = s.get(IdempotencyRow, (owner, key))
        if row is not None:
            row.status_code = status
            row.response_json = json.dumps(payload)
            row.headers_json = json.dumps(headers)


def _forget(write: sessionmaker[Any], owner: str, key: str) -> None:
    with write.begin() as s:
        s.execute(delete(IdempotencyRow).where(IdempotencyRow.token_id == owner, IdempotencyRow.key == key))


def _respond(request: Request, status: int, payload: Any, headers: dict[str, str]) -> JSONResponse:
    return JSONResponse(payload, status_code=status, headers={**headers, REQUEST_ID: request_id(request)})


def stored_keys(engine: Any, owner: str) -> list[str]:
    with sessionmaker(engine)() as s:
        return list(s.scalars(select(IdempotencyRow.key).where(IdempotencyRow.token_id == owner)))
