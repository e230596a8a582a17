"""Note entry: the statutory child-welfare notification, one draft per new note, and a
note corrected at most once.

- ``child_welfare_notification``: the record a concern about a minor calls for (police,
  youth work and health must notify child welfare), with its task.
- ``draft``: the unique (author, case, supersedes) constraint treats NULLs as distinct, so
  a partial unique index keeps one draft of a *new* note per author and case.
- ``note.supersedes_id`` becomes unique: two terminals cannot both correct the same
  revision (the second is told to revise the newest one).

Index changes on ``note`` are plain CREATE/DROP INDEX (no batch table copy), so SQLite
keeps the note's append-only triggers.

Revision ID: 0006
Revises: 0004
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0006"
down_revision = "0004"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "child_welfare_notification",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=False),
        sa.Column("notifier_id", sa.Integer(), nullable=False),
        sa.Column("notifier_profession", sa.String(length=64), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("notified_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("method", sa.String(length=32), nullable=True),
        sa.Column("recipient", sa.Text(), nullable=False),
        sa.Column("reference", sa.Text(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.CheckConstraint("status IN ('pending', 'notified')",
                           name=op.f("ck_child_welfare_notification_status")),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"],
                                name=op.f("fk_child_welfare_notification_case_id_case"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["note_id"], ["note.id"],
                                name=op.f("fk_child_welfare_notification_note_id_note"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["notifier_id"], ["user.id"],
                                name=op.f("fk_child_welfare_notification_notifier_id_user"),
                                ondelete="RESTRICT"),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"],
                                name=op.f("fk_child_welfare_notification_task_id_task"),
                                ondelete="SET NULL"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_child_welfare_notification")),
    )
    with op.batch_alter_table("child_welfare_notification", schema=None) as batch_op:
        batch_op.create_index("ix_child_welfare_notification_case_id", ["case_id"],
                              unique=False)
        batch_op.create_index("ix_child_welfare_notification_notifier_id_status",
                              ["notifier_id", "status"], unique=False)

    op.create_index("uq_draft_author_id_case_id_new", "draft", ["author_id", "case_id"],
                    unique=True, sqlite_where=sa.text("supersedes_id IS NULL"),
                    postgresql_where=sa.text("supersedes_id IS NULL"))

    op.drop_index("ix_note_supersedes_id", table_name="note")
    op.create_index("ix_note_supersedes_id", "note", ["supersedes_id"], unique=True)


def downgrade() -> None:
    op.drop_index("ix_note_supersedes_id", table_name="note")
    op.create_index("ix_note_supersedes_id", "note", ["supersedes_id"], unique=False)
    op.drop_index("uq_draft_author_id_case_id_new", table_name="draft")
    with op.batch_alter_table("child_welfare_notification", schema=None) as batch_op:
        batch_op.drop_index("ix_child_welfare_notification_notifier_id_status")
        batch_op.drop_index("ix_child_welfare_notification_case_id")
    op.drop_table("child_welfare_notification")
