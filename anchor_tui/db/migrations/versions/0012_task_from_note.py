"""A task made from a note names that note: ``task.from_note_id``.

The statutory child-welfare task ("Make the statutory child-welfare notification and
record it", then "Check child welfare's response") and a template's follow-up
("Follow-up: <template>") tell of the note they were made from: that a concern about
the child was written, or which kind of note. Tasks were disclosed to the case's
members by the task rules alone, so a profession that may not read the note still
learnt of it from its task. A task with a ``from_note_id`` is now disclosed only to
whoever may read that note as well (``Policy.attendee_sql``; the PostgreSQL row-level
security is compiled from the same expression and installed again here).

Existing tasks: the task a child-welfare notification names now is linked to its note
exactly (``child_welfare_notification.task_id``); the other statutory tasks (the one a
recorded notification replaced) by their fixed titles to the newest notification their
creator made on the case; a "Follow-up: " task to the newest note with a template its
creator wrote on the case up to the moment the task was made (the two are saved in one
unit of work).

The column is not a reference constraint: SQLite adds one only by copying the table,
which would drop its change-feed triggers and its partial index (and, with foreign keys
on, is unsafe for the rows that refer to tasks). A note is never deleted but with its
case, whose tasks go with it; a task whose note were gone anyway would be shown to
nobody (the disclosure asks for the note), never to more people. A plain ADD COLUMN on
both databases.

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-03 23:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None

INDEX = "ix_task_from_note_id"

_LINK_NOTIFICATIONS = (
    "UPDATE task SET from_note_id = (SELECT n.note_id FROM child_welfare_notification n "
    "WHERE n.task_id = task.id) WHERE from_note_id IS NULL AND EXISTS (SELECT 1 FROM "
    "child_welfare_notification n WHERE n.task_id = task.id)")
_STATUTORY_TITLES = {"pending": "Make the statutory child-welfare notification and record it",
                     "check": "Check child welfare's response to the notification"}
"""The statutory tasks' titles as of this revision (``services.child_welfare``)."""
_LINK_STATUTORY = (
    "UPDATE task SET from_note_id = (SELECT max(n.note_id) FROM child_welfare_notification "
    "n WHERE n.case_id = task.case_id AND n.notifier_id = task.created_by_id) "
    "WHERE from_note_id IS NULL AND title IN (:pending, :check)")
_LINK_FOLLOW_UPS = (
    "UPDATE task SET from_note_id = (SELECT max(note.id) FROM note WHERE note.case_id = "
    "task.case_id AND note.author_id = task.created_by_id AND note.template IS NOT NULL "
    "AND note.created_at <= task.created_at) WHERE from_note_id IS NULL "
    "AND title LIKE 'Follow-up: %'")


def _policy() -> object:
    from anchor_tui.policy import load_policy
    from anchor_tui.settings import PACKAGE_CONFIG_DIR

    config = op.get_context().config
    given = config.attributes.get("policy") if config is not None else None
    return given if given is not None else load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml")


def upgrade() -> None:
    op.add_column("task", sa.Column("from_note_id", sa.Integer(), nullable=True))
    op.create_index(INDEX, "task", ["from_note_id"])
    op.execute(_LINK_NOTIFICATIONS)
    op.get_bind().execute(sa.text(_LINK_STATUTORY), _STATUTORY_TITLES)
    op.execute(_LINK_FOLLOW_UPS)
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        from anchor_tui.db import rls

        rls.install(connection, _policy())  # type: ignore[arg-type]


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        from anchor_tui.db import rls

        # The task's security reads the column, and this version compiles it so: it goes
        # with the column. The older version's terminals then say the database has no
        # row-level security and that `anchor-tui db init` installs it.
        rls.uninstall(connection)
    op.drop_index(INDEX, table_name="task")
    op.drop_column("task", "from_note_id")
