"""Waits on a single-page app (issue 17, failures 1 and 2), with real Chromium against the sandbox's /app/: `paginate`
follows a "Next page" button that redraws the table in place, a read after an action waits until the page has
settled (the data it follows has arrived), `wait_for: {changed: ...}`, and a list read returns every record exactly
once under a data-call latency jittering from 50 ms to 2 s (the shipped flows' 20 consecutive runs under that jitter:
tests/packs/sera/spa/test_lists.py). One small sandbox for the module."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from robots import load_flow
from robots.engine import Runner
from robots.packs.sera.fixtures import reset_sandbox
from robots.packs.sera.sandbox import SandboxServer, credentials
from robots.portals import open_portal
from robots.records import MemoryStore
from robots.records.model import RunRecord

FLOWS = Path(__file__).resolve().parent / "flows"

pytestmark = pytest.mark.browser


@pytest.fixture(scope="module")
def server() -> Iterator[SandboxServer]:
    with SandboxServer(size="small") as s:
        yield s


@pytest.fixture
def app(server: SandboxServer) -> SandboxServer:
    """The module's sandbox, reset (its app's latency back to 150-400 ms)."""
    reset_sandbox(server)
    return server


def _latency(server: SandboxServer, ms: list[int]) -> None:
    httpx.post(f"{server.url}/_sandbox/app", json={"latency_ms": ms}).raise_for_status()


def _run(server: SandboxServer, tmp_path: Path, flow: str, **vars: Any) -> RunRecord:
    c = credentials()
    secrets = {"sera_username": c["username"], "sera_password": c["password"], "sera_totp": c["totp_secret"]}
    with open_portal("sera", url=server.url) as portal:
        return Runner(store=MemoryStore(), home=tmp_path, trigger="test").run(
            load_flow(FLOWS / flow), vars=vars, secrets=secrets, portal=portal)


def _db(server: SandboxServer, sql: str) -> list[sqlite3.Row]:
    return server.rows(sql)


def _customers(server: SandboxServer) -> list[dict[str, Any]]:
    """The sandbox's customers, in id order, as the list's normalized fields say them."""
    labels = {"residential": "Residential", "commercial": "Commercial", "active": "Active", "inactive": "Inactive",
              "on_hold": "On Hold"}  # fmt: skip
    return [{"number": r["number"], "name": r["name"], "type": r["type"], "raw_type": labels[r["type"]],
             "city": r["city"], "state": r["state"], "phone": f"+1{r['phone']}" if r["phone"] else None,
             "balance_cents": r["balance_cents"], "status": r["status"], "raw_status": labels[r["status"]]}
            for r in _db(server, "SELECT * FROM customers ORDER BY id")]  # fmt: skip


def _read(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    return [{k: v for k, v in r.items() if k not in ("source_url", "scraped_at")} for r in rows]


def _passed(record: RunRecord) -> None:
    assert record.status == "passed", (record.error_message, [(s.name, s.status) for s in record.steps])


def test_paginate_follows_a_next_button_that_redraws_the_table_in_place(app: SandboxServer, tmp_path: Path) -> None:
    """Failure 1: the click waited for <html> to be replaced ('the next page did not load within 15 s') while the
    table showed page 2."""
    record = _run(app, tmp_path, "spa_list_customers.yaml")
    _passed(record)
    assert _read(record.outputs["customers"]) == _customers(app)  # 120 customers, 5 pages of 25, each once
    assert record.pages == 5


@pytest.mark.parametrize("wait", ["rows", "spinner"])
def test_a_read_after_a_click_waits_for_the_data_it_follows(app: SandboxServer, tmp_path: Path, wait: str) -> None:
    """Failure 2: after "Next page", the rows shown are the previous page's until the data comes, and `wait_for:
    {state: gone}` on the app's spinner can pass before the spinner appeared (it shows only for a load slower than
    200 ms): the table read next held the previous page's rows."""
    _latency(app, [1000, 1000])
    record = _run(app, tmp_path, "spa_next_page_read.yaml", wait=wait)
    _passed(record)
    numbers = [r["number"] for r in _db(app, "SELECT number FROM work_orders ORDER BY id DESC")]
    assert record.outputs["numbers"] == numbers[25:50]


@pytest.mark.parametrize("read_first", [True, False])
def test_wait_for_changed_waits_until_the_target_differs_from_before_the_last_action(app: SandboxServer,
                                                                                     tmp_path: Path,
                                                                                     read_first: bool) -> None:
    """Read before the click: until it differs from that read; not read before: until it changed after the click.
    A click that changes nothing: the wait says so."""
    _latency(app, [1000, 1000])
    record = _run(app, tmp_path, "spa_changed.yaml", read_first=read_first)
    numbers = [r["number"] for r in _db(app, "SELECT number FROM work_orders ORDER BY id DESC")]
    assert record.outputs == {"first": numbers[:25] if read_first else [], "second": numbers[25:50]}
    assert record.status == "errored"
    assert record.error_message == (f"'app_work_orders.table' did not change within 3 s after the last action (on "
                                    f"{app.url}/app/#/work-orders)")


def test_every_work_order_once_from_pages_the_server_answers_with_a_jittering_delay(app: SandboxServer,
                                                                                     tmp_path: Path) -> None:
    """Each page of this list is a data call (50 ms to 2 s here): the walk reads no page before its data came, and
    none twice. No wait in the flow: the reads wait for the page to settle."""
    from robots.packs.sera.sandbox.data import WORK_ORDER_STATUSES

    _latency(app, [50, 2000])
    record = _run(app, tmp_path, "spa_work_order_pages.yaml")
    _passed(record)
    expected = [{"number": r["number"], "customer_name": r["customer_name"], "job_type": r["job_type"],
                 "status": WORK_ORDER_STATUSES[r["status"]], "total_cents": r["total_cents"]}
                for r in _db(app, "SELECT w.*, c.name AS customer_name FROM work_orders w JOIN customers c "
                                  "ON c.id = w.customer_id ORDER BY w.id DESC")]  # fmt: skip
    assert _read(record.outputs["work_orders"]) == expected
    assert record.pages == -(-len(expected) // 25)


PAGE = (FLOWS / "pages" / "actionability.html").as_uri()


@pytest.mark.parametrize(("blocked", "why"), [
    ("", None),
    ("covered", 'is covered by <div class="v-overlay__scrim">'),
    ("moving", "is still animating"),
    ("disabled", "is disabled"),
])  # fmt: skip
def test_a_click_waits_until_its_element_can_be_acted_on_and_says_why_it_cannot(tmp_path: Path, blocked: str,
                                                                               why: str | None) -> None:
    record = Runner(store=MemoryStore(), home=tmp_path, trigger="test").run(
        load_flow(FLOWS / "actionability.yaml"), vars={"page": PAGE, "blocked": blocked})
    assert record.outputs == {"result": "clicked: late, slide"}  # after the backdrop went, once the button stood
    if why is None:
        _passed(record)
    else:
        assert (record.status, record.error_message) == ("errored", f"'css:#{blocked}' {why} (waited 2 s on {PAGE})")
