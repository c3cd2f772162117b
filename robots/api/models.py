"""Request and response bodies of the API's own endpoints (every one documented in /openapi.json); a portal pack's
routes bring their own (robots/packs/<name>/api/models.py), built on `Page`."""

from __future__ import annotations

from datetime import datetime
from typing import Any, Generic, Literal, TypeVar

from pydantic import BaseModel, ConfigDict, Field

T = TypeVar("T")


class _In(BaseModel):
    model_config = ConfigDict(extra="forbid")


class Health(BaseModel):
    status: Literal["ok"]
    version: str
    database: Literal["ok"]


class Page(BaseModel, Generic[T]):
    items: list[T]
    page: int
    page_size: int
    total_count: int
    has_more: bool
    next_cursor: str | None


class RunStart(_In):
    vars: dict[str, Any] = Field(default_factory=dict, description="the flow's vars")


class RunOut(BaseModel):
    run_id: str
    flow_name: str
    status: str
    started_at: datetime
    ended_at: datetime | None
    outputs: dict[str, Any]
    error_class: str | None
    error_message: str | None
    failure_kind: str | None
    pages: int
    rows: int
    steps: int


class EvidenceFile(BaseModel):
    name: str = Field(description="the file's name in the run's evidence, e.g. step-003.png")
    content_type: str = Field(description="image/png, text/html or application/json")
    size: int = Field(description="bytes")
    sha256: str
    url: str = Field(description="where to get it: /runs/{id}/evidence/{name}")


class EvidenceOut(BaseModel):
    step_index: int
    url: str | None = Field(description="the page the failed step was on (secrets masked)")
    screenshot: EvidenceFile | None
    html: EvidenceFile | None = Field(description="the page's HTML, secrets masked")
    console: EvidenceFile | None = Field(description="the browser console's messages (JSON)")
    network: EvidenceFile | None = Field(description="the last network requests (JSON)")


class RunEvidence(BaseModel):
    run_id: str
    evidence: list[EvidenceOut] = Field(description="one entry per failed step that saved evidence")


class AuditEntry(BaseModel):
    id: int
    at: datetime
    who: str
    token_id: str | None
    tenant: str | None
    action: str
    target: str | None
    result: str
    run_id: str | None
    request_id: str | None


class AuditPage(BaseModel):
    items: list[AuditEntry]
    next_cursor: str | None
