"""Records to test with: a minimal one, steps, and one using every field."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone
from typing import Any

from robots.records import Evidence, RunRecord, StepRecord

T0 = datetime(2025, 3, 4, 10, 0, 0, 123456, tzinfo=UTC)
PLUS_TWO = timezone(timedelta(hours=2))


def make_step(index: int, status: str = "passed", **fields: Any) -> StepRecord:
    values: dict[str, Any] = {
        "index": index,
        "name": f"step{index}",
        "status": status,
        "started_at": T0 + timedelta(seconds=index),
        "duration_ms": 250.5 + index,
    }
    values.update(fields)
    return StepRecord(**values)


def make_record(run_id: str = "run-1", **fields: Any) -> RunRecord:
    values: dict[str, Any] = {
        "run_id": run_id,
        "flow_name": "list_customers",
        "flow_path": "flows/sera/list_customers.yaml",
        "flow_sha256": "ab" * 32,
        "status": "passed",
        "started_at": T0,
        "ended_at": T0 + timedelta(seconds=12, milliseconds=345),
    }
    values.update(fields)
    return RunRecord(**values)


def full_record(run_id: str = "run-full") -> RunRecord:
    """A record using every field, with nested outputs and non-UTC offsets."""
    return make_record(
        run_id,
        trigger="schedule",
        portal_url="https://acme.sera.tech",
        inputs={"tenant": "acme", "since": "2025-01-01", "limit": 50, "dry": False},
        status="failed",
        started_at=datetime(2025, 3, 4, 12, 0, 0, 500000, tzinfo=PLUS_TWO),
        ended_at=datetime(2025, 3, 4, 12, 0, 30, tzinfo=PLUS_TWO),
        steps=(
            make_step(0, step_id="open", name="goto open", output_summary="200 OK"),
            make_step(
                1,
                name="fill search",
                status="retried",
                error_class="TimeoutError",
                error_message="no element",
            ),
            make_step(
                2,
                name="click submit",
                status="failed",
                error_class="ValidationFailed",
                error_message='Portal said: "Zip & city" <required>',
            ),
        ),
        outputs={
            "customers": [
                {"id": 1, "name": "Zoë Ångström", "tags": ["vip", "net30"], "balance": 12.5},
                {"id": 2, "name": "Bob", "tags": [], "address": {"city": "Köln", "zip": None}},
            ],
            "count": 2,
        },
        error_class="ValidationFailed",
        error_message='Portal said: "Zip & city" <required>',
        failure_kind="business",
        evidence=(
            Evidence(
                step_index=2,
                screenshot="step-2.png",
                html="step-2.html",
                url="https://acme.sera.tech/customers?q=a&b=1",
            ),
        ),
        run_dir=".robots/runs/run-full",
        pages=3,
        rows=2,
    )
