"""Alerts keep a snapshot of their development as the change left it.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0003"
down_revision: str | Sequence[str] | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add alerts.snapshot (JSON; NULL for alerts written before it existed)."""
    json_type = sa.JSON().with_variant(postgresql.JSONB(), "postgresql")
    with op.batch_alter_table("alerts") as batch:
        batch.add_column(sa.Column("snapshot", json_type, nullable=True))


def downgrade() -> None:
    """Drop alerts.snapshot."""
    with op.batch_alter_table("alerts") as batch:
        batch.drop_column("snapshot")
