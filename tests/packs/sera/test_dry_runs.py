"""`--dry-run` on every shipped Sera write flow (real Chromium against the sandbox, through `robots run`): exit 0,
the dry-run report names each write step it did not submit with the values its form was given (secrets masked), the
steps that check the write (its probe's next round, the read-back) are skipped, and the sandbox's write counters do
not move. The write flows are found in flows/sera/ by their write steps, so a new one is walked too; it needs a line
in VARS below (the test says so)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest
import yaml

from robots import load_flow
from robots.flow.loader import _walk
from robots.steps import REGISTRY
from robots.testing import run_flow_cli, tracked_pids_alive

FLOWS = Path(__file__).resolve().parents[3] / "flows" / "sera"
PAYMENT_TOKEN = "pm_dry&<run>\"'%+ 4242"  # a secret that one flow types into its form (every encoding is masked)

pytestmark = pytest.mark.browser

#: the vars each write flow needs (the sandbox's default data); `{photo}` is a file the test makes
VARS: dict[str, dict[str, Any]] = {
    "create_customer": {"name": "Dry Run Co", "email": "dry.run@example.com", "city": "Austin", "state": "TX",
                        "phone": "(512) 555-0188"},
    "record_payment": {"invoice_id": 300004, "amount": "10.00", "method": "card", "reference": "4242"},
    "void_invoice": {"id": 300004, "reason": "Billed twice"},
    "create_work_order": {"customer": "C-100003", "job_type": "Furnace Repair", "priority": "high",
                          "summary": "No heat upstairs", "date": "12/24/2030", "time": "9:00 AM",
                          "lines": [{"code": "DIA-100", "quantity": 1},
                                    {"code": "PAR-118", "quantity": 2, "price": "199.50"}]},
    "change_work_order_status": {"id": 50009, "status": "dispatched"},
    "assign_technician": {"id": 50009, "technician": "Marcus Reyes"},
    "unassign_technician": {"id": 50009, "technician": "Tara Nguyen"},
    "create_membership": {"customer_id": 1003, "program_id": 1, "cadence": "quarterly", "price": "47.25",
                          "autopay": True},
    "renew_membership": {"id": 3, "price": "199.00"},
    "upload_attachment": {"job_id": 50005, "file": "{photo}"},
}


def write_flows() -> list[Path]:
    """The flows of flows/sera/ with a step that submits to the portal (`write: true`, or a write step)."""
    found = []
    for path in sorted(FLOWS.glob("*.yaml")):
        flow = load_flow(path)
        if any(c.args.write or REGISTRY[c.kind].writes for c in _walk((*flow.steps, *flow.finally_steps))):
            found.append(path)
    return found


def writes(sandbox: Any) -> dict[str, Any]:
    return httpx.get(f"{sandbox.url}/_sandbox/writes").json()["writes"]


@pytest.mark.timeout(900)
@pytest.mark.long
def test_every_shipped_write_flow_passes_its_dry_run_and_writes_nothing(sandbox, sandbox_env, tmp_path):
    """Ten flows one after another in one home (one sign-in, then the stored session; one Chrome at a time): about three
    minutes on a busy machine (200 s measured beside another test run on 2 cores)."""
    flows = write_flows()
    assert len(flows) >= 10, [f.name for f in flows]
    missing = [f.stem for f in flows if f.stem not in VARS]
    assert not missing, f"add the vars of the write flow(s) {', '.join(missing)} to VARS in {__file__}"
    photo = tmp_path / "coil.jpg"
    photo.write_bytes(b"\xff\xd8\xff\xe0 a condenser coil, dry run \xff\xd9")
    env = {**sandbox_env, "ROBOTS_SECRET_SERA_PAYMENT_METHOD": PAYMENT_TOKEN}
    secrets = [v for k, v in env.items() if k.startswith("ROBOTS_SECRET_")]
    home = tmp_path / "home"
    home.mkdir()
    before = writes(sandbox)
    problems: dict[str, str] = {}
    for n, path in enumerate(flows):
        given = {"idempotency_key": f"dry-{n}",
                 **{k: (str(photo) if v == "{photo}" else v) for k, v in VARS[path.stem].items()}}
        vars_file = home / f"{path.stem}.vars.yaml"
        vars_file.write_text(yaml.safe_dump(given, allow_unicode=True))
        done = run_flow_cli([str(path), "--vars-file", str(vars_file), "--dry-run", "--report", "json"], home,
                            env=env)
        if done.returncode != 0:
            problems[path.stem] = f"exit {done.returncode}: {done.stderr[-600:]}"
            continue
        assert tracked_pids_alive(home / "runs" / done.run_id) == []
        report_text = (home / "runs" / done.run_id / "report.json").read_text()
        report = json.loads(report_text)
        dry = report.get("dry_run")
        if not dry or not dry.get("not_submitted"):
            problems[path.stem] = f"no write reported as not submitted: {dry!r}"
            continue
        for write in dry["not_submitted"]:
            line = f"dry run: not submitted: {write['step']}"
            if line not in done.stderr:
                problems[path.stem] = f"stderr lacks {line!r}: {done.stderr[-600:]}"
            if not write["fields"]:
                problems[path.stem] = f"the write {write['step']} reports no fields"
        if not any(s["status"] == "skipped" and (s["output_summary"] or "").startswith("dry run: not submitted")
                   for s in report["steps"]):
            problems[path.stem] = "no write step recorded as skipped by the dry run"
        for text in (done.stdout, done.stderr, report_text):
            for secret in secrets:
                assert secret not in text and json.dumps(secret)[1:-1] not in text, path.stem
        if writes(sandbox) != before:
            problems[path.stem] = f"the sandbox counted writes: {writes(sandbox)}"
    assert problems == {}
    assert writes(sandbox) == before


def test_the_dry_run_report_of_create_membership(sandbox, sandbox_env, tmp_path):
    """What a dry run reports, exactly: the write not submitted with its form's values (the payment method token
    masked), the steps that check the write skipped, and the outputs it could not set."""
    env = {**sandbox_env, "ROBOTS_SECRET_SERA_PAYMENT_METHOD": PAYMENT_TOKEN}
    given = {"idempotency_key": "dry-m", **VARS["create_membership"], "start_date": "2030-01-15"}
    args = [str(FLOWS / "create_membership.yaml"), "--dry-run", "--report", "json"]
    for k, v in given.items():
        args += ["--var", f"{k}={str(v).lower() if isinstance(v, bool) else v}"]
    done = run_flow_cli(args, tmp_path / "home", env=env)
    assert done.returncode == 0, done.stderr
    report = json.loads((tmp_path / "home" / "runs" / done.run_id / "report.json").read_text())
    submit = "steps[3].repeat_until.steps[3].if.steps[2].click"
    assert report["dry_run"] == {
        "not_submitted": [{
            "step": submit, "name": "submit the membership", "target": "membership_form.submit",
            "url": f"{sandbox.url}/customers/1003/memberships/new",
            "fields": [
                {"target": "membership_form.program", "value": "1"},
                {"target": "membership_form.cadence", "value": "quarterly"},
                {"target": "membership_form.interval", "value": "1"},
                {"target": "membership_form.price", "value": "47.25"},
                {"target": "membership_form.start", "value": "01/15/2030"},
                {"target": "membership_form.autopay", "value": True},
                {"target": "membership_form.payment_method", "value": "••••••"},
            ]}],
        "skipped": [
            {"step": "steps[4].call", "why": f"reads vars.found, which depends on the write {submit} that the dry "
                                             f"run did not submit"},
            {"step": "steps[5].set_output", "why": f"reads steps.readback, which depends on the write {submit} "
                                                   f"that the dry run did not submit"},
        ],
        "outputs_not_set": ["membership", "created", "submits", "idempotency_key"],
    }
    assert done.outputs == {}
    assert (f"dry run: not submitted: {submit} (submit the membership, membership_form.submit) on "
            f"{sandbox.url}/customers/1003/memberships/new with membership_form.program='1', "
            f"membership_form.cadence='quarterly', membership_form.interval='1', membership_form.price='47.25', "
            f"membership_form.start='01/15/2030', membership_form.autopay=True, membership_form.payment_method='••••••'"
            ) in done.stderr
    assert PAYMENT_TOKEN not in done.stderr
    assert writes(sandbox)["acme"] == {}
