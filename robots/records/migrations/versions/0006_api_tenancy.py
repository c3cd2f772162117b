"""The API's tenancy: which tenant and owner every API run belongs to, which stored credentials a token may sign
in with, and the tenant of each webhook subscription.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "api_runs",
        sa.Column("run_id", sa.String(255), nullable=False),
        sa.Column("tenant", sa.String(255), nullable=True),
        sa.Column("owner", sa.String(64), nullable=False),
        sa.Column("token_id", sa.String(64), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("run_id", name="pk_api_runs"),
    )
    op.create_index("ix_api_runs_owner", "api_runs", ["owner"])
    with op.batch_alter_table("api_tokens") as batch:
        batch.add_column(sa.Column("credentials", sa.Text(), nullable=True))
    with op.batch_alter_table("api_webhooks") as batch:
        batch.add_column(sa.Column("tenant", sa.String(255), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("api_webhooks") as batch:
        batch.drop_column("tenant")
    with op.batch_alter_table("api_tokens") as batch:
        batch.drop_column("credentials")
    op.drop_index("ix_api_runs_owner", "api_runs")
    op.drop_table("api_runs")
