"""Articles carry a SimHash and its bands, so near-duplicate wire copies can be linked.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | Sequence[str] | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

BANDS = ("simhash_band0", "simhash_band1", "simhash_band2", "simhash_band3")


def upgrade() -> None:
    """Add the SimHash column and one indexed column per band."""
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("simhash", sa.BigInteger(), nullable=True))
        for band in BANDS:
            batch.add_column(sa.Column(band, sa.Integer(), nullable=True))
    for band in BANDS:
        op.create_index(op.f(f"ix_articles_{band}"), "articles", [band])


def downgrade() -> None:
    """Drop the SimHash columns."""
    for band in BANDS:
        op.drop_index(op.f(f"ix_articles_{band}"), table_name="articles")
    with op.batch_alter_table("articles") as batch:
        for band in reversed(BANDS):
            batch.drop_column(band)
        batch.drop_column("simhash")
