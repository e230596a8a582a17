"""A task made from a huddle action carries its sources: ``task_source``.

An action typed in a huddle is stored twice: as the huddle's item, shown later only to
an audience that may see all the room saw of the case when it was typed (the young
person's name, the notes), and as a task whose title is the same words. The task was
disclosed by the task rules alone, so every member of the case (the assignee's queue,
the export, the shared screen after someone joined) read words typed over a note they
may not see. A task now names what the room saw (one row per note, and ``person_name``
where the room saw the name), and is disclosed only to whoever may see every source as
well (``Policy.attendee_sql``; the PostgreSQL row-level security is compiled from the
same expression and installed again here).

Existing tasks of huddle actions (``huddle_item.kind = 'action'`` with its task), as
cautiously as the database allows, since what the room saw then was not recorded:
every note of the case written at or before the action (by the note's own moment; a
note dated earlier but saved later counts too, which only narrows), and the name.

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-04 03:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None

TABLE = "task_source"
INDEX = "ix_task_source_task_id"

_BACKFILL_NOTES = (
    "INSERT INTO task_source (task_id, note_id) "
    "SELECT DISTINCT item.task_id, note.id FROM huddle_item item "
    "JOIN task ON task.id = item.task_id JOIN note ON note.case_id = task.case_id "
    "WHERE item.kind = 'action' AND note.created_at <= item.created_at")
_BACKFILL_NAME = (
    "INSERT INTO task_source (task_id, field) "
    "SELECT DISTINCT item.task_id, 'person_name' FROM huddle_item item "
    "JOIN task ON task.id = item.task_id WHERE item.kind = 'action'")


def _policy() -> object:
    from anchor_tui.policy import load_policy
    from anchor_tui.settings import PACKAGE_CONFIG_DIR

    config = op.get_context().config
    given = config.attributes.get("policy") if config is not None else None
    return given if given is not None else load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml")


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("task_id", sa.Integer(), nullable=False),
        sa.Column("note_id", sa.Integer(), nullable=True),
        sa.Column("field", sa.String(length=64), nullable=True),
        sa.CheckConstraint("(note_id IS NULL) <> (field IS NULL)",
                           name=op.f("ck_task_source_note_or_field")),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"],
                                name=op.f("fk_task_source_task_id_task"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["note_id"], ["note.id"],
                                name=op.f("fk_task_source_note_id_note")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_source")),
    )
    op.create_index(INDEX, TABLE, ["task_id"])
    op.execute(_BACKFILL_NOTES)
    op.execute(_BACKFILL_NAME)
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        from anchor_tui.db import rls

        rls.install(connection, _policy())  # type: ignore[arg-type]


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        from anchor_tui.db import rls

        # The task's security reads the table, and this version compiles it so: it goes
        # with the table. The older version's terminals then say the database has no
        # row-level security and that `anchor-tui db init` installs it.
        rls.uninstall(connection)
    op.drop_index(INDEX, table_name=TABLE)
    op.drop_table(TABLE)
