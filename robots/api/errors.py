"""One error envelope for every error: `{"error": {"type", "message", "details", "request_id"}}`.

`ApiError` is raised by the endpoints; the handlers here turn it, FastAPI's validation errors, Starlette's HTTP
errors and anything unexpected into the envelope, so no traceback ever reaches a client.
"""

from __future__ import annotations

import logging
import uuid
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.responses import Response

log = logging.getLogger("robots.api")

REQUEST_ID = "X-Request-Id"

# The `type` of each status the API answers with.
TYPES = {400: "bad_request", 401: "unauthorized", 403: "forbidden", 404: "not_found", 405: "method_not_allowed",
         409: "conflict", 415: "unsupported_media_type", 422: "invalid_input", 429: "rate_limited",
         500: "internal_error", 502: "portal_failed", 503: "unavailable", 504: "portal_timeout"}


class ErrorBody(BaseModel):
    type: str = Field(description="machine-readable kind, e.g. invalid_input, forbidden, portal_failed")
    message: str = Field(description="what went wrong, in words (the portal's own words when it refused)")
    details: Any = Field(None, description="e.g. the field errors of a 422: [{loc, msg, type}]")
    request_id: str


class ErrorEnvelope(BaseModel):
    error: ErrorBody


ERROR_RESPONSES: dict[int | str, dict[str, Any]] = {
    code: {"model": ErrorEnvelope, "description": TYPES[code]}
    for code in (400, 401, 403, 404, 409, 422, 429, 502, 503, 504)
}


class ApiError(Exception):
    """An error answered with the envelope; `headers` e.g. Retry-After."""

    def __init__(self, status: int, message: str, *, type: str | None = None, details: Any = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(message)
        self.status = status
        self.type = type or TYPES.get(status, "error")
        self.message = message
        self.details = details
        self.headers = headers or {}


def request_id(request: Request) -> str:
    rid = getattr(request.state, "request_id", None)
    if rid is None:
        rid = request.state.request_id = _new_request_id(request)
    return str(rid)


def _new_request_id(request: Request) -> str:
    given = request.headers.get(REQUEST_ID, "")
    # A client's own id is echoed when it is a sane token; anything else gets a fresh one.
    if 0 < len(given) <= 64 and all(c.isalnum() or c in "-_." for c in given):
        return given
    return uuid.uuid4().hex


def envelope(request: Request, status: int, message: str, *, type: str | None = None, details: Any = None,
             headers: dict[str, str] | None = None) -> JSONResponse:
    rid = request_id(request)
    body = ErrorEnvelope(error=ErrorBody(type=type or TYPES.get(status, "error"), message=message, details=details,
                                         request_id=rid))
    return JSONResponse(body.model_dump(mode="json"), status_code=status, headers={**(headers or {}), REQUEST_ID: rid})


def _field_errors(exc: RequestValidationError) -> list[dict[str, Any]]:
    out = []
    for e in exc.errors():
        loc = list(e.get("loc", ()))
        names = [str(p) for p in loc]
        out.append({"loc": loc, "field": ".".join(names[1:]) if len(names) > 1 else ".".join(names),
                    "msg": str(e.get("msg", "")), "type": str(e.get("type", ""))})
    return out


def install(app: FastAPI) -> None:
    @app.exception_handler(ApiError)
    async def _api_error(request: Request, exc: ApiError) -> JSONResponse:
        return envelope(request, exc.status, exc.message, type=exc.type, details=exc.details, headers=exc.headers)

    @app.exception_handler(RequestValidationError)
    async def _invalid(request: Request, exc: RequestValidationError) -> JSONResponse:
        errors = _field_errors(exc)
        if any(e["type"] == "json_invalid" for e in errors):
            return envelope(request, 400, "the request body is not valid JSON", details=errors)
        fields = ", ".join(e["field"] for e in errors)
        return envelope(request, 422, f"invalid input: {fields}", details=errors)

    @app.exception_handler(StarletteHTTPException)
    async def _http(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        message = {404: "no such endpoint", 405: "method not allowed on this endpoint"}.get(
            exc.status_code, str(exc.detail))
        return envelope(request, exc.status_code, message, headers=dict(exc.headers or {}))

    @app.exception_handler(Exception)
    async def _unexpected(request: Request, exc: Exception) -> JSONResponse:
        log.error("request %s failed: %s: %s", request_id(request), type(exc).__name__, exc)
        return envelope(request, 500, "internal error; the request id identifies it in the server's log")

    app.add_middleware(RequestIdMiddleware)


class RequestIdMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        rid = request_id(request)
        try:
            response = await call_next(request)
        except Exception as exc:  # noqa: BLE001 - the envelope, never a traceback (raised past the handlers)
            log.error("request %s failed: %s: %s", rid, type(exc).__name__, exc)
            response = envelope(request, 500, "internal error; the request id identifies it in the server's log")
        response.headers[REQUEST_ID] = rid
        return response
