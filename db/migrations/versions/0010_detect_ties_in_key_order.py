"""Articles reported at the same moment are detected in key order (guid, source, revision),
not in storing order.

Storing order follows fetch timing: the feed that answers first is stored first. Detection joins
reports to developments one at a time, so when many reports share a reference time (a first
poll, a feed that gives dates without times) the same news grouped into different developments,
and raised a different number of alerts, from one run to the next. The queue index follows the
new order, so a chunk is still read by walking the index.

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0010"
down_revision: str | Sequence[str] | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD = ["detect_state", "reference_at", "dated", "id"]
NEW = ["detect_state", "reference_at", "dated", "guid", "source_id", "revision"]


def _name(columns: list[str]) -> str:
    return op.f("ix_articles_" + "_".join(columns))


def upgrade() -> None:
    """Index the queue in its new order."""
    op.create_index(_name(NEW), "articles", NEW)
    op.drop_index(_name(OLD), table_name="articles")


def downgrade() -> None:
    """Back to storing order among equals."""
    op.create_index(_name(OLD), "articles", OLD)
    op.drop_index(_name(NEW), table_name="articles")
