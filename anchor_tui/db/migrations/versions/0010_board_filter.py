"""Indexes for the board's filter and the triage queue, so that a keystroke reads what it
finds and the queue what it shows, not every case.

- ``case.lead_user_id``: cases a matched team member leads.
- ``case_member``: both lookups covered, so neither reads the membership rows:
  ``(user_id, case_id, valid_from, valid_to)`` finds the cases a matched member works
  now, and ``(case_id, user_id, valid_from, valid_to)`` answers "does this member work
  this case" for the board's page reads.
- The young person's names, matched from their start whatever the case of letters:
  SQLite ``COLLATE NOCASE`` indexes, which ``LIKE 'aino%'`` uses; PostgreSQL
  ``lower(name) text_pattern_ops``, which ``lower(name) LIKE 'aino%'`` uses.
- SQLite gets the board-order index PostgreSQL has had since 0009, with the columns the
  filter tests after it, so a page of a column reads index entries in the board's order
  and a filtered count scans the index, not the table.
- The queue: a person's open tasks in its order (no due date last), and consents by the
  day they end.
- ``stage_count``: the number of cases in each stage, kept by triggers on ``case``
  (``db/stage_counts.py``), so the unfiltered board reads seven rows instead of
  counting every case.
- Search: a case's summary word by word, as notes are (SQLite: ``case_fts``, FTS5 kept
  in step by triggers; PostgreSQL: a GIN index on ``to_tsvector('simple', summary)``),
  so a search no longer reads every case's summary.

The expression indexes are not models (see ``search_tables.include_name``).

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 13:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from anchor_tui.db.search_tables import (
    BOARD_ORDER_INDEX,
    CASE_FTS,
    CASE_SUMMARY_INDEX,
    OPEN_TASKS_INDEX,
    PERSON_NAME_INDEXES,
)

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


_SQLITE_CASE_FTS = (  # (case_fts is search_tables.CASE_FTS)
    "CREATE VIRTUAL TABLE case_fts USING fts5(summary, content='case', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO case_fts(case_fts) VALUES ('rebuild')",
    'CREATE TRIGGER case_fts_insert AFTER INSERT ON "case" BEGIN '
    "INSERT INTO case_fts(rowid, summary) VALUES (new.id, new.summary); END",
    'CREATE TRIGGER case_fts_update AFTER UPDATE OF summary ON "case" BEGIN '
    "INSERT INTO case_fts(case_fts, rowid, summary) VALUES ('delete', old.id, old.summary); "
    "INSERT INTO case_fts(rowid, summary) VALUES (new.id, new.summary); END",
    'CREATE TRIGGER case_fts_delete AFTER DELETE ON "case" BEGIN '
    "INSERT INTO case_fts(case_fts, rowid, summary) VALUES ('delete', old.id, old.summary); END",
)


def upgrade() -> None:
    from anchor_tui.db import stage_counts

    op.create_table(
        "stage_count",
        sa.Column("stage", sa.String(length=64), nullable=False),
        sa.Column("cases", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("stage", name=op.f("pk_stage_count")),
    )
    stage_counts.install(op.get_bind())
    op.create_index("ix_case_lead_user_id", "case", ["lead_user_id"])
    op.drop_index("ix_case_member_user_id_case_id", table_name="case_member")
    op.drop_index("ix_case_member_case_id", table_name="case_member")
    op.create_index("ix_case_member_user_id_case_id", "case_member",
                    ["user_id", "case_id", "valid_from", "valid_to"])
    op.create_index("ix_case_member_case_id", "case_member",
                    ["case_id", "user_id", "valid_from", "valid_to"])
    op.create_index("ix_consent_valid_to", "consent", ["valid_to"])
    op.execute(f"CREATE INDEX {OPEN_TASKS_INDEX} ON task "
               "(assignee_id, (due IS NULL), due, id) WHERE done_at IS NULL")
    first, last = PERSON_NAME_INDEXES
    if op.get_bind().dialect.name == "postgresql":
        op.execute(f"CREATE INDEX {first} ON person (lower(first_name) text_pattern_ops)")
        op.execute(f"CREATE INDEX {last} ON person (lower(last_name) text_pattern_ops)")
        op.execute(f'CREATE INDEX {CASE_SUMMARY_INDEX} ON "case" USING gin '
                   "(to_tsvector('simple'::regconfig, summary))")
    else:
        for statement in _SQLITE_CASE_FTS:
            op.execute(statement)
        op.execute(f"CREATE INDEX {first} ON person (first_name COLLATE NOCASE)")
        op.execute(f"CREATE INDEX {last} ON person (last_name COLLATE NOCASE)")
        op.execute(f'CREATE INDEX {BOARD_ORDER_INDEX} ON "case" (stage, priority, '
                   "next_review IS NULL, next_review, id, person_id, lead_user_id, category)")


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        op.execute(f"DROP INDEX IF EXISTS {BOARD_ORDER_INDEX}")
        for trigger in ("case_fts_delete", "case_fts_update", "case_fts_insert"):
            op.execute(f"DROP TRIGGER IF EXISTS {trigger}")
        op.execute(f"DROP TABLE IF EXISTS {CASE_FTS}")
    else:
        op.execute(f"DROP INDEX IF EXISTS {CASE_SUMMARY_INDEX}")
    for name in (*PERSON_NAME_INDEXES, OPEN_TASKS_INDEX):
        op.execute(f"DROP INDEX IF EXISTS {name}")
    op.drop_index("ix_consent_valid_to", table_name="consent")
    op.drop_index("ix_case_member_case_id", table_name="case_member")
    op.drop_index("ix_case_member_user_id_case_id", table_name="case_member")
    op.create_index("ix_case_member_case_id", "case_member", ["case_id"])
    op.create_index("ix_case_member_user_id_case_id", "case_member", ["user_id", "case_id"])
    op.drop_index("ix_case_lead_user_id", table_name="case")
    from anchor_tui.db import stage_counts

    stage_counts.uninstall(op.get_bind())
    op.drop_table("stage_count")
