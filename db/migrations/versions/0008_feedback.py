"""Analysts' feedback: false alarms, merges and splits, recorded with who and when.

- feedback: one row per action (false_alarm, restore, merge, split) on a development, its
  actor, time and details (the evidence moved, the deliveries withdrawn, the target).
- developments.dismissed_as (NULL | false_alarm | merged) and merged_into_id: a dismissed
  development leaves the default views and never alerts again; later reports still join it.
- deliveries.state may be `withdrawn`: a delivery of a dismissed development, never sent.

Developments and deliveries stored before this revision are live and keep their states.
Downgrading turns withdrawn deliveries into failed ones with the reason, so `alerts retry`
after a downgrade is the one way to send them after all.

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-03
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0008"
down_revision: str | Sequence[str] | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

DISMISSAL_CHECK = "dismissed_as IN ('false_alarm', 'merged')"
ACTION_CHECK = "action IN ('false_alarm', 'restore', 'merge', 'split')"
STATE_CHECK = "state IN ('pending', 'sending', 'sent', 'failed', 'withdrawn')"
STATE_CHECK_BEFORE = "state IN ('pending', 'sending', 'sent', 'failed')"


def upgrade() -> None:
    """Add the feedback table, the dismissal columns and the `withdrawn` delivery state."""
    json_type = sa.JSON(none_as_null=True).with_variant(
        postgresql.JSONB(none_as_null=True), "postgresql"
    )
    with op.batch_alter_table("developments") as batch:
        batch.add_column(sa.Column("dismissed_as", sa.String(length=16), nullable=True))
        batch.add_column(sa.Column("merged_into_id", sa.Integer(), nullable=True))
        batch.create_foreign_key(
            op.f("fk_developments_merged_into_id_developments"),
            "developments",
            ["merged_into_id"],
            ["id"],
        )
        batch.create_check_constraint(op.f("ck_developments_dismissed_as"), DISMISSAL_CHECK)
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(op.f("ck_deliveries_state"), type_="check")
        batch.create_check_constraint(op.f("ck_deliveries_state"), STATE_CHECK)
    op.create_table(
        "feedback",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("action", sa.String(length=16), nullable=False),
        sa.Column("development_id", sa.Integer(), nullable=False),
        sa.Column("target_id", sa.Integer(), nullable=True),
        sa.Column("actor", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("details", json_type, nullable=False),
        sa.CheckConstraint(ACTION_CHECK, name=op.f("ck_feedback_action")),
        sa.ForeignKeyConstraint(
            ["development_id"],
            ["developments.id"],
            name=op.f("fk_feedback_development_id_developments"),
        ),
        sa.ForeignKeyConstraint(
            ["target_id"], ["developments.id"], name=op.f("fk_feedback_target_id_developments")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_feedback")),
    )
    op.create_index(op.f("ix_feedback_development_id"), "feedback", ["development_id"])


def downgrade() -> None:
    """Drop the feedback; withdrawn deliveries become failed ones that say why."""
    op.drop_index(op.f("ix_feedback_development_id"), table_name="feedback")
    op.drop_table("feedback")
    op.execute(
        "UPDATE deliveries SET state = 'failed', "
        "last_error = 'withdrawn: its development was dismissed by an analyst' "
        "WHERE state = 'withdrawn'"
    )
    with op.batch_alter_table("deliveries") as batch:
        batch.drop_constraint(op.f("ck_deliveries_state"), type_="check")
        batch.create_check_constraint(op.f("ck_deliveries_state"), STATE_CHECK_BEFORE)
    with op.batch_alter_table("developments") as batch:
        batch.drop_constraint(op.f("ck_developments_dismissed_as"), type_="check")
        batch.drop_constraint(op.f("fk_developments_merged_into_id_developments"), type_="foreignkey")
        batch.drop_column("merged_into_id")
        batch.drop_column("dismissed_as")
