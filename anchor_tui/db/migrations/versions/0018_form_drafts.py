"""What was typed into a form is kept for its author when the terminal passes on: ``form_draft``.

A note's words were kept as a draft when its viewer context closed without its author (a
takeover at the idle lock, a switch of user), but the forms were dropped with the screen
stack: a task's title, a consent's evidence, a reason for a snooze or a stage change,
lost without a word. A ``form_draft`` row holds one such form, as typed: its author, the
kind of form, what it was about (``target``, and the case, if any) and its fields (JSON).
One per author, kind and target: the form given back is the last one typed.

It holds protected words (consent evidence, reasons), so it is protected as ``draft``
is: its author's alone, never in a huddle, by the central filter and, on PostgreSQL, by
row-level security compiled from the same expression (``Policy.attendee_sql``; installed
again here for the new table). A case removed takes its kept forms (ON DELETE CASCADE),
and so does its author; retention erases them with the case's drafts.

A new table only: no existing row changes. Downgrade drops it (and its row-level
security): the older version has nowhere to give a kept form back.

Revision ID: 0018
Revises: 0017
Create Date: 2026-12-04 21:40:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0018"
down_revision = "0017"
branch_labels = None
depends_on = None

TABLE = "form_draft"


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
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=True),
        sa.Column("kind", sa.String(length=32), nullable=False),
        sa.Column("target", sa.String(length=64), nullable=False),
        sa.Column("fields", sa.Text(), nullable=False),
        sa.Column("saved_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"],
                                name=op.f("fk_form_draft_author_id_user"), ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"],
                                name=op.f("fk_form_draft_case_id_case"), ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_form_draft")),
        sa.UniqueConstraint("author_id", "kind", "target",
                            name=op.f("uq_form_draft_author_id_kind_target")),
    )
    op.create_index("ix_form_draft_case_id", TABLE, ["case_id"], unique=False)
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        from anchor_tui.db import rls

        rls.install(connection, _policy())


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        from anchor_tui.db import rls

        # The other tables' security is the older version's own: only this table's goes.
        rls.remove_table(connection, TABLE)
    op.drop_index("ix_form_draft_case_id", table_name=TABLE)
    op.drop_table(TABLE)
