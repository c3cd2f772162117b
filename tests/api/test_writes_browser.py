"""Work-order writes through the API with a token minted for operators (no portal session: its flows take the
secrets from the environment, like `robots run`): a status change, the portal's refusal of an illegal one in its
own words (422 portal_refused), and a create with pricebook lines."""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from typing import Any

import httpx
import pytest

from .conftest import ApiClient, bearer, token
from .test_contracts import envelope

pytestmark = pytest.mark.browser

CARD = "pm_W2apiSecretTok9Qx7"


def test_work_order_status_and_create_through_the_api(make_client: Callable[..., ApiClient], sandbox: Any,
                                                      sandbox_env: dict[str, str],
                                                      monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [n for n in os.environ if n.startswith("ROBOTS_")]:
        monkeypatch.delenv(name)
    for name, value in {**sandbox_env, "SE_OFFLINE": "true"}.items():
        monkeypatch.setenv(name, value)
    api = make_client(portal_url=sandbox.url)
    headers = bearer(token(api, "work_orders:write"))

    moved = api.patch("/work-orders/50009/status", json={"status": "dispatched"},
                      headers={**headers, "Idempotency-Key": "s-1"})  # 50009 is scheduled
    assert moved.status_code == 200, moved.text
    assert (moved.json()["work_order"]["id"], moved.json()["work_order"]["status"], moved.json()["changed"]) == (
        "50009", "dispatched", True)

    error = envelope(api.patch("/work-orders/50009/status", json={"status": "completed"},
                               headers={**headers, "Idempotency-Key": "s-2"}), 422, "portal_refused",
                     "a work order that is Dispatched cannot become completed; allowed: In Progress, Canceled")
    assert error["details"]["failure_kind"] == "business"

    made = api.post("/work-orders", headers={**headers, "Idempotency-Key": "po-1"}, json={
        "customer": "C-100003", "job_type": "Furnace Repair", "priority": "high", "summary": "No heat upstairs",
        "lines": [{"code": "DIA-100", "quantity": 1}, {"code": "PAR-118", "quantity": 2, "price": "199.50"}]})
    assert made.status_code == 201, made.text
    order = made.json()["work_order"]
    assert made.json()["created"] is True and made.headers["Location"] == f"/work-orders/{order['id']}"
    assert [(line["code"], line["quantity"]) for line in order["line_items"]] == [("DIA-100", 1), ("PAR-118", 2)]
    assert httpx.get(f"{sandbox.url}/_sandbox/writes").json()["writes"]["acme"] == {"work_orders": 2}

    # A membership with its payment method token: a secret of this request only, in no record the API keeps.
    members = bearer(token(api, "memberships:write"))
    joined = api.post("/customers/1003/memberships", headers={**members, "Idempotency-Key": "m-1"}, json={
        "program_id": 1, "cadence": "quarterly", "price": "47.25", "autopay": True, "payment_method_token": CARD})
    assert joined.status_code == 201, joined.text
    billing = joined.json()["membership"]["billing"]
    assert (joined.json()["created"], billing["cadence"], billing["price_cents"], billing["autopay"],
            billing["payment_method_ref"]) == (True, "quarterly", 4725, True, "pm_…9Qx7")
    kept = api.app.state.store.get(joined.json()["run_id"]).model_dump_json()
    audit = json.dumps([dict(r.__dict__) for r in api.app.state.tokens.audit_entries(limit=100)], default=str)
    assert CARD not in kept and CARD not in audit


def test_a_write_that_prefers_to_respond_async_answers_202_and_its_run_holds_the_record(
        make_client: Callable[..., ApiClient], sandbox: Any, sandbox_env: dict[str, str],
        monkeypatch: pytest.MonkeyPatch) -> None:
    """`Prefer: respond-async`: 202 at once with the run's Location; the same key and body answer that same run
    (nothing new started); the run's outputs are the customer as the portal shows it."""
    import time

    for name in [n for n in os.environ if n.startswith("ROBOTS_")]:
        monkeypatch.delenv(name)
    for name, value in {**sandbox_env, "SE_OFFLINE": "true"}.items():
        monkeypatch.setenv(name, value)
    api = make_client(portal_url=sandbox.url)
    headers = {**bearer(token(api, "customers:write", "runs:read")), "Idempotency-Key": "async-1",
               "Prefer": "respond-async"}
    body = {"name": "Ada Async", "email": "ada.async@example.com", "city": "Austin", "state": "TX"}

    first = api.post("/customers", json=body, headers=headers)
    assert first.status_code == 202, first.text
    run_id = first.json()["run_id"]
    assert (first.headers["Location"], first.headers["Preference-Applied"], first.json()["status"],
            first.json()["flow_name"]) == (f"/runs/{run_id}", "respond-async", "running", "create_customer")
    again = api.post("/customers", json=body, headers=headers)
    assert (again.status_code, again.json()["run_id"], again.headers["Idempotent-Replayed"]) == (202, run_id, "true")

    deadline = time.monotonic() + 240
    while (run := api.get(f"/runs/{run_id}", headers=headers).json())["status"] == "running":
        assert time.monotonic() < deadline, run
        time.sleep(0.5)  # back-off: polling the run's Location, as a client would
    assert run["status"] == "passed", run
    customer = run["outputs"]["customer"]
    assert (customer["name"], customer["email"], run["outputs"]["created"]) == (
        "Ada Async", "ada.async@example.com", True)
    assert httpx.get(f"{sandbox.url}/_sandbox/writes").json()["writes"]["acme"] == {"customers": 1}
