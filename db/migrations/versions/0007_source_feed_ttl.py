"""Sources keep their feed's own refresh hint (RSS <ttl>), so the next poll honours it after a
304 too, which does not carry the body that states it.

Sources stored before this revision have none; each gains it with its next full fetch.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | Sequence[str] | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add sources.feed_ttl_s (seconds, NULL when the feed states none)."""
    op.add_column("sources", sa.Column("feed_ttl_s", sa.Integer(), nullable=True))


def downgrade() -> None:
    """Drop sources.feed_ttl_s."""
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("feed_ttl_s")
