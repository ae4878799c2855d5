"""Detection becomes durable work taken from the store; items keep revisions; claims name
their holder.

- articles.detect_state (pending | done | failed), rules_version, detect_error: the detection
  queue. Articles stored before this revision were handed to detection by the run that stored
  them, so they start `done`.
- articles.reference_at, dated: "now" for the article as its run read it.
- articles.revision: a changed text under a known (source, guid) is stored as its next
  revision; the unique key becomes (source_id, guid, revision).
- (content_hash, source_id) and (source_id, canonical_url) stop being unique: a new guid
  repeating earlier text can be a new event.
- deliveries.claimed_by: the process holding a claim, so a dead one's claims are taken over.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | Sequence[str] | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DETECT_CHECK = "detect_state IN ('pending', 'done', 'failed')"


def upgrade() -> None:
    """Add the detection queue and revisions to articles, and the claim holder to deliveries."""
    with op.batch_alter_table("articles") as batch:
        batch.add_column(sa.Column("revision", sa.Integer(), server_default="0", nullable=False))
        batch.add_column(
            sa.Column(
                "detect_state", sa.String(length=16), server_default="pending", nullable=False
            )
        )
        batch.add_column(sa.Column("rules_version", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("detect_error", sa.Text(), nullable=True))
        batch.add_column(sa.Column("reference_at", sa.DateTime(timezone=True), nullable=True))
        batch.add_column(sa.Column("dated", sa.Boolean(), server_default=sa.true(), nullable=False))
        batch.drop_constraint(op.f("uq_articles_source_id_guid"), type_="unique")
        batch.drop_constraint(op.f("uq_articles_content_hash_source_id"), type_="unique")
        batch.drop_constraint(op.f("uq_articles_source_id_canonical_url"), type_="unique")
        batch.create_unique_constraint(
            op.f("uq_articles_source_id_guid_revision"), ["source_id", "guid", "revision"]
        )
        batch.create_check_constraint(op.f("ck_articles_detect_state"), DETECT_CHECK)
    op.execute("UPDATE articles SET detect_state = 'done'")
    op.create_index(
        op.f("ix_articles_content_hash_source_id"), "articles", ["content_hash", "source_id"]
    )
    op.create_index(
        op.f("ix_articles_source_id_canonical_url"), "articles", ["source_id", "canonical_url"]
    )
    op.create_index(op.f("ix_articles_detect_state_id"), "articles", ["detect_state", "id"])
    with op.batch_alter_table("deliveries") as batch:
        batch.add_column(sa.Column("claimed_by", sa.Text(), nullable=True))


def downgrade() -> None:
    """Back to one row per (source, guid): later revisions are dropped with the queue."""
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_column("claimed_by")
    op.execute("DELETE FROM evidence WHERE article_id IN (SELECT id FROM articles WHERE revision > 0)")
    op.execute(
        "UPDATE articles SET duplicate_of_id = NULL WHERE duplicate_of_id IN "
        "(SELECT id FROM articles WHERE revision > 0)"
    )
    op.execute("DELETE FROM articles WHERE revision > 0")
    op.drop_index(op.f("ix_articles_detect_state_id"), table_name="articles")
    op.drop_index(op.f("ix_articles_source_id_canonical_url"), table_name="articles")
    op.drop_index(op.f("ix_articles_content_hash_source_id"), table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_constraint(op.f("ck_articles_detect_state"), type_="check")
        batch.drop_constraint(op.f("uq_articles_source_id_guid_revision"), type_="unique")
        batch.create_unique_constraint(op.f("uq_articles_source_id_guid"), ["source_id", "guid"])
        batch.create_unique_constraint(
            op.f("uq_articles_content_hash_source_id"), ["content_hash", "source_id"]
        )
        batch.create_unique_constraint(
            op.f("uq_articles_source_id_canonical_url"), ["source_id", "canonical_url"]
        )
        for column in ("dated", "reference_at", "detect_error", "rules_version", "detect_state"):
            batch.drop_column(column)
        batch.drop_column("revision")
