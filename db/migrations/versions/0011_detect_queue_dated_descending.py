"""The detection queue's index holds `dated` descending, as the queue reads it.

The queue reads articles by reference time, dated before undated (`dated DESC`), then by key.
With `dated` ascending in the index, the database walked the index for the reference time and
then sorted each run of equal times in a temporary B-tree (3.0 ms against 0.7 ms per chunk of
200 on 10,000 pending articles, on SQLite).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-04
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | Sequence[str] | None = "0010"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = "ix_articles_detect_state_reference_at_dated_guid_source_id_revision"
NEW = "ix_articles_detect_queue"
KEY = ["guid", "source_id", "revision"]


def upgrade() -> None:
    """Index the queue with `dated` descending."""
    columns: list[str | sa.TextClause] = ["detect_state", "reference_at", sa.text("dated DESC"), *KEY]
    op.create_index(op.f(NEW), "articles", columns)
    op.drop_index(op.f(OLD), table_name="articles")


def downgrade() -> None:
    """Back to `dated` ascending."""
    op.create_index(op.f(OLD), "articles", ["detect_state", "reference_at", "dated", *KEY])
    op.drop_index(op.f(NEW), table_name="articles")
