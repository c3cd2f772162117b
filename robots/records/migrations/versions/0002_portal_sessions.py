"""Portal sessions, sign-in leases and login blocks (robots/auth/sessions.py).

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-25

The next revision (the scheduler's and the webhook outbox's tables) chains after this one: down_revision "0002".
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "portal_sessions",
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("data", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_portal_sessions"),
    )
    op.create_table(
        "session_leases",
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("holder", sa.String(255), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_session_leases"),
    )
    op.create_table(
        "login_blocks",
        sa.Column("key", sa.String(512), nullable=False),
        sa.Column("password_mac", sa.String(64), nullable=False),
        sa.Column("blocked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("message", sa.Text(), nullable=False),
        sa.PrimaryKeyConstraint("key", name="pk_login_blocks"),
    )


def downgrade() -> None:
    op.drop_table("login_blocks")
    op.drop_table("session_leases")
    op.drop_table("portal_sessions")
