"""Webhook subscriptions of the API, and `run.finished` events for them through the one outbox (robots.outbox:
persistence, HMAC signing, retries with back-off, the outbound allow-list of robots.netguard)."""

from __future__ import annotations

import secrets
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import delete, select
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker

from robots.api.tables import WebhookRow
from robots.records.model import RunRecord

EVENTS = ("run.finished",)


class Webhooks:
    def __init__(self, engine: Engine, outbox: Any) -> None:
        self.outbox = outbox
        self._read = sessionmaker(engine)
        self._write = sessionmaker(engine.execution_options(robots_write=True))

    def check(self, url: str) -> None:
        """Refuse a URL its deliveries could not go to (robots.netguard): raises TargetRefused, an input error."""
        self.outbox.guard.check_url(url)

    def add(self, owner: str, url: str, events: list[str], tenant: str | None = None) -> WebhookRow:
        row = WebhookRow(webhook_id="wh_" + secrets.token_hex(8), token_id=owner, url=url, events=" ".join(events),
                         tenant=tenant, created_at=datetime.now(UTC))
        with self._write.begin() as s:
            s.add(row)
            s.flush()
            s.expunge(row)
        return row

    def of(self, owner: str) -> list[WebhookRow]:
        with self._read() as s:
            rows = list(s.scalars(select(WebhookRow).where(WebhookRow.token_id == owner)
                                  .order_by(WebhookRow.created_at, WebhookRow.webhook_id)))
            s.expunge_all()
        return rows

    def get(self, owner: str, webhook_id: str) -> WebhookRow | None:
        return next((r for r in self.of(owner) if r.webhook_id == webhook_id), None)

    def remove(self, owner: str, webhook_id: str) -> bool:
        with self._write.begin() as s:
            done = s.execute(delete(WebhookRow).where(WebhookRow.token_id == owner,
                                                      WebhookRow.webhook_id == webhook_id))
            return bool(done.rowcount)  # type: ignore[attr-defined]

    def run_finished(self, owner: str, record: RunRecord) -> list[str]:
        """Enqueue `run.finished` for every subscription of `owner` that wants it; the event ids."""
        payload = {"run": {"run_id": record.run_id, "flow_name": record.flow_name, "status": record.status,
                           "started_at": record.started_at.isoformat(),
                           "ended_at": record.ended_at.isoformat() if record.ended_at else None,
                           "outputs": record.outputs, "error_class": record.error_class,
                           "error_message": record.error_message, "location": f"/runs/{record.run_id}"}}
        return [self.outbox.enqueue(row.url, "run.finished", payload) for row in self.of(owner)
                if "run.finished" in row.events.split()]
