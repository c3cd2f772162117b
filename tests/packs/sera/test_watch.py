"""Change detection (robots.watch): snapshots per key in a real SQLite store, created / updated (with the changed
fields) / deleted, incremental polls through `modified_on_or_after`; and `robots watch` on the sandbox in
Chromium, with the portal's data changed between polls and events delivered to a signed webhook."""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, HTTPServer
from pathlib import Path
from typing import Any

import pytest

from robots.errors import InputError
from robots.flow.loader import load_flow
from robots.outbox import verify
from robots.records import SqlStore
from robots.testing.helpers import cli_env
from robots.watch import SnapshotStore, Watch, changed_fields, parse_every

ROOT = Path(__file__).resolve().parents[3]
LIST_CUSTOMERS = ROOT / "flows" / "sera" / "list_customers.yaml"


class Portal:
    """What the list flow returns at each poll, and the vars each poll was given (no browser: pure logic)."""

    def __init__(self, records: list[dict[str, Any]]):
        self.records = records
        self.calls: list[dict[str, Any]] = []

    def run(self, flow: Any, given: dict[str, Any]) -> dict[str, Any]:
        self.calls.append(dict(given))
        return {"customers": [dict(r, scraped_at=f"t{len(self.calls)}") for r in self.records]}


@pytest.fixture
def snapshots(tmp_path: Path) -> Iterator[SnapshotStore]:
    store = SqlStore(f"sqlite:///{tmp_path / 'robots.db'}")
    try:
        yield SnapshotStore(store.engine)
    finally:
        store.close()


def customer(cid: str, name: str, balance: int = 0) -> dict[str, Any]:
    return {"id": cid, "name": name, "balance_cents": balance, "source_url": "https://acme.sera.tech/customers"}


def test_created_updated_deleted_with_the_changed_fields(snapshots: SnapshotStore) -> None:
    portal = Portal([customer("1", "Ana"), customer("2", "Bo", 500)])
    watch = Watch(flow=load_flow(LIST_CUSTOMERS), key="id", store=snapshots, run=portal.run, full_every=1)
    first = watch.poll(datetime(2026, 3, 2, 15, 0, tzinfo=UTC))
    assert [(c.event, c.key) for c in first] == [("created", "1"), ("created", "2")]
    portal.records = [customer("2", "Bo Li", -250), customer("3", "Zoë")]
    second = watch.poll(datetime(2026, 3, 2, 15, 1, tzinfo=UTC))
    assert [(c.event, c.key, c.changed) for c in second] == [
        ("updated", "2", {"name": {"old": "Bo", "new": "Bo Li"}, "balance_cents": {"old": 500, "new": -250}}),
        ("created", "3", None),
        ("deleted", "1", None),
    ]
    assert second[2].record["name"] == "Ana"  # a deleted record as last seen
    assert second[0].to_json("w", datetime(2026, 3, 2, 15, 1, tzinfo=UTC)) == {
        "event": "updated", "watch": "w", "key": "2", "at": "2026-03-02T15:01:00Z",
        "changed": {"name": {"old": "Bo", "new": "Bo Li"}, "balance_cents": {"old": 500, "new": -250}},
        "record": {"id": "2", "name": "Bo Li", "balance_cents": -250, "source_url": "https://acme.sera.tech/customers",
                   "scraped_at": "t2"}}  # fmt: skip
    assert watch.poll(datetime(2026, 3, 2, 15, 2, tzinfo=UTC)) == []  # scraped_at changes every poll: not a change


def test_polls_after_the_first_ask_only_for_changes_and_a_restart_carries_on(snapshots: SnapshotStore) -> None:
    portal = Portal([customer("1", "Ana"), customer("2", "Bo")])
    flow = load_flow(LIST_CUSTOMERS)
    watch = Watch(flow=flow, key="id", store=snapshots, run=portal.run, full_every=3, time_zone="America/Chicago",
                  vars={"type": "commercial"})
    watch.poll(datetime(2026, 3, 2, 4, 0, tzinfo=UTC))  # 10 PM on March 1st in Chicago
    portal.records = [customer("2", "Bo Li")]  # a "modified since" list: only what changed
    restarted = Watch(flow=flow, key="id", store=snapshots, run=portal.run, full_every=3,
                      time_zone="America/Chicago", vars={"type": "commercial"})
    changes = restarted.poll(datetime(2026, 3, 2, 5, 0, tzinfo=UTC))
    assert [(c.event, c.key) for c in changes] == [("updated", "2")]  # "1" is not in a partial list: not deleted
    assert portal.calls == [{"type": "commercial"}, {"type": "commercial", "modified_on_or_after": "2026-03-01"}]
    restarted.poll(datetime(2026, 3, 2, 6, 0, tzinfo=UTC))
    portal.records = [customer("2", "Bo Li")]
    full = restarted.poll(datetime(2026, 3, 2, 7, 0, tzinfo=UTC))  # every 3rd poll lists everything
    assert portal.calls[-1] == {"type": "commercial"}
    assert [(c.event, c.key) for c in full] == [("deleted", "1")]


def test_inputs_are_checked() -> None:
    assert (parse_every("60s"), parse_every("5m"), parse_every("1h"), parse_every("2.5")) == (60, 300, 3600, 2.5)
    with pytest.raises(InputError) as caught:
        parse_every("soon")
    assert str(caught.value) == "--every: expected a duration like 60s, 5m or 1h, got 'soon'"
    assert changed_fields({"a": 1, "scraped_at": "x"}, {"a": 1, "b": None, "scraped_at": "y"}) == {}


def test_the_key_of_a_watch_cannot_change(snapshots: SnapshotStore) -> None:
    portal = Portal([customer("1", "Ana")])
    flow = load_flow(LIST_CUSTOMERS)
    Watch(flow=flow, key="id", store=snapshots, run=portal.run).poll()
    with pytest.raises(InputError) as caught:
        Watch(flow=flow, key="name", store=snapshots, run=portal.run).poll()
    assert str(caught.value) == ("watch 'list_customers' keys its records by 'id', not 'name'; use --key id or "
                                 "another --name")


class Receiver(BaseHTTPRequestHandler):
    received: list[tuple[dict[str, str], bytes]] = []

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.received.append(({k: v for k, v in self.headers.items()}, body))
        self.send_response(204)
        self.end_headers()

    def log_message(self, *args: Any) -> None:
        pass


@pytest.fixture
def receiver() -> Iterator[str]:
    Receiver.received = []
    server = HTTPServer(("127.0.0.1", 0), Receiver)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}/hook"
    finally:
        server.shutdown()
        thread.join()
        server.server_close()


def watch_cli(home: Path, env: dict[str, str], *args: str) -> list[dict[str, Any]]:
    done = subprocess.run([sys.executable, "-m", "robots.cli", "watch", str(LIST_CUSTOMERS), "--key", "id",
                           "--every", "1s", "--polls", "1", "--var", "type=commercial", "--var", "status=on_hold",
                           *args], capture_output=True, text=True, env={**cli_env(home), **env}, timeout=300,
                          check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr
    assert "watching list_customers (customers by id) every 1 s; events on stdout" in done.stderr
    return [json.loads(line) for line in done.stdout.splitlines()]


@pytest.mark.browser
def test_robots_watch_reports_what_changed_in_the_portal_between_polls(sandbox, sandbox_env, tmp_path, receiver):
    """Three polls (three `robots watch --polls 1`, snapshots kept in the store between them); between them the
    portal's data changes as another user would change it. The second poll asks only for changes (modified
    since), the third lists everything (--full-every 2: polls 0, 2, 4...) and sees the deletion."""
    db = sqlite3.connect(sandbox.db_path)
    rows = db.execute("SELECT id, name FROM customers WHERE type = 'commercial' AND status = 'on_hold' "
                      "ORDER BY id").fetchall()  # fmt: skip
    first = watch_cli(tmp_path, sandbox_env)
    assert [(e["event"], e["key"]) for e in first] == [("created", str(cid)) for cid, _ in rows]

    now = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
    (changed, old_name), (gone, _) = rows[0], rows[1]
    with db:
        db.execute("UPDATE customers SET name = 'Renamed Holdings', balance_cents = -12345, modified_at = ? "
                   "WHERE id = ?", [now, changed])  # fmt: skip
        db.execute("INSERT INTO customers (id, number, name, type, email, phone, city, state, balance_cents, "
                   "created_at, status, tags, modified_at) VALUES (9001, 'C-199001', 'Nuevo Café SA', 'commercial', "
                   "NULL, NULL, 'Austin', 'TX', 0, ?, 'on_hold', '', ?)", [now, now])  # fmt: skip
    env = {**sandbox_env, "ROBOTS_SECRET_WEBHOOK_SECRET": "whsec-test",
           "ROBOTS_WEBHOOK_ALLOW_NETWORKS": "127.0.0.0/8"}  # the receiver listens on loopback
    second = watch_cli(tmp_path, env, "--webhook", receiver, "--full-every", "2")
    assert [(e["event"], e["key"]) for e in second] == [("updated", str(changed)), ("created", "9001")]
    assert second[0]["changed"] == {"name": {"old": old_name, "new": "Renamed Holdings"},
                                    "balance_cents": {"old": second[0]["changed"]["balance_cents"]["old"],
                                                      "new": -12345}}  # fmt: skip
    assert second[1]["record"]["name"] == "Nuevo Café SA" and second[1]["record"]["phones"] == []
    # The same events, signed, through the outbox.
    assert [json.loads(body)["event"] for _, body in Receiver.received] == ["watch.updated", "watch.created"]
    for headers, body in Receiver.received:
        verify("whsec-test", headers, body)
    assert json.loads(Receiver.received[0][1])["key"] == str(changed)

    with db:
        db.execute("DELETE FROM customers WHERE id = ?", [gone])
    third = watch_cli(tmp_path, sandbox_env, "--full-every", "2")
    assert [(e["event"], e["key"]) for e in third] == [("deleted", str(gone))]
    db.close()
