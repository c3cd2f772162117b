"""The API (robots/api): tokens, the portal sessions behind them, idempotency keys, webhook subscriptions
and the audit log.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_tokens",
        sa.Column("token_id", sa.String(64), nullable=False),
        sa.Column("token_sha256", sa.String(64), nullable=False),
        sa.Column("scopes", sa.Text(), nullable=False),
        sa.Column("label", sa.String(255), nullable=False),
        sa.Column("tenant", sa.String(255), nullable=True),
        sa.Column("session_id", sa.String(64), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("token_id", name="pk_api_tokens"),
        sa.UniqueConstraint("token_sha256", name="uq_api_tokens_token_sha256"),
    )
    op.create_index("ix_api_tokens_session_id", "api_tokens", ["session_id"])
    op.create_table(
        "api_sessions",
        sa.Column("session_id", sa.String(64), nullable=False),
        sa.Column("portal_url", sa.Text(), nullable=False),
        sa.Column("tenant", sa.String(255), nullable=True),
        sa.Column("username", sa.String(255), nullable=False),
        sa.Column("role", sa.String(64), nullable=True),
        sa.Column("credentials", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("refreshed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("session_id", name="pk_api_sessions"),
    )
    op.create_table(
        "api_idempotency",
        sa.Column("token_id", sa.String(64), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("request_sha256", sa.String(64), nullable=False),
        sa.Column("status_code", sa.Integer(), nullable=True),
        sa.Column("response_json", sa.Text(), nullable=True),
        sa.Column("headers_json", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("token_id", "key", name="pk_api_idempotency"),
    )
    op.create_table(
        "api_webhooks",
        sa.Column("webhook_id", sa.String(64), nullable=False),
        sa.Column("token_id", sa.String(64), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("events", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("webhook_id", name="pk_api_webhooks"),
    )
    op.create_index("ix_api_webhooks_token_id", "api_webhooks", ["token_id"])
    op.create_table(
        "api_audit",
        sa.Column("id", sa.Integer(), autoincrement=True, nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("who", sa.String(255), nullable=False),
        sa.Column("token_id", sa.String(64), nullable=True),
        sa.Column("tenant", sa.String(255), nullable=True),
        sa.Column("action", sa.String(255), nullable=False),
        sa.Column("target", sa.Text(), nullable=True),
        sa.Column("result", sa.String(64), nullable=False),
        sa.Column("run_id", sa.String(255), nullable=True),
        sa.Column("request_id", sa.String(64), nullable=True),
        sa.PrimaryKeyConstraint("id", name="pk_api_audit"),
    )
    op.create_index("ix_api_audit_at", "api_audit", ["at"])


def downgrade() -> None:
    op.drop_index("ix_api_audit_at", "api_audit")
    op.drop_table("api_audit")
    op.drop_index("ix_api_webhooks_token_id", "api_webhooks")
    op.drop_table("api_webhooks")
    op.drop_table("api_idempotency")
    op.drop_table("api_sessions")
    op.drop_index("ix_api_tokens_session_id", "api_tokens")
    op.drop_table("api_tokens")
