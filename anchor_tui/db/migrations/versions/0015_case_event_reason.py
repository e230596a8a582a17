"""The reason given for a change to a case is a protected row: ``case_event_reason``.

A screening decision ("take / not take, with a reason") and a stage move carry a reason
in the writer's own words. It was a column of the case's history, which every
profession that sees the case sees, on the shared huddle screen too: a nurse's "known
to psychiatry" reached the police. The reason is now a row of its own with a note's
facts (case, writer, the writer's profession, a note category) and is disclosed like a
note of the writer's profession, by the central filter and by PostgreSQL's row-level
security, both compiled from the same expression (``Policy.attendee_sql``; installed
again here). The change itself (stage, screened: take) stays a board field.

Existing reasons move over, each as a note of its writer's profession in the category
the note editor starts that profession with (the team's ``anchor.yaml`` and policy, as
given to ``schema.upgrade``; else the shipped ones), as the app now writes them; then
the old column goes (a plain DROP COLUMN on both databases, no table copy: SQLite 3.35
or newer).

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-04 10:30:00
"""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

TABLE = "case_event_reason"
INDEXES = (("ix_case_event_reason_event_id", ["event_id"], True),
           ("ix_case_event_reason_case_id", ["case_id"], False))


def _policy() -> Any:
    from anchor_tui.policy import load_policy
    from anchor_tui.settings import PACKAGE_CONFIG_DIR

    config = op.get_context().config
    given = config.attributes.get("policy") if config is not None else None
    return given if given is not None else load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml")


def _category_of_profession(policy: Any, profession: sa.ColumnElement[str]
                            ) -> sa.ColumnElement[str]:
    """``CASE "user".profession WHEN ... END``: each profession's note category."""
    from anchor_tui.services.note_form import default_category
    from anchor_tui.settings import load_team_config

    # The team's settings, as the app files a reason from now on (``reason_category``):
    # the shipped ones would file a team's reasons under categories it does not use
    # for that profession (a social worker's child-welfare words as general ones).
    config = op.get_context().config
    given = config.attributes.get("team") if config is not None else None
    team = given if given is not None else load_team_config(None)
    whens = [(profession == p, sa.literal(default_category(team, policy, p)))
             for p in sorted(policy.professions)]
    fallback = sa.literal(default_category(team, policy, ""))
    return sa.case(*whens, else_=fallback) if whens else fallback


def upgrade() -> None:
    op.create_table(
        TABLE,
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("event_id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.Integer(), nullable=False),
        sa.Column("author_id", sa.Integer(), nullable=False),
        sa.Column("author_profession", sa.String(length=64), nullable=False),
        sa.Column("category", sa.String(length=64), nullable=False),
        sa.Column("text", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(["event_id"], ["case_event.id"],
                                name=op.f("fk_case_event_reason_event_id_case_event"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["case_id"], ["case.id"],
                                name=op.f("fk_case_event_reason_case_id_case"),
                                ondelete="CASCADE"),
        sa.ForeignKeyConstraint(["author_id"], ["user.id"],
                                name=op.f("fk_case_event_reason_author_id_user"),
                                ondelete="RESTRICT"),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_case_event_reason")),
    )
    for name, columns, unique in INDEXES:
        op.create_index(name, TABLE, columns, unique=unique)
    connection = op.get_bind()
    event = sa.table("case_event", sa.column("id"), sa.column("case_id"),
                     sa.column("actor_id"), sa.column("reason"))
    user = sa.table("user", sa.column("id"), sa.column("profession"))
    reason = sa.table(TABLE, sa.column("event_id"), sa.column("case_id"),
                      sa.column("author_id"), sa.column("author_profession"),
                      sa.column("category"), sa.column("text"))
    # A reason without a writer (none is written so) cannot be judged: it is not kept.
    moved = (sa.select(event.c.id, event.c.case_id, event.c.actor_id, user.c.profession,
                       _category_of_profession(_policy(), user.c.profession), event.c.reason)
             .select_from(event.join(user, user.c.id == event.c.actor_id))
             .where(event.c.reason.is_not(None), event.c.reason != ""))
    connection.execute(reason.insert().from_select(
        ["event_id", "case_id", "author_id", "author_profession", "category", "text"], moved))
    op.execute("ALTER TABLE case_event DROP COLUMN reason")
    if connection.dialect.name == "postgresql":
        from anchor_tui.db import rls

        rls.install(connection, _policy())


def downgrade() -> None:
    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        from anchor_tui.db import rls

        # The other tables' security is the older version's own: only this table's goes.
        rls.remove_table(connection, TABLE)
    op.add_column("case_event", sa.Column("reason", sa.Text(), nullable=True))
    op.execute(
        "UPDATE case_event SET reason = (SELECT r.text FROM case_event_reason r "
        "WHERE r.event_id = case_event.id)")
    for name, _columns, _unique in INDEXES:
        op.drop_index(name, table_name=TABLE)
    op.drop_table(TABLE)
