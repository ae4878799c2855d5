"""The detection queue is taken in time order: by each article's reference time ("now" as its
run read it), dated articles before undated ones at the same time, then in storing order.

Storing order alone depended on how a run was cut into batches (rows are inserted in key order
within a batch), so one replay read in chunks and the same replay read whole could detect the
same articles in different orders, and a planned meeting could be read after the report that
it took place. The index replaces the (detect_state, id) one.

articles.reference_offset_min keeps the reading's UTC offset (the publisher's), so detection
reads relative dates ("on the 1st", "1日", "on Tuesday") on the publisher's calendar: an item
of 08:30 in Tokyo is dated the day before in UTC. Rows stored before keep NULL (read in UTC).

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | Sequence[str] | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COLUMNS = ["detect_state", "reference_at", "dated", "id"]


def upgrade() -> None:
    """Index the queue in the order it is taken; keep each reading's offset."""
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("reference_offset_min", sa.Integer(), nullable=True))
    op.create_index(op.f("ix_articles_detect_state_reference_at_dated_id"), "articles", COLUMNS)
    op.drop_index(op.f("ix_articles_detect_state_id"), table_name="articles")


def downgrade() -> None:
    """Back to the queue in storing order, readings in UTC."""
    op.create_index(op.f("ix_articles_detect_state_id"), "articles", ["detect_state", "id"])
    op.drop_index(op.f("ix_articles_detect_state_reference_at_dated_id"), table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_column("reference_offset_min")
