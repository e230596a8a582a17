"""The shared PostgreSQL deployment: row-level security and live-update signals.

PostgreSQL: row-level security on every protected table (``models.PROTECTED``), its
policies compiled from the disclosure policy in force (the one ``db upgrade`` / ``db
init`` loaded, else the shipped default) and its hash recorded; ``anchor-tui db rls``
re-installs them when the policy changes. Triggers send ``NOTIFY anchor_changes`` when
a case, note, task, membership, consent, input request or snooze changes.

SQLite: ``change_count``, one row the same triggers' SQLite twins count up; terminals
poll it. (A later batch-mode rebuild of a watched table drops its SQLite triggers: such
a migration must create them again with ``change_feed.install``.)

Both: ``change_count`` exists on both databases (the models are the same); PostgreSQL
does not use it.

PostgreSQL also gets ``ix_case_board_order``, an index in the board's own order
(stage, priority, no review date last, review date, id): each column's first page and
each next page read 20 index entries instead of sorting the stage's cases (100,000
cases: the board 95 -> 21 ms, a next page 50 -> 9 ms, so that 20 terminals stay within
50 ms). An expression index: SQLite cannot reflect one, so it is not a model (schema
comparisons leave it out, ``search_tables.include_name``).

Revision ID: 0009
Revises: 0007
Create Date: 2026-11-23 09:00:00
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import sqlalchemy as sa
from alembic import op

from anchor_tui.db.search_tables import BOARD_ORDER_INDEX

if TYPE_CHECKING:
    from anchor_tui.policy import Policy

revision = "0009"
down_revision = "0007"
branch_labels = None
depends_on = None


def _policy() -> Policy:
    from anchor_tui.policy import load_policy
    from anchor_tui.settings import PACKAGE_CONFIG_DIR

    config = op.get_context().config
    given: Policy | None = config.attributes.get("policy") if config is not None else None
    return given if given is not None else load_policy(PACKAGE_CONFIG_DIR / "disclosure.yaml")


def upgrade() -> None:
    from anchor_tui.db import change_feed, rls

    op.create_table(
        "change_count",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("changes", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_count")),
    )
    connection = op.get_bind()
    change_feed.install(connection)
    if connection.dialect.name == "postgresql":
        rls.install(connection, _policy())
        op.execute(f'CREATE INDEX {BOARD_ORDER_INDEX} ON "case" '
                   "(stage, priority, (next_review IS NULL), next_review, id)")


def downgrade() -> None:
    from anchor_tui.db import change_feed, rls

    connection = op.get_bind()
    if connection.dialect.name == "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {BOARD_ORDER_INDEX}")
        rls.uninstall(connection)
    change_feed.uninstall(connection)
    op.drop_table("change_count")
