"""The API's SQL tables: tokens, the portal sessions behind them, idempotency keys, webhook subscriptions, run
ownership and the audit log. Raw tokens and portal passwords are never stored: tokens by their SHA-256, a session's
credentials as a Fernet token whose key is derived from the API token that owns them.

They are declared on the run store's `Base` (robots/records/schema.py) and live in its database, so that the
database keeps ONE migration history: revisions 0005 (these tables) and 0006 (tenancy) stay in
robots/records/migrations/versions/, in the one chain, and a database made before these definitions moved here
from robots/records/schema.py upgrades exactly as before (the tables, their names and columns are unchanged).
Changing a table here needs a new revision there; autogenerate sees these tables only when this module is imported
(see robots/records/migrations/__init__.py).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Integer, String, Text
from sqlalchemy.orm import Mapped, mapped_column

from robots.records.schema import Base, UtcDateTime


class ApiTokenRow(Base):
    __tablename__ = "api_tokens"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_sha256: Mapped[str] = mapped_column(String(64), unique=True)
    scopes: Mapped[str] = mapped_column(Text)  # space-separated
    label: Mapped[str] = mapped_column(String(255))  # who: the portal username, or the CLI's --label
    tenant: Mapped[str | None] = mapped_column(String(255))
    session_id: Mapped[str | None] = mapped_column(String(64), index=True)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    expires_at: Mapped[datetime] = mapped_column(UtcDateTime())
    revoked_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    # the stored credentials (vault names) this token may sign in with through POST /sessions, space-separated
    # (revision 0006); None: none
    credentials: Mapped[str | None] = mapped_column(Text)


class ApiSessionRow(Base):
    __tablename__ = "api_sessions"

    session_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    portal_url: Mapped[str] = mapped_column(Text)
    tenant: Mapped[str | None] = mapped_column(String(255))
    username: Mapped[str] = mapped_column(String(255))
    role: Mapped[str | None] = mapped_column(String(64))
    credentials: Mapped[str] = mapped_column(Text)  # Fernet token (key derived from the API token)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    refreshed_at: Mapped[datetime] = mapped_column(UtcDateTime())
    ended_at: Mapped[datetime | None] = mapped_column(UtcDateTime())


class IdempotencyRow(Base):
    __tablename__ = "api_idempotency"

    token_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    key: Mapped[str] = mapped_column(String(255), primary_key=True)
    request_sha256: Mapped[str] = mapped_column(String(64))  # method, path and body
    status_code: Mapped[int | None] = mapped_column(Integer)  # None while the first request is in progress
    response_json: Mapped[str | None] = mapped_column(Text)
    headers_json: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class WebhookRow(Base):
    __tablename__ = "api_webhooks"

    webhook_id: Mapped[str] = mapped_column(String(64), primary_key=True)
    token_id: Mapped[str] = mapped_column(String(64), index=True)
    url: Mapped[str] = mapped_column(Text)
    events: Mapped[str] = mapped_column(Text)  # space-separated; deliveries are signed by the one outbox
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())
    tenant: Mapped[str | None] = mapped_column(String(255))  # revision 0006


class ApiRunRow(Base):
    """Who an API run belongs to (revision 0006): the tenant of the portal it ran against and its owner (the portal
    session, or the token when it has none). Reads, evidence and cancels are answered only to that owner, or to an
    admin token of the same tenant (or of none: the operator's)."""

    __tablename__ = "api_runs"

    run_id: Mapped[str] = mapped_column(String(255), primary_key=True)
    tenant: Mapped[str | None] = mapped_column(String(255))
    owner: Mapped[str] = mapped_column(String(64), index=True)
    token_id: Mapped[str] = mapped_column(String(64))  # the token that started it
    created_at: Mapped[datetime] = mapped_column(UtcDateTime())


class AuditRow(Base):
    __tablename__ = "api_audit"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    who: Mapped[str] = mapped_column(String(255))
    token_id: Mapped[str | None] = mapped_column(String(64))
    tenant: Mapped[str | None] = mapped_column(String(255))
    action: Mapped[str] = mapped_column(String(255))
    target: Mapped[str | None] = mapped_column(Text)
    result: Mapped[str] = mapped_column(String(64))
    run_id: Mapped[str | None] = mapped_column(String(255))
    request_id: Mapped[str | None] = mapped_column(String(64))
