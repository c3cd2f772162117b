"""The single-page front end's read flows (flows/sera/spa/) in a real Chromium against the sandbox's /app/: what
each returns is compared, record by record and field by field, with the sandbox's own database."""

from __future__ import annotations

from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import pytest

from .helpers import passed, rows, run

pytestmark = pytest.mark.browser

ZONE = ZoneInfo("America/Chicago")
STATUS = {"Unscheduled": "unscheduled", "Scheduled": "scheduled", "Dispatched": "dispatched",
          "In Progress": "in_progress", "Paused": "paused", "On Hold": "on_hold", "Completed": "completed",
          "Canceled": "canceled"}  # fmt: skip


def to_minute(utc: str | None) -> str | None:
    """An instant as the app shows it (the tenant's wall clock, to the minute), back in UTC: what a flow reads."""
    if utc is None:
        return None
    local = datetime.fromisoformat(utc.replace("Z", "+00:00")).astimezone(ZONE).replace(second=0)
    return local.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_get_customer_reads_the_profile_and_its_work_orders(sandbox, tmp_path):
    customer = passed(run(sandbox, tmp_path, "get_customer", vars={"id": 1003})).outputs["customer"]
    row = rows(sandbox, "SELECT * FROM customers WHERE id = 1003")[0]
    assert {k: v for k, v in customer.items() if k != "work_orders"} == {
        "id": "1003", "number": row["number"], "name": row["name"], "type": row["type"], "status": row["status"],
        "email": row["email"].lower(), "phones": ["+1" + row["phone"]], "city": row["city"], "state": row["state"],
        "balance_cents": row["balance_cents"], "created_at": to_minute(row["created_at"]),
        "modified_at": to_minute(row["modified_at"])}
    orders = rows(sandbox, "SELECT * FROM work_orders WHERE customer_id = 1003 ORDER BY id DESC")
    assert len(orders) > 3
    assert [{k: w[k] for k in ("id", "number", "job_type", "status", "scheduled_start_at")}
            for w in customer["work_orders"]] == [
        {"id": str(w["id"]), "number": w["number"], "job_type": w["job_type"], "status": w["status"],
         "scheduled_start_at": to_minute(w["scheduled_start_at"])} for w in orders]  # fmt: skip


def test_a_customer_the_portal_does_not_have_is_its_refusal(sandbox, tmp_path):
    record = run(sandbox, tmp_path, "get_customer", vars={"id": 999999})
    assert (record.status, record.failure_kind) == ("failed", "business")
    assert record.error_message == "the portal has no such customer: There is no customer 999999."
