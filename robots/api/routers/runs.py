"""POST /flows/{name}/runs (202 + Location), GET /runs/{id}, GET /runs/{id}/evidence (the list) and
/evidence/{name} (one file), DELETE /runs/{id}."""

from __future__ import annotations

import hashlib
from pathlib import Path
from typing import Any
from urllib.parse import quote

from fastapi import APIRouter, Depends, Header, Request
from fastapi.responses import FileResponse, JSONResponse

from robots.api.common import IDEMPOTENCY_HEADER, audit, idempotent, services
from robots.api.errors import ERROR_RESPONSES, ApiError
from robots.api.models import EvidenceFile, EvidenceOut, RunEvidence, RunOut, RunStart
from robots.api.tokens import Principal, need
from robots.records import RunNotFound
from robots.records.model import RunRecord

router = APIRouter(tags=["runs"], responses=ERROR_RESPONSES)
CONTENT_TYPES = {".png": "image/png", ".html": "text/html; charset=utf-8", ".json": "application/json"}


def run_out(record: RunRecord) -> dict[str, Any]:
    return RunOut(run_id=record.run_id, flow_name=record.flow_name, status=record.status,
                  started_at=record.started_at, ended_at=record.ended_at, outputs=record.outputs,
                  error_class=record.error_class, error_message=record.error_message,
                  failure_kind=record.failure_kind, pages=record.pages, rows=record.rows,
                  steps=len(record.steps)).model_dump(mode="json")


def _api_run(request: Request, run_id: str, principal: Principal) -> RunRecord:
    """The API run `run_id` if the caller may see it (its own, or its tenant's with an admin token); any other run,
    of another tenant or another owner or not started through the API, is answered as one that does not exist."""
    state = services(request)
    owner = state.tokens.run_owner(run_id)
    if owner is None or not principal.sees(owner.tenant, owner.owner):
        raise ApiError(404, f"no run with id {run_id!r}", type="run_not_found")
    try:
        record: RunRecord = state.store.get(run_id)
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
    return run_out(_api_run(request, run_id, principal))


@router.get("/runs/{run_id}/evidence", response_model=RunEvidence,
            summary="What a failed run saved, per failed step: screenshot, HTML (secrets masked), console and "
                    "network logs, each with its size, SHA-256 and URL")
def get_evidence(run_id: str, request: Request,
                 principal: Principal = Depends(need("runs:read"))) -> RunEvidence:  # noqa: B008
    record = _api_run(request, run_id, principal)
    folder = _evidence_dir(record)
    steps = []
    for e in record.evidence:
        files = {kind: _evidence_file(record.run_id, folder, getattr(e, kind))
                 for kind in ("screenshot", "html", "console", "network")}
        steps.append(EvidenceOut(step_index=e.step_index, url=e.url, **files))
    return RunEvidence(run_id=record.run_id, evidence=steps)


@router.get("/runs/{run_id}/evidence/{name:path}", summary="One evidence file of a run, as it was saved",
            response_class=FileResponse,
            responses={200: {"content": {t: {} for t in sorted(set(CONTENT_TYPES.values()))},
                             "description": "the file"}})
def get_evidence_file(run_id: str, name: str, request: Request,
                      principal: Principal = Depends(need("runs:read"))) -> FileResponse:  # noqa: B008
    record = _api_run(request, run_id, principal)
    folder = _evidence_dir(record)
    # Only the files the run recorded, by their bare names: nothing else under (or outside) the run folder.
    known = {Path(p).name for e in record.evidence for p in (e.screenshot, e.html, e.console, e.network) if p}
    path = folder / name if folder is not None and name in known else None
    if path is None or not path.is_file() or path.resolve().parent != path.parent.resolve():
        raise ApiError(404, f"run {record.run_id} has no evidence file named {name!r}", type="evidence_not_found")
    headers = {"X-Content-Type-Options": "nosniff", "Content-Security-Policy": "sandbox"}  # a saved page runs nothing
    return FileResponse(path, media_type=_content_type(name), headers=headers, content_disposition_type="inline",
                        filename=name)


def _content_type(name: str) -> str:
    return CONTENT_TYPES.get(Path(name).suffix, "application/octet-stream")


def _evidence_dir(record: RunRecord) -> Path | None:
    return Path(record.run_dir) / "evidence" if record.run_dir else None


def _evidence_file(run_id: str, folder: Path | None, relative: str | None) -> EvidenceFile | None:
    if not relative or folder is None:
        return None
    name = Path(relative).name
    try:
        data = (folder / name).read_bytes()
    except OSError:
        return None  # recorded but gone (e.g. the run folder was cleaned up)
    return EvidenceFile(name=name, content_type=_content_type(name), size=len(data),
                        sha256=hashlib.sha256(data).hexdigest(), url=f"/runs/{run_id}/evidence/{quote(name)}")


@router.delete("/runs/{run_id}", status_code=202, response_model=RunOut,
               summary="Cancel a run: its runner stops it before its next step and records it canceled")
def cancel_run(run_id: str, request: Request,
               principal: Principal = Depends(need("flows:run"))) -> JSONResponse:  # noqa: B008
    state = services(request)
    record = _api_run(request, run_id, principal)
    if record.status != "running":
        raise ApiError(409, f"run {run_id} already ended {record.status}", type="run_ended",
                       details={"status": record.status})
    state.store.request_cancel(run_id, by=f"api ({principal.label})")
    audit(request, principal, "runs.cancel", run_id, "requested", run_id)
    return JSONResponse(run_out(record), status_code=202, headers={"Location": f"/runs/{run_id}"})
