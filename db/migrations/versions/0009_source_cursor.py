"""A source's fetch state becomes its kind's opaque cursor: one JSON column, not HTTP columns.

- sources.cursor (JSON, NULL before the first successful fetch): what the source's kind keeps
  of it between fetches (`core.cursor`), stored without being read, so a new kind needs no
  migration.
- sources.etag, last_modified, body_hash and feed_ttl_s go: they were the rss kind's memory
  (and body_hash the seedfiles kind's too). Each row's non-NULL values move into its cursor
  under the same names, which is the shape both kinds read (`adapters.rss.FeedCursor`, the
  seedfiles `body_hash`), so the first poll after the upgrade is the same conditional GET.

Downgrading moves them back: each column takes its cursor's value when that is of the
column's type (anything else the cursor holds is dropped), so an older version goes on
sending the same validators.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0009"
down_revision: str | Sequence[str] | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# The columns that become cursor keys, with the type each held.
TEXT_COLUMNS = ("etag", "last_modified", "body_hash")
INT_COLUMNS = ("feed_ttl_s",)
JSON_TYPE = sa.JSON(none_as_null=True).with_variant(
    postgresql.JSONB(none_as_null=True), "postgresql"
)


def validators_table() -> sa.TableClause:
    """sources as this migration sees it before the cursor: id and the validator columns."""
    return sa.table(
        "sources",
        sa.column("id", sa.Integer()),
        *(sa.column(name, sa.Text()) for name in TEXT_COLUMNS),
        *(sa.column(name, sa.Integer()) for name in INT_COLUMNS),
    )


def cursor_table() -> sa.TableClause:
    """sources as this migration sees it after: id and the cursor."""
    return sa.table("sources", sa.column("id", sa.Integer()), sa.column("cursor", JSON_TYPE))


def upgrade() -> None:
    """Add sources.cursor, fill it from the validator columns, drop them."""
    op.add_column("sources", sa.Column("cursor", JSON_TYPE, nullable=True))
    old, new = validators_table(), cursor_table()
    connection = op.get_bind()
    for row in connection.execute(sa.select(old)).mappings().all():
        cursor = {
            name: row[name] for name in (*TEXT_COLUMNS, *INT_COLUMNS) if row[name] is not None
        }
        if cursor:
            connection.execute(new.update().where(new.c.id == row["id"]).values(cursor=cursor))
    with op.batch_alter_table("sources") as batch:
        for name in (*TEXT_COLUMNS, *INT_COLUMNS):
            batch.drop_column(name)


def downgrade() -> None:
    """Add the validator columns back, filled from each cursor, and drop sources.cursor."""
    with op.batch_alter_table("sources") as batch:
        for name in TEXT_COLUMNS:
            batch.add_column(sa.Column(name, sa.Text(), nullable=True))
        for name in INT_COLUMNS:
            batch.add_column(sa.Column(name, sa.Integer(), nullable=True))
    current, old = cursor_table(), validators_table()
    connection = op.get_bind()
    rows = connection.execute(sa.select(current).where(current.c.cursor.is_not(None))).all()
    for row in rows:
        values = validator_columns(row.cursor)
        if values:
            connection.execute(old.update().where(old.c.id == row.id).values(values))
    with op.batch_alter_table("sources") as batch:
        batch.drop_column("cursor")


def validator_columns(cursor: object) -> dict[str, Any]:
    """The validator columns a stored cursor fills: each key of the column's type."""
    if not isinstance(cursor, dict):
        return {}
    texts = {k: cursor[k] for k in TEXT_COLUMNS if isinstance(cursor.get(k), str)}
    ints = {
        k: cursor[k]
        for k in INT_COLUMNS
        if isinstance(cursor.get(k), int) and not isinstance(cursor.get(k), bool)
    }
    return {**texts, **ints}
