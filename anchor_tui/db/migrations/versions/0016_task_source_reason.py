"""A task typed in a huddle tells of the reasons the room read: ``task_source_reason``.

A reason given for a change to a case is disclosed like a note of its writer's
profession (0015), and the case view on the huddle's shared screen shows it to the room
where everyone present may read it. A task typed there (an action, or ``t``) may repeat
it, as it may repeat a note; its sources named the notes and fields the room saw, not
the reasons, so the task reached members who may not read the reason (a nurse's "known
to psychiatry" in the police's queue). A task now names each reason the room read as
well, and is disclosed only to whoever may read every one of them (``Policy.attendee_sql``;
the PostgreSQL row-level security is compiled from the same expression and installed
again here).

Existing tasks typed in a huddle (those with sources), as cautiously as the database
allows, since what the room read then was not recorded: every reason of the case given
at or before the task was typed, which only narrows.

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-04 14:00:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None

TABLE = "task_source_reason"
INDEX = "ix_task_source_reason_task_id"

_BACKFILL = (
    "INSERT INTO task_source_reason (task_id, reason_id) "
    "SELECT DISTINCT task.id, reason.id FROM task "
    "JOIN case_event_reason reason ON reason.case_id = task.case_id "
    "JOIN case_event event ON event.id = reason.event_id "
    "WHERE event.at <= task.created_at "
    "AND EXISTS (SELECT 1 FROM task_source source WHERE source.task_id = task.id)")


def _policy() -> Any:
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
        sa.Column("reason_id", sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(["task_id"], ["task.id"],
                                name=op.f("fk_task_source_reason_task_id_task"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["reason_id"], ["case_event_reason.id"],
                                name=op.f("fk_task_source_reason_reason_id_case_event_reason"),
                                ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_task_source_reason")),
    )
    op.create_index(INDEX, TABLE, ["task_id"])
    op.execute(_BACKFILL)
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        from anchor_tui.db import rls

        rls.install(connection, _policy())


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        from anchor_tui.db import rls

        # The task's security reads the table, and this version compiles it so: it goes
        # with the table (as 0013's does). The older version's terminals then say the
        # database has no row-level security and that `anchor-tui db init` installs it.
        rls.uninstall(connection)
    op.drop_index(INDEX, table_name=TABLE)
    op.drop_table(TABLE)
