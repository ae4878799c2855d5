"""The detection queue moves out of `articles` into a table of its own, `detection_queue`.

SQLite writes a changed row whole: marking an article detected rewrote its text and raw entry
(two or three overflow pages each), and the UPDATE's statement journal copied them once more.
On a 1,000-feed first poll that was about half of the store's reads and writes. The queue's
state (detect_state, rules_version, detect_error, now state, rules_version, error) moves to
one small row per article, with copies of the article's key and reading, which never change, so
the queue is read in order by walking its own index.

On SQLite the upgrade rebuilds `articles` to drop the columns (a copy of the table, once: a
store of 100,000 articles, 436 MB, took 11.4 s). The file then holds the old table's pages as
free space, which later writes reuse (that store: 853 MB after; SQLite's `VACUUM` gives it back).

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-07
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | Sequence[str] | None = "0011"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

QUEUE = "detection_queue"
STATE_CHECK = "state IN ('pending', 'done', 'failed')"
OLD_STATE_CHECK = "detect_state IN ('pending', 'done', 'failed')"
KEY = ["guid", "source_id", "revision"]
# The columns the queue copies from the article, as they are named in both tables.
COPIED = ["reference_at", "reference_offset_min", "dated", *KEY]
# The queue's own columns, and the articles columns they came from.
MOVED = {"state": "detect_state", "rules_version": "rules_version", "error": "detect_error"}
OLD_INDEX = "ix_articles_detect_queue"
NEW_INDEX = "ix_detection_queue_order"
ID_INDEX = "ix_detection_queue_state_article_id"


def upgrade() -> None:
    """Create the queue from the articles' columns, then drop those columns and their index."""
    op.create_table(
        QUEUE,
        sa.Column("article_id", sa.Integer(), nullable=False),
        sa.Column("state", sa.String(length=16), server_default="pending", nullable=False),
        sa.Column("rules_version", sa.String(length=64), nullable=True),
        sa.Column("error", sa.Text(), nullable=True),
        sa.Column("reference_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reference_offset_min", sa.Integer(), nullable=True),
        sa.Column("dated", sa.Boolean(), nullable=False),
        sa.Column("guid", sa.Text(), nullable=False),
        sa.Column("source_id", sa.Integer(), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.CheckConstraint(STATE_CHECK, name=op.f("ck_detection_queue_state")),
        sa.ForeignKeyConstraint(
            ["article_id"],
            ["articles.id"],
            name=op.f("fk_detection_queue_article_id_articles"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("article_id", name=op.f("pk_detection_queue")),
    )
    into = ", ".join(["article_id", *MOVED, *COPIED])
    taken = ", ".join(["id", *MOVED.values(), *COPIED])
    op.execute(f"INSERT INTO {QUEUE} ({into}) SELECT {taken} FROM articles")
    op.create_index(
        op.f(NEW_INDEX), QUEUE, ["state", "reference_at", sa.text("dated DESC"), *KEY], unique=False
    )
    op.create_index(op.f(ID_INDEX), QUEUE, ["state", "article_id"], unique=False)
    op.drop_index(op.f(OLD_INDEX), table_name="articles")
    with op.batch_alter_table("articles") as batch:
        batch.drop_constraint(op.f("ck_articles_detect_state"), type_="check")
        for column in MOVED.values():
            batch.drop_column(column)


def downgrade() -> None:
    """Back to the columns of `articles`, filled from the queue."""
    with op.batch_alter_table("articles") as batch:
        batch.add_column(
            sa.Column(
                "detect_state", sa.String(length=16), server_default="pending", nullable=False
            )
        )
        batch.add_column(sa.Column("rules_version", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("detect_error", sa.Text(), nullable=True))
        batch.create_check_constraint(op.f("ck_articles_detect_state"), OLD_STATE_CHECK)
    values = ", ".join(
        f"{old} = (SELECT q.{new} FROM {QUEUE} q WHERE q.article_id = articles.id)"
        for new, old in MOVED.items()
    )
    op.execute(f"UPDATE articles SET {values} WHERE id IN (SELECT article_id FROM {QUEUE})")
    op.create_index(
        op.f(OLD_INDEX),
        "articles",
        ["detect_state", "reference_at", sa.text("dated DESC"), *KEY],
    )
    op.drop_index(op.f(ID_INDEX), table_name=QUEUE)
    op.drop_index(op.f(NEW_INDEX), table_name=QUEUE)
    op.drop_table(QUEUE)
