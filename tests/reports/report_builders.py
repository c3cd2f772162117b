"""Records, evidence files and page parsing for the report tests."""

from __future__ import annotations

import json
import struct
import zlib
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import lxml.html
from pydantic import BaseModel

from robots.records import Evidence, RunRecord, StepRecord

T0 = datetime(2025, 3, 4, 10, 0, 0, tzinfo=UTC)
MASKED_PAGE = ('<html><body><h1>Sign in</h1><script>alert("x")</script>'
               '<p class="err">Invalid &amp; wrong</p></body></html>')


def build(model: type[BaseModel], **fields: Any) -> Any:
    """A model with `fields`; fields this version of the model lacks (a record schema the reports must
    tolerate both with and without) are set on the instance the way pydantic's model_copy does."""
    known = {k: v for k, v in fields.items() if k in model.model_fields}
    extra = {k: v for k, v in fields.items() if k not in model.model_fields}
    instance = model(**known)
    return instance.model_copy(update=extra) if extra else instance


def step(index: int, status: str = "passed", **fields: Any) -> StepRecord:
    values: dict[str, Any] = {"index": index, "name": f"steps[{index}] click", "status": status,
                              "started_at": T0 + timedelta(seconds=index), "duration_ms": 100.0 * (index + 1)}
    values.update(fields)
    return build(StepRecord, **values)


def record(run_id: str = "run-1", **fields: Any) -> RunRecord:
    values: dict[str, Any] = {"run_id": run_id, "flow_name": "list_customers",
                              "flow_path": "flows/sera/list_customers.yaml", "flow_sha256": "ab" * 32,
                              "status": "passed", "started_at": T0, "ended_at": T0 + timedelta(seconds=12.5)}
    values.update(fields)
    return build(RunRecord, **values)


def png(width: int = 4, height: int = 3, rgb: tuple[int, int, int] = (200, 30, 30)) -> bytes:
    """A valid PNG of one colour, written by hand (no imaging library needed)."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    raw = b"".join(b"\x00" + bytes(rgb) * width for _ in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", header) + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b"")


CONSOLE = [
    {"level": "SEVERE", "message": "http://portal/api 500 (Internal Server Error)", "timestamp": 1741082400123},
    {"level": "WARNING", "message": "<script>bad()</script>", "timestamp": 1741082401000},
]
NETWORK = [
    {"id": "1", "method": "GET", "url": "http://portal/login", "type": "Document", "status": 200, "error": None,
     "at": 1741082399.5},
    {"id": "2", "method": "POST", "url": "http://portal/login", "type": "Document", "status": None,
     "error": "net::ERR_ABORTED", "at": 1741082400.25},
]


def failed_run(run_dir: Path, *, shot: bytes | None = None, drift: bool = False, **fields: Any) -> RunRecord:
    """A business failure at step 2 with a screenshot, the masked page, console and network logs in run_dir."""
    evidence_dir = run_dir / "evidence"
    evidence_dir.mkdir(parents=True, exist_ok=True)
    (evidence_dir / "step-002.png").write_bytes(shot if shot is not None else png())
    (evidence_dir / "step-002.html").write_text(MASKED_PAGE, encoding="utf-8")
    (evidence_dir / "step-002.console.json").write_text(json.dumps(CONSOLE), encoding="utf-8")
    (evidence_dir / "step-002.network.json").write_text(json.dumps(NETWORK), encoding="utf-8")
    values: dict[str, Any] = {
        "status": "failed",
        "trigger": "schedule",
        "portal_url": "http://127.0.0.1:8000",
        "browser": {"kind": "chromium", "version": "156.0.8078.108", "driver_version": "156.0.8078.108"},
        "inputs": {"q": "<b>acme</b>", "page_size": 50},
        "steps": (
            step(0, name="steps[0] open", output_summary="http://127.0.0.1:8000/login", attempts=1,
                 duration_ms=2301.4),
            step(1, name="steps[1] fill", attempts=1, selector="css:#username",
                 drift=("login.username: matched fallback css:#username after data-cy:login-user failed"
                        if drift else None)),
            step(2, name="steps[2] wait_for", status="failed", attempts=2, duration_ms=396.9,
                 selector="data-cy:customers-table", error_class="BusinessFailure",
                 error_message="login rejected: Invalid username or password."),
        ),
        "error_class": "BusinessFailure",
        "error_message": "login rejected: Invalid username or password.",
        "failure_kind": "business",
        "evidence": (build(Evidence, step_index=2, screenshot="evidence/step-002.png",
                           html="evidence/step-002.html", url="http://127.0.0.1:8000/login?next=%2Fcustomers",
                           console="evidence/step-002.console.json",
                           network="evidence/step-002.network.json"),),
        "run_dir": str(run_dir),
    }
    values.update(fields)
    return record("run-failed", **values)


def page(text: str) -> Any:
    return lxml.html.document_fromstring(text)


def texts(doc: Any, xpath: str) -> list[str]:
    """The visible text of each element `xpath` finds, whitespace collapsed."""
    return [" ".join(el.text_content().split()) for el in doc.xpath(xpath)]


def one(doc: Any, xpath: str) -> str:
    [text] = texts(doc, xpath)
    return text
