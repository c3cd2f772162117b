"""Change detection (`robots watch`): the last snapshot of every record a watch has seen, and each watch's state.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-25
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "watches",
        sa.Column("name", sa.String(255), nullable=False),
        sa.Column("flow", sa.Text(), nullable=False),
        sa.Column("key_field", sa.String(255), nullable=False),
        sa.Column("polls", sa.Integer(), nullable=False),
        sa.Column("last_polled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("last_full_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("name", name="pk_watches"),
    )
    op.create_table(
        "watch_snapshots",
        sa.Column("watch", sa.String(255), nullable=False),
        sa.Column("key", sa.String(255), nullable=False),
        sa.Column("record", sa.Text(), nullable=False),
        sa.Column("seen_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("watch", "key", name="pk_watch_snapshots"),
    )


def downgrade() -> None:
    op.drop_table("watch_snapshots")
    op.drop_table("watches")
