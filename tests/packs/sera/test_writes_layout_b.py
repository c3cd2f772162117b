"""Under layout variant B (every first-choice selector broken, docs/CONTRACTS.md C6) each write flow whose own tests run
in the default layout still passes, and its run records the drifted selectors. (create_customer, void_invoice,
create_work_order, create_membership and export_customers have layout-B tests beside their others.)"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from robots.testing import run_flow_cli, tracked_pids_alive

FLOWS = Path(__file__).resolve().parents[3] / "flows" / "sera"

pytestmark = pytest.mark.browser


def _drift(home: Path, run_id: str) -> set[str]:
    steps = json.loads((home / "runs" / run_id / "report.json").read_text())["steps"]
    return {part.split(":")[0] for s in steps if s["drift"] for part in s["drift"].split("; ")}


@pytest.mark.long
def test_every_other_write_flow_passes_under_layout_b_with_its_drift_recorded(sandbox, sandbox_env, tmp_path):
    """Six writes in one home (one sign-in, then the stored session): about two minutes on a busy machine."""
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "layout_b"}).raise_for_status()
    photo = tmp_path / "coil.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 a condenser coil, photographed under layout B \xff\xd9")
    home = tmp_path / "home"
    runs: list[tuple[str, dict[str, str], str]] = [
        ("change_work_order_status", {"id": "50009", "status": "dispatched"}, "job_status.submit"),
        ("assign_technician", {"id": "50009", "technician": "Marcus Reyes"}, "job_assign.assign"),
        ("unassign_technician", {"id": "50009", "technician": "Marcus Reyes"}, "job_assign.unassign"),
        ("record_payment", {"invoice_id": "300004", "amount": "10.00", "method": "card", "reference": "4242"},
         "payment_form.submit"),
        ("renew_membership", {"id": "3"}, "membership_form.submit"),
        ("upload_attachment", {"job_id": "50005", "file": str(photo)}, "attachment_form.submit"),
    ]
    outcomes: dict[str, Any] = {}
    for n, (flow, given, drifted) in enumerate(runs):
        args = [str(FLOWS / f"{flow}.yaml"), "--var", f"idempotency_key=b-{n}", "--report", "json"]
        for k, v in given.items():
            args += ["--var", f"{k}={v}"]
        done = run_flow_cli(args, home, env=sandbox_env)
        assert done.returncode == 0, (flow, done.stderr)
        assert tracked_pids_alive(home / "runs" / done.run_id) == []
        outcomes[flow] = (drifted in _drift(home, done.run_id), done.outputs.get("submits"))
    assert outcomes == {flow: (True, 1) for flow, _, _ in runs}
    writes = httpx.get(f"{sandbox.url}/_sandbox/writes").json()["writes"]["acme"]
    assert writes == {"work_orders": 1, "technician_assignments": 2, "payments": 1, "memberships": 1,
                      "attachments": 1}
