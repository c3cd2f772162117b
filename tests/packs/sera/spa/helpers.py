"""Running the single-page front end's flows (flows/sera/spa/) in this process against the sandbox, and reading the
sandbox's own database and request log to check what they did."""

from __future__ import annotations

import sqlite3
from pathlib import Path
from typing import Any

import httpx

from robots import load_flow
from robots.engine import Listener, Runner
from robots.packs.sera.sandbox import credentials
from robots.portals import open_portal
from robots.records import SqlStore
from robots.records.model import RunRecord

ROOT = Path(__file__).resolve().parents[4]
FLOWS = ROOT / "flows" / "sera" / "spa"
TEST_FLOWS = Path(__file__).resolve().parent / "flows"


def demo(**extra: str) -> dict[str, str]:
    c = credentials()
    return {"sera_username": c["username"], "sera_password": c["password"], "sera_totp": c["totp_secret"],
            "sera_mfa_to": "", **extra}


def run(sandbox: Any, home: Path, flow: str | Path, secrets: dict[str, str] | None = None, *,
        vars: dict[str, Any] | None = None, listener: Listener | None = None, dry_run: bool = False) -> RunRecord:
    """One run of `flow` (a name in flows/sera/spa/, or a path) in `home`, with the demo account by default."""
    path = flow if isinstance(flow, Path) else FLOWS / f"{flow}.yaml"
    store = SqlStore(f"sqlite:///{home / 'robots.db'}")
    try:
        with open_portal("sera", url=sandbox.url) as portal:
            runner = Runner(store=store, home=home, trigger="test", listener=listener)
            return runner.run(load_flow(path), secrets=secrets or demo(), portal=portal, vars=vars, dry_run=dry_run)
    finally:
        store.close()


def passed(record: RunRecord) -> RunRecord:
    assert record.status == "passed", (record.error_message, [(s.name, s.status) for s in record.steps])
    return record


def app_requests(sandbox: Any) -> list[dict[str, Any]]:
    """The request log's entries for the app (its page and its JSON endpoints), oldest first."""
    log = httpx.get(f"{sandbox.url}/_sandbox/requests").json()
    return [e for e in log if e["path"].startswith("/app")]


def rows(sandbox: Any, sql: str, params: tuple[Any, ...] = ()) -> list[sqlite3.Row]:
    """The sandbox tenant's database, read-only: the oracle the flows' outputs are compared with."""
    return sandbox.rows(sql, *params)
