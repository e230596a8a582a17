"""Case history (stage, priority, review, lead, members, screening), queue snoozes and
requests for a profession's input.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-22 08:56:06.652317
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "case_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("from_value", sa.String(length=200), nullable=True),
        sa.Column("to_value", sa.String(length=200), nullable=True),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.CheckConstraint(
            "kind IN ('opened', 'stage', 'priority', 'next_review', 'lead', 'member_added', 'member_removed', 'screened', 'closed', 'category')",
            name=op.f("ck_case_event_kind"),
        ),
        sa.ForeignKeyConstraint(
            ["actor_id"], ["user.id"], name=op.f("fk_case_event_actor_id_user"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_event_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event")),
    )
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.create_index("ix_case_event_case_id_at", ["case_id", "at"], unique=False)
        batch_op.create_index("ix_case_event_kind_at", ["kind", "at"], unique=False)

    op.create_table(
        "case_snooze",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("until", sa.Date(), nullable=False),
        sa.Column("reason", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_snooze_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_case_snooze_user_id_user"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_snooze")),
    )
    with op.batch_alter_table("case_snooze", schema=None) as batch_op:
        batch_op.create_index("ix_case_snooze_user_id_until", ["user_id", "until"], unique=False)

    op.create_table(
        "input_request",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("profession", sa.String(length=64), nullable=False),
        sa.Column("asked_by_id", sa.Integer(), nullable=False),
        sa.Column("asked_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("question", sa.Text(), nullable=False),
        sa.Column("answered_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["asked_by_id"],
            ["user.id"],
            name=op.f("fk_input_request_asked_by_id_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_input_request_case_id_case"), ondelete="CASCADE"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_input_request")),
    )
    with op.batch_alter_table("input_request", schema=None) as batch_op:
        batch_op.create_index("ix_input_request_case_id", ["case_id"], unique=False)
        batch_op.create_index(
            "ix_input_request_profession_answered_at", ["profession", "answered_at"], unique=False
        )


def downgrade() -> None:
    with op.batch_alter_table("input_request", schema=None) as batch_op:
        batch_op.drop_index("ix_input_request_profession_answered_at")
        batch_op.drop_index("ix_input_request_case_id")

    op.drop_table("input_request")
    with op.batch_alter_table("case_snooze", schema=None) as batch_op:
        batch_op.drop_index("ix_case_snooze_user_id_until")

    op.drop_table("case_snooze")
    with op.batch_alter_table("case_event", schema=None) as batch_op:
        batch_op.drop_index("ix_case_event_kind_at")
        batch_op.drop_index("ix_case_event_case_id_at")

    op.drop_table("case_event")
