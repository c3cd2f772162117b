"""The Sera read flows end to end: a real Chromium runs each flow of flows/sera/ against the sandbox (default data),
and what the flow returns is compared with the sandbox's own database. Then all of them once more in one run under
layout variant B, where every first-choice selector is broken: same records, drift recorded per selector."""

from __future__ import annotations

import json
import sqlite3
from collections.abc import Iterator
from datetime import date, datetime, time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import httpx
import pytest

from robots.testing import run_flow_cli, tracked_pids_alive

ROOT = Path(__file__).resolve().parents[3]
FLOWS = ROOT / "flows" / "sera"
ZONE = ZoneInfo("America/Chicago")

pytestmark = pytest.mark.browser


@pytest.fixture
def db(sandbox: Any) -> Iterator[sqlite3.Connection]:
    """The sandbox tenant's database, read-only: the oracle the flows' outputs are compared with."""
    conn = sqlite3.connect(f"file:{sandbox.db_path}?mode=ro", uri=True)
    conn.row_factory = sqlite3.Row
    try:
        yield conn
    finally:
        conn.close()


def run(flow: str, env: dict[str, str], home: Path, *args: str) -> dict[str, Any]:
    done = run_flow_cli([str(FLOWS / f"{flow}.yaml"), *args, "--report", "json"], home, env=env)
    assert done.returncode == 0, done.stderr
    assert tracked_pids_alive(home / "runs" / done.run_id) == []
    return done.outputs


def utc(day: str, hour_minute: str = "00:00") -> str:
    local = datetime.combine(date.fromisoformat(day), time.fromisoformat(hour_minute), ZONE)
    return local.astimezone(ZoneInfo("UTC")).strftime("%Y-%m-%dT%H:%M:%SZ")


def test_get_customer_reads_profile_locations_contacts_memberships_and_open_work_orders(sandbox, sandbox_env,
                                                                                      tmp_path, db):
    customer = run("get_customer", sandbox_env, tmp_path, "--var", "id=1003")["customer"]
    row = db.execute("SELECT * FROM customers WHERE id = 1003").fetchone()
    assert (customer["id"], customer["name"], customer["number"], customer["balance_cents"]) == (
        "1003", "Zoë O'Brien", row["number"], row["balance_cents"])
    assert customer["email"] == row["email"].lower() and customer["phones"] == ["+1" + row["phone"]]
    assert customer["source_url"] == f"{sandbox.url}/customers/1003"
    locations = [str(r["id"]) for r in db.execute("SELECT id FROM service_locations WHERE customer_id = 1003 "
                                                  "ORDER BY id")]  # fmt: skip
    assert [loc["id"] for loc in customer["locations"]] == locations
    contacts = db.execute("SELECT c.name, COUNT(m.id) FROM contacts c LEFT JOIN contact_methods m ON m.contact_id = "
                          "c.id WHERE c.customer_id = 1003 GROUP BY c.id ORDER BY c.id").fetchall()  # fmt: skip
    assert [(c["name"], len(c["methods"])) for c in customer["contacts"]] == [tuple(r) for r in contacts]
    assert customer["primary_contact"] == "Zoë O'Brien"
    assert [m["id"] for m in customer["memberships"]] == [
        str(r[0]) for r in db.execute("SELECT id FROM customer_memberships WHERE customer_id = 1003 ORDER BY id DESC")]
    open_orders = [str(r[0]) for r in db.execute(
        "SELECT id FROM work_orders WHERE customer_id = 1003 AND status NOT IN ('completed', 'canceled') "
        "ORDER BY id DESC")]  # fmt: skip
    assert [w["id"] for w in customer["open_work_orders"]] == open_orders and len(open_orders) == 26
    assert {w["status"] for w in customer["open_work_orders"]} <= {"unscheduled", "scheduled", "dispatched",
                                                                   "in_progress", "paused", "on_hold"}


def test_work_orders_numbered_pages_and_one_work_order_in_detail(sandbox, sandbox_env, tmp_path, db):
    orders = run("list_work_orders", sandbox_env, tmp_path, "--var", "customer_id=1003")["work_orders"]
    expected = [str(r[0]) for r in db.execute("SELECT id FROM work_orders WHERE customer_id = 1003 ORDER BY id DESC")]
    assert [o["id"] for o in orders] == expected and len(expected) == 33  # two pages of 25, numbered links only
    assert {o["customer"] for o in orders} == {"Zoë O'Brien"} and {o["customer_id"] for o in orders} == {"1003"}

    detail = run("get_work_order", sandbox_env, tmp_path / "detail", "--var", "id=50005")["work_order"]
    lines = db.execute("SELECT description, quantity, unit_price_cents, total_cents FROM line_items WHERE "
                       "work_order_id = 50005 ORDER BY id").fetchall()  # fmt: skip
    assert [(li["description"], li["quantity"], li["unit_price_cents"], li["total_cents"])
            for li in detail["line_items"]] == [tuple(r) for r in lines]
    history = db.execute("SELECT status, at FROM work_order_history WHERE work_order_id = 50005 ORDER BY id").fetchall()
    assert [(h["status"], h["at"]) for h in detail["status_history"]] == [
        (r["status"], r["at"][:16] + ":00Z") for r in history]
    assignment = db.execute("SELECT * FROM technician_assignments WHERE work_order_id = 50005").fetchone()
    assert {k: detail["assignments"][0][k] for k in ("accepted_at", "dispatched_at", "arrived_at", "completed_at")} == {
        k: assignment[k][:16] + ":00Z" for k in ("accepted_at", "dispatched_at", "arrived_at", "completed_at")}
    assert (detail["status"], detail["customer_id"], detail["appointments"][0]["status"]) == (
        "completed", "1003", "completed")


def test_dispatch_board_waits_for_its_xhr(sandbox, sandbox_env, tmp_path):
    done = run_flow_cli([str(FLOWS / "dispatch_board.yaml"), "--var", "date=2026-03-09", "--report", "json"],
                        tmp_path, env=sandbox_env)
    assert done.returncode == 0, done.stderr
    appointments = done.outputs["appointments"]
    assert len(appointments) == 8
    assert all(utc("2026-03-09", "08:00") <= a["start_at"] < a["end_at"] <= utc("2026-03-09", "18:00")
               for a in appointments)
    assert appointments[0]["technician"] == "Tara Nguyen" and appointments[0]["start_at"] == "2026-03-09T13:00:00Z"
    assert {a["status"] for a in appointments} <= {"pending", "accepted", "running", "completed"}
    record = json.loads((tmp_path / "runs" / done.run_id / "report.json").read_text())
    assert [s["status"] for s in record["steps"] if s["name"].endswith("wait_xhr")] == ["passed"]


def test_pricebook_programs_and_users(sandbox, sandbox_env, tmp_path, db):
    items = run("list_pricebook", sandbox_env, tmp_path)["items"]
    rows = db.execute("SELECT id, code, price_cents, member_price_cents, active FROM pricebook_items ORDER BY id")
    assert [(i["id"], i["code"], i["price_cents"], i["member_price_cents"], i["active"]) for i in items] == [
        (str(r[0]), r[1], r[2], r[3], bool(r[4])) for r in rows]
    # One home: the later runs restore the first one's session (three TOTP sign-ins in one 30-s window would
    # find both the current and the next code used).
    programs = run("list_membership_programs", sandbox_env, tmp_path)["programs"]
    assert [(p["name"], p["cadence"], p["price_cents"], p["included_visits"]) for p in programs] == [
        tuple(r) for r in db.execute("SELECT name, cadence, price_cents, included_visits FROM membership_programs "
                                     "ORDER BY id")]  # fmt: skip
    users = run("list_users", sandbox_env, tmp_path)["users"]
    technicians = [r[0] for r in db.execute("SELECT name FROM technicians ORDER BY id")]
    assert [u["name"] for u in users if u["id"].startswith("t-")] == technicians
    # The signed-in account's username is one of the run's secrets (sera_username): masked in the outputs too.
    assert {u["username"]: u["role"] for u in users if u["username"]} == {
        "••••••": "admin", "dina": "dispatcher", "casey": "csr", "tom": "technician", "pat": "csr",
        "sage": "dispatcher", "nora": "csr"}


@pytest.mark.parametrize(("flow", "args", "output", "sql"), [
    ("list_estimates", ["--var", "status=draft"], "estimates", "SELECT id FROM estimates WHERE status = 'draft'"),
    ("list_invoices", ["--var", "status=voided"], "invoices", "SELECT id FROM invoices WHERE status = 'voided'"),
    ("list_payments", ["--var", "kind=refund"], "payments", "SELECT id FROM payments WHERE kind = 'refund'"),
    ("list_memberships", [], "memberships", "SELECT id FROM customer_memberships"),
    ("list_customers", ["--var", "type=commercial", "--var", "status=on_hold", "--var", "page_size=25"], "customers",
     "SELECT id FROM customers WHERE type = 'commercial' AND status = 'on_hold'"),
], ids=["estimates", "invoices", "payments", "memberships", "customers"])  # fmt: skip
def test_paginated_lists_return_every_matching_record_once(sandbox, sandbox_env, tmp_path, db, flow, args, output,
                                                           sql):
    records = run(flow, sandbox_env, tmp_path, *args)[output]
    expected = sorted(str(r[0]) for r in db.execute(sql))
    assert sorted(r["id"] for r in records) == expected and len(expected) > 1
    assert all(r["source_url"].startswith(sandbox.url) for r in records)


def test_every_read_flow_passes_under_layout_b_with_each_drift_recorded(sandbox, sandbox_env, tmp_path, db):
    """One run calls every read flow (tests/packs/sera/flows/all_reads.yaml) with the sandbox in layout variant B."""
    httpx.post(f"{sandbox.url}/_sandbox/faults", json={"name": "layout_b"}).raise_for_status()
    done = run_flow_cli([str(Path(__file__).parent / "flows" / "all_reads.yaml"), "--report", "json"], tmp_path,
                        env=sandbox_env, timeout=600)
    assert done.returncode == 0, done.stderr
    out = done.outputs
    assert out["customer"]["customer"]["name"] == "Zoë O'Brien" and len(out["customer"]["customer"]["contacts"]) == 2
    assert len(out["work_orders"]["work_orders"]) == 33
    assert len(out["work_order"]["work_order"]["line_items"]) == db.execute(
        "SELECT COUNT(*) FROM line_items WHERE work_order_id = 50005").fetchone()[0]
    assert len(out["board"]["appointments"]) == 8
    assert len(out["pricebook"]["items"]) == 349
    assert len(out["estimates"]["estimates"]) == 518
    assert len(out["invoices"]["invoices"]) == 279
    assert len(out["payments"]["payments"]) == 257
    assert len(out["memberships"]["memberships"]) == 41
    assert len(out["programs"]["programs"]) == 5
    assert len(out["users"]["users"]) == 12
    record = json.loads((tmp_path / "runs" / done.run_id / "report.json").read_text())
    drifted = {part.split(":")[0] for s in record["steps"] if s["drift"] for part in s["drift"].split("; ")}
    assert {"customer.name", "customer.details", "customer.locations", "customer.contacts", "customer.memberships",
            "customer.jobs", "jobs.table", "jobs.next_page", "job.number", "job.details", "job.line_items",
            "job.totals", "job.assignments", "job.history", "schedule.board", "pricebook.table", "estimates.table",
            "invoices.table", "payments.table", "memberships.table", "pager.next", "programs.table",
            "users.table"} <= drifted
    assert "selector drift: pricebook.table matched by fallback id:pricebook-table" in done.stderr
