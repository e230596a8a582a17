"""A task made from a note names that note: ``task.from_note_id``.

The statutory child-welfare task ("Make the statutory child-welfare notification and
record it", then "Check child welfare's response") and a template's follow-up
("Follow-up: <template>") tell of the note they were made from: that a concern about
the child was written, or which kind of note. Tasks were disclosed to the case's
members by the task rules alone, so a profession that may not read the note still
learnt of it from its task. A task with a ``from_note_id`` is now disclosed only to
whoever may read that note as well (``Policy.attendee_sql``; the PostgreSQL row-level
security is compiled from the same expression and installed again here).

Existing tasks, linked as saving links them now, from what the database recorded when
they were made: the task a child-welfare notification names now, to its note
(``child_welfare_notification.task_id``); a statutory task a recorded notification
replaced, to the notification its creator made on the case at or right after the task
(the two are saved in one unit of work, task first); a "Follow-up: " task, to the last
note with a template its creator wrote on the case, by the audit trail's real-clock
record of the write, up to the task (a note's own time is the editor's moment, which a
save kept overnight dates the day before). A task found no note stays as it was.

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
_PENDING_TITLE = "Make the statutory child-welfare notification and record it"
"""The statutory task's title as of this revision (``services.child_welfare``)."""
_LINK_REPLACED_PENDING = (
    # Saving a concern inserts its task, then its notification (one unit of work): the
    # task's notification is its creator's first on the case made at or after it.
    "UPDATE task SET from_note_id = (SELECT n.note_id FROM child_welfare_notification n "
    "WHERE n.case_id = task.case_id AND n.notifier_id = task.created_by_id "
    "AND n.created_at >= task.created_at ORDER BY n.created_at, n.id LIMIT 1) "
    "WHERE from_note_id IS NULL AND title = :pending")
_LINK_FOLLOW_UPS = (
    # Saving a note audits it ('note.write', on the real clock), then inserts its
    # template's follow-up: the task's note is its creator's last note on the case
    # written (audited) up to the task. Not by the note's own created_at: that is the
    # editor's moment, which for a save kept overnight is the day before.
    "UPDATE task SET from_note_id = (SELECT a.object_id FROM audit_event a "
    "JOIN note ON note.id = a.object_id WHERE a.action = 'note.write' "
    "AND a.object_type = 'note' AND a.actor_id = task.created_by_id "
    "AND note.author_id = task.created_by_id AND note.case_id = task.case_id "
    "AND note.template IS NOT NULL AND a.at <= task.created_at "
    "ORDER BY a.at DESC, a.id DESC LIMIT 1) "
    "WHERE from_note_id IS NULL AND title LIKE 'Follow-up: %'")


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
    op.get_bind().execute(sa.text(_LINK_REPLACED_PENDING), {"pending": _PENDING_TITLE})
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
