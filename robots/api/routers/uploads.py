"""POST /uploads: a file for a flow's file input, kept in the API's uploads area (robots.api.uploads) for the
caller alone; a flow run through the API is given its upload id, never a path of the server."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Request
from fastapi.concurrency import run_in_threadpool
from pydantic import BaseModel, Field
from starlette.datastructures import UploadFile

from robots.api.common import audit, services
from robots.api.errors import ERROR_RESPONSES, ApiError
from robots.api.tokens import Principal, need

router = APIRouter(tags=["uploads"], responses=ERROR_RESPONSES)
USAGE = "POST /uploads takes a multipart/form-data body with one file field named 'file'"


class UploadOut(BaseModel):
    upload_id: str = Field(description="give it as the value of a flow's file var (e.g. upload_attachment's `file`)")
    name: str = Field(description="the file's name as stored (the flow sees this name)")
    size: int = Field(description="bytes")
    sha256: str


_BODY: dict[str, Any] = {"requestBody": {"required": True, "content": {"multipart/form-data": {"schema": {
    "type": "object", "required": ["file"],
    "properties": {"file": {"type": "string", "format": "binary", "description": "the file (one)"}}}}}}}


@router.post("/uploads", status_code=201, response_model=UploadOut, openapi_extra=_BODY,
             responses={413: {"description": "payload_too_large: over ROBOTS_API_MAX_UPLOAD_BYTES"},
                        415: {"description": "unsupported_media_type: not multipart/form-data"}},
             summary="Upload a file for a flow's file input; only this caller can use its upload id")
async def create_upload(request: Request,
                        principal: Principal = Depends(need("flows:run"))) -> UploadOut:  # noqa: B008
    if not request.headers.get("content-type", "").lower().startswith("multipart/form-data"):
        raise ApiError(415, USAGE)
    # Read only now, after authentication; the body's size is bounded by robots.api.limits.BodyLimit.
    async with request.form(max_files=1, max_fields=0) as form:
        file = form.get("file")
        if not isinstance(file, UploadFile):
            raise ApiError(422, USAGE, type="invalid_input",
                           details=[{"loc": ["body", "file"], "field": "file", "msg": "a file is required",
                                     "type": "missing"}])
        stored = await run_in_threadpool(services(request).uploads.save, file.file, file.filename or "",
                                         owner=principal.owner, tenant=principal.tenant)
    await run_in_threadpool(audit, request, principal, "uploads.create", stored["upload_id"], "ok")
    return UploadOut(**stored)
