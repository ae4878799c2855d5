"""Developments keep their regions: those of their actors and places, and the region tags of
the sources their evidence came from. Routing (`region:<name>` subscriber tags) reads them.

Developments stored before this revision start with no regions (the rules that derive them
are not part of the store); each gains them with its next piece of evidence. An alert written
before routes on its development's regions as they are when it is sent.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | Sequence[str] | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    """Add developments.regions (a JSON list, empty for the rows already there)."""
    json_type = sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )
    op.add_column(
        "developments",
        sa.Column("regions", json_type, server_default=sa.text("'[]'"), nullable=False),
    )


def downgrade() -> None:
    """Drop developments.regions."""
    with op.batch_alter_table("developments") as batch:
        batch.drop_column("regions")
