"""POST /flows/{name}/runs (202 + Location), GET /runs/{id}, GET /runs/{id}/evidence, DELETE /runs/{id}."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import JSONResponse

from robots.api.auth import Principal, need
from robots.api.common import IDEMPOTENCY_HEADER, audit, idempotent, services
from robots.api.errors import ERROR_RESPONSES, ApiError
from robots.api.models import RunEvidence, RunOut, RunStart
from robots.records import RunNotFound
from robots.records.model import RunRecord

router = APIRouter(tags=["runs"], responses=ERROR_RESPONSES)


def run_out(record: RunRecord) -> dict[str, Any]:
    return RunOut(run_id=record.run_id, flow_name=record.flow_name, status=record.status,
                  started_at=record.started_at, ended_at=record.ended_at, outputs=record.outputs,
                  error_class=record.error_class, error_message=record.error_message,
                  failure_kind=record.failure_kind, pages=record.pages, rows=record.rows,
                  steps=len(record.steps)).model_dump(mode="json")


def _api_run(request: Request, run_id: str) -> RunRecord:
    try:
        record: RunRecord = services(request).store.get(run_id)
    except RunNotFound:
        raise ApiError(404, f"no run with id {run_id!r}", type="run_not_found") from None
    if record.trigger != "api":
        raise ApiError(404, f"no run with id {run_id!r}", type="run_not_found")
    return record


@router.post("/flows/{name:path}/runs", status_code=202, response_model=RunOut,
             summary="Start any flow under the flows folder with vars; poll the Location or register a webhook")
def start_run(name: str, request: Request, body: RunStart,
              idempotency_key: str | None = Header(None, alias=IDEMPOTENCY_HEADER),
              principal: Principal = Depends(need("flows:run"))) -> JSONResponse:  # noqa: B008
    state = services(request)

    def call() -> tuple[int, Any, dict[str, str]]:
        flow = state.flows.load(name)
        record = state.flows.start(flow, body.vars, principal)
        audit(request, principal, "flows.run", name, "accepted", record.run_id)
        return 202, run_out(record), {"Location": f"/runs/{record.run_id}"}

    return idempotent(request, principal, idempotency_key, body, call)


@router.get("/runs/{run_id}", response_model=RunOut, summary="A run's status and, once it ended, its outputs")
def get_run(run_id: str, request: Request,
            principal: Principal = Depends(need("runs:read"))) -> dict[str, Any]:  # noqa: B008
    return run_out(_api_run(request, run_id))


@router.get("/runs/{run_id}/evidence", response_model=RunEvidence,
            summary="What a failed run saved: screenshot, HTML and URL per failed step (paths in the run folder)")
def get_evidence(run_id: str, request: Request,
                 principal: Principal = Depends(need("runs:read"))) -> RunEvidence:  # noqa: B008
    record = _api_run(request, run_id)
    return RunEvidence(run_id=record.run_id, run_dir=record.run_dir, evidence=[
        {"step_index": e.step_index, "screenshot": e.screenshot, "html": e.html, "url": e.url}  # type: ignore[misc]
        for e in record.evidence])


@router.delete("/runs/{run_id}", status_code=202, response_model=RunOut,
               summary="Cancel a run: its runner stops it before its next step and records it canceled")
def cancel_run(run_id: str, request: Request,
               principal: Principal = Depends(need("flows:run"))) -> JSONResponse:  # noqa: B008
    state = services(request)
    record = _api_run(request, run_id)
    if record.status != "running":
        raise ApiError(409, f"run {run_id} already ended {record.status}", type="run_ended",
                       details={"status": record.status})
    state.store.request_cancel(run_id, by=f"api ({principal.label})")
    audit(request, principal, "runs.cancel", run_id, "requested", run_id)
    return JSONResponse(run_out(record), status_code=202, headers={"Location": f"/runs/{run_id}"})
