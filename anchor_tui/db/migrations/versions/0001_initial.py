"""Initial schema: the whole data model, plus the append-only guard on notes.

Revision ID: 0001
Revises: (none)
Create Date: 2026-11-22 07:39:13.182126
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "person",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("first_name", sa.String(length=200), nullable=False),
        sa.Column("last_name", sa.String(length=200), nullable=False),
        sa.Column("birth_date", sa.Date(), nullable=True),
        sa.Column("municipality", sa.String(length=200), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_person")),
    )
    op.create_table(
        "user",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("username", sa.String(length=64), nullable=False),
        sa.Column("display_name", sa.String(length=200), nullable=False),
        sa.Column("profession", sa.String(length=64), nullable=False),
        sa.Column("role", sa.String(length=16), nullable=False),
        sa.Column("passphrase_hash", sa.String(length=255), nullable=False),
        sa.Column("active", sa.Boolean(), nullable=False),
        sa.Column("failed_sign_ins", sa.Integer(), nullable=False),
        sa.Column("locked_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "role IN ('member', 'lead', 'auditor', 'admin')", name=op.f("ck_user_role")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_user")),
        sa.UniqueConstraint("username", name=op.f("uq_user_username")),
    )
    op.create_table(
        "case",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("priority", sa.SmallInteger(), nullable=False),
        sa.Column("opened_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("closed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("closed_reason", sa.String(length=64), nullable=True),
        sa.Column("next_review", sa.Date(), nullable=True),
        sa.Column("lead_user_id", sa.Integer(), nullable=True),
        sa.Column("summary", sa.Text(), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("priority BETWEEN 1 AND 3", name=op.f("ck_case_priority")),
        sa.ForeignKeyConstraint(
            ["lead_user_id"],
            ["user.id"],
            name=op.f("fk_case_lead_user_id_user"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["person_id"], ["person.id"], name=op.f("fk_case_person_id_person"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case")),
    )
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.create_index("ix_case_next_review", ["next_review"], unique=False)
        batch_op.create_index("ix_case_person_id", ["person_id"], unique=False)
        batch_op.create_index(
            "ix_case_stage_priority_id", ["stage", "priority", "id"], unique=False
        )

    op.create_table(
        "consent",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("person_id", sa.Integer(), nullable=False),
        sa.Column("grantor", sa.String(length=32), nullable=False),
        sa.Column("decision", sa.String(length=8), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("receiving_profession", sa.String(length=64), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.Column("withdrawn_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("recorded_by_id", sa.Integer(), nullable=False),
        sa.Column("recorded_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("evidence", sa.Text(), nullable=False),
        sa.CheckConstraint("decision IN ('permit', 'deny')", name=op.f("ck_consent_decision")),
        sa.CheckConstraint(
            "grantor IN ('self', 'guardian', 'legal_representative')",
            name=op.f("ck_consent_grantor"),
        ),
        sa.CheckConstraint(
            "valid_to IS NULL OR valid_to >= valid_from", name=op.f("ck_consent_period")
        ),
        sa.ForeignKeyConstraint(
            ["person_id"],
            ["person.id"],
            name=op.f("fk_consent_person_id_person"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["recorded_by_id"],
            ["user.id"],
            name=op.f("fk_consent_recorded_by_id_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_consent")),
    )
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.create_index(
            "ix_consent_lookup", ["person_id", "category", "receiving_profession"], unique=False
        )

    op.create_table(
        "huddle",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("started_by_id", sa.Integer(), nullable=False),
        sa.Column("started_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ended_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("minutes", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["started_by_id"],
            ["user.id"],
            name=op.f("fk_huddle_started_by_id_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_huddle")),
    )
    op.create_table(
        "audit_event",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("actor_id", sa.Integer(), nullable=True),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("purpose", sa.String(length=16), nullable=True),
        sa.Column("huddle_id", sa.Integer(), nullable=True),
        sa.Column("person_id", sa.Integer(), nullable=True),
        sa.Column("object_type", sa.String(length=32), nullable=True),
        sa.Column("object_id", sa.Integer(), nullable=True),
        sa.Column("policy_hash", sa.String(length=64), nullable=True),
        sa.Column("rule_ids", sa.Text(), nullable=True),
        sa.Column("prev_hash", sa.String(length=64), nullable=True),
        sa.Column("hash", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["actor_id"],
            ["user.id"],
            name=op.f("fk_audit_event_actor_id_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["huddle_id"],
            ["huddle.id"],
            name=op.f("fk_audit_event_huddle_id_huddle"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_event")),
    )
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.create_index("ix_audit_event_actor_id_at", ["actor_id", "at"], unique=False)
        batch_op.create_index("ix_audit_event_object", ["object_type", "object_id"], unique=False)

    op.create_table(
        "case_member",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("valid_from", sa.Date(), nullable=False),
        sa.Column("valid_to", sa.Date(), nullable=True),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_case_member_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["user_id"], ["user.id"], name=op.f("fk_case_member_user_id_user"), ondelete="RESTRICT"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_member")),
    )
    with op.batch_alter_table("case_member", schema=None) as batch_op:
        batch_op.create_index("ix_case_member_case_id", ["case_id"], unique=False)
        batch_op.create_index(
            "ix_case_member_user_id_case_id", ["user_id", "case_id"], unique=False
        )

    op.create_table(
        "huddle_attendee",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("huddle_id", sa.Integer(), nullable=False),
        sa.Column("user_id", sa.Integer(), nullable=False),
        sa.Column("joined_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("left_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["huddle_id"],
            ["huddle.id"],
            name=op.f("fk_huddle_attendee_huddle_id_huddle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["user.id"],
            name=op.f("fk_huddle_attendee_user_id_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_huddle_attendee")),
    )
    with op.batch_alter_table("huddle_attendee", schema=None) as batch_op:
        batch_op.create_index("ix_huddle_attendee_huddle_id", ["huddle_id"], unique=False)

    op.create_table(
        "note",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_profession", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("revision", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("entered_in_error", sa.Boolean(), nullable=False),
        sa.Column("error_reason", sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_note_author_id_user"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_note_case_id_case"), ondelete="RESTRICT"
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["note.id"],
            name=op.f("fk_note_supersedes_id_note"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_note")),
    )
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.create_index("ix_note_case_id_created_at", ["case_id", "created_at"], unique=False)
        batch_op.create_index("ix_note_supersedes_id", ["supersedes_id"], unique=False)

    op.create_table(
        "task",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("title", sa.String(length=500), nullable=False),
        sa.Column("assignee_id", sa.Integer(), nullable=True),
        sa.Column("due", sa.Date(), nullable=True),
        sa.Column("done_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("version", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(
            ["assignee_id"], ["user.id"], name=op.f("fk_task_assignee_id_user"), ondelete="SET NULL"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_task_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_task_created_by_id_user"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task")),
    )
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.create_index("ix_task_assignee_id_due", ["assignee_id", "due"], unique=False)
        batch_op.create_index("ix_task_case_id", ["case_id"], unique=False)

    op.create_table(
        "draft",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("supersedes_id", sa.Integer(), nullable=True),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("template", sa.String(length=64), nullable=True),
        sa.Column("body", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["author_id"], ["user.id"], name=op.f("fk_draft_author_id_user"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_draft_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["supersedes_id"],
            ["note.id"],
            name=op.f("fk_draft_supersedes_id_note"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_draft")),
        sa.UniqueConstraint(
            "author_id",
            "case_id",
            "supersedes_id",
            name=op.f("uq_draft_author_id_case_id_supersedes_id"),
        ),
    )
    op.create_table(
        "huddle_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("huddle_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=True),
        sa.Column("created_by_id", sa.Integer(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("kind IN ('decision', 'action')", name=op.f("ck_huddle_item_kind")),
        sa.ForeignKeyConstraint(
            ["case_id"], ["case.id"], name=op.f("fk_huddle_item_case_id_case"), ondelete="CASCADE"
        ),
        sa.ForeignKeyConstraint(
            ["created_by_id"],
            ["user.id"],
            name=op.f("fk_huddle_item_created_by_id_user"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["huddle_id"],
            ["huddle.id"],
            name=op.f("fk_huddle_item_huddle_id_huddle"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["task_id"], ["task.id"], name=op.f("fk_huddle_item_task_id_task"), ondelete="SET NULL"
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_huddle_item")),
    )
    with op.batch_alter_table("huddle_item", schema=None) as batch_op:
        batch_op.create_index("ix_huddle_item_huddle_id", ["huddle_id"], unique=False)

    _create_note_guards()


def downgrade() -> None:
    _drop_note_guards()
    with op.batch_alter_table("huddle_item", schema=None) as batch_op:
        batch_op.drop_index("ix_huddle_item_huddle_id")

    op.drop_table("huddle_item")
    op.drop_table("draft")
    with op.batch_alter_table("task", schema=None) as batch_op:
        batch_op.drop_index("ix_task_case_id")
        batch_op.drop_index("ix_task_assignee_id_due")

    op.drop_table("task")
    with op.batch_alter_table("note", schema=None) as batch_op:
        batch_op.drop_index("ix_note_supersedes_id")
        batch_op.drop_index("ix_note_case_id_created_at")

    op.drop_table("note")
    with op.batch_alter_table("huddle_attendee", schema=None) as batch_op:
        batch_op.drop_index("ix_huddle_attendee_huddle_id")

    op.drop_table("huddle_attendee")
    with op.batch_alter_table("case_member", schema=None) as batch_op:
        batch_op.drop_index("ix_case_member_user_id_case_id")
        batch_op.drop_index("ix_case_member_case_id")

    op.drop_table("case_member")
    with op.batch_alter_table("audit_event", schema=None) as batch_op:
        batch_op.drop_index("ix_audit_event_object")
        batch_op.drop_index("ix_audit_event_actor_id_at")

    op.drop_table("audit_event")
    op.drop_table("huddle")
    with op.batch_alter_table("consent", schema=None) as batch_op:
        batch_op.drop_index("ix_consent_lookup")

    op.drop_table("consent")
    with op.batch_alter_table("case", schema=None) as batch_op:
        batch_op.drop_index("ix_case_stage_priority_id")
        batch_op.drop_index("ix_case_person_id")
        batch_op.drop_index("ix_case_next_review")

    op.drop_table("case")
    op.drop_table("user")
    op.drop_table("person")


# Notes are append-only: a correction is a new revision, a mistake is flagged
# "entered in error". The database itself refuses any other change, so no code path
# (or hand-written SQL) can lose a note.
_NOTE_FROZEN = (
    "case_id",
    "author_id",
    "author_profession",
    "category",
    "template",
    "body",
    "created_at",
    "revision",
    "supersedes_id",
)


def _create_note_guards() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        changed = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _NOTE_FROZEN)
        op.execute(
            "CREATE TRIGGER note_append_only_update BEFORE UPDATE ON note "
            f"WHEN {changed} "
            "BEGIN SELECT RAISE(ABORT, 'notes are append-only'); END"
        )
        op.execute(
            "CREATE TRIGGER note_append_only_delete BEFORE DELETE ON note "
            "BEGIN SELECT RAISE(ABORT, 'notes are append-only'); END"
        )
    else:
        changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in _NOTE_FROZEN)
        op.execute(
            "CREATE FUNCTION note_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
            "BEGIN "
            "IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'notes are append-only'; END IF; "
            f"IF {changed} THEN RAISE EXCEPTION 'notes are append-only'; END IF; "
            "RETURN NEW; END $$"
        )
        op.execute(
            "CREATE TRIGGER note_append_only BEFORE UPDATE OR DELETE ON note "
            "FOR EACH ROW EXECUTE FUNCTION note_append_only()"
        )


def _drop_note_guards() -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS note_append_only_update")
        op.execute("DROP TRIGGER IF EXISTS note_append_only_delete")
    else:
        op.execute("DROP TRIGGER IF EXISTS note_append_only ON note")
        op.execute("DROP FUNCTION IF EXISTS note_append_only()")
