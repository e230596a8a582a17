"""The shared terminal and the huddle: the growing wait after a wrong passphrase, cases
flagged for the huddle, and each huddle's agenda with the time spent per case.

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    # A plain ADD COLUMN (no batch table copy needed for a nullable column).
    op.add_column("user", sa.Column("retry_after", sa.DateTime(timezone=True), nullable=True))

    op.create_table(
        "huddle_flag",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("flagged_by_id", sa.Integer(), nullable=False),
        sa.Column("flagged_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cleared_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cleared_in_huddle_id", sa.Integer(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_huddle_flag_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["flagged_by_id"], ["user.id"], name=op.f("fk_huddle_flag_flagged_by_id_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["cleared_in_huddle_id"], ["huddle.id"],
            name=op.f("fk_huddle_flag_cleared_in_huddle_id_huddle"), ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_huddle_flag")),
    )
    with op.batch_alter_table("huddle_flag", schema=None) as batch_op:
        # One open flag per case (a flag cleared by a huddle may be followed by a new one).
        batch_op.create_index(
            "uq_huddle_flag_open_case_id", ["case_id"], unique=True,
            sqlite_where=sa.text("cleared_at IS NULL"),
            postgresql_where=sa.text("cleared_at IS NULL"),
        )

    op.create_table(
        "huddle_case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("huddle_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("position", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=16), nullable=False),
        sa.Column("seconds_spent", sa.Integer(), nullable=False),
        sa.CheckConstraint(
            "source IN ('notification', 'review', 'flagged')", name=op.f("ck_huddle_case_source")
        ),
        sa.ForeignKeyConstraint(
            ["huddle_id"], ["huddle.id"], name=op.f("fk_huddle_case_huddle_id_huddle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_huddle_case_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_huddle_case")),
        sa.UniqueConstraint("huddle_id", "case_id", name=op.f("uq_huddle_case_huddle_id_case_id")),
    )


def downgrade() -> None:
    op.drop_table("huddle_case")
    with op.batch_alter_table("huddle_flag", schema=None) as batch_op:
        batch_op.drop_index("uq_huddle_flag_open_case_id")
    op.drop_table("huddle_flag")
    # A plain DROP COLUMN (SQLite 3.35+): a batch copy of "user" would have to drop the
    # table every other table refers to, which foreign keys refuse once there are rows.
    op.execute('ALTER TABLE "user" DROP COLUMN retry_after')
