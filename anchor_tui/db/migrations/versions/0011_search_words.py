"""PostgreSQL search reads stored words: a note's body and a case's summary as stored
``tsvector`` columns with GIN indexes, in place of the expression indexes of 0003 and 0010.

With an expression index, every row the index returns is checked again with
``to_tsvector(body)``: a common word (tens of thousands of notes in the seeded
database) meant parsing tens of thousands of bodies per search, and a plan that walks
the notes newest first parsed every body it passed. A stored column is parsed once,
when the note is written (``GENERATED ALWAYS ... STORED``: the database keeps it, no
trigger and no application code writes it; retention's erasure empties it with the
body).

The words are kept without their positions (``strip``): search matches words and
their starts, never phrases, and a note's words take a third less room that way (on
the seeded 1,000,000 notes about 190 bytes a note instead of 290).

The columns are not models (``search_tables.include_name`` leaves them out of schema
comparisons; ``select(Note)`` never loads them). Notes stay append-only: adding a
generated column rewrites the table without firing the row triggers.

SQLite: nothing (its FTS5 tables of 0003 and 0010 already hold the words).

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-03 02:30:00
"""

from __future__ import annotations

from alembic import op

from anchor_tui.db.search_tables import (
    CASE_SUMMARY_INDEX,
    CASE_WORDS,
    CASE_WORDS_INDEX,
    NOTE_BODY_INDEX,
    NOTE_WORDS,
    NOTE_WORDS_INDEX,
    TS_CONFIG,
)

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

_CONFIG = f"'{TS_CONFIG}'::regconfig"


def upgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f"ALTER TABLE note ADD COLUMN {NOTE_WORDS} tsvector "
               f"GENERATED ALWAYS AS (strip(to_tsvector({_CONFIG}, body))) STORED")
    op.execute(f"CREATE INDEX {NOTE_WORDS_INDEX} ON note USING gin ({NOTE_WORDS})")
    op.execute(f"DROP INDEX IF EXISTS {NOTE_BODY_INDEX}")
    op.execute(f'ALTER TABLE "case" ADD COLUMN {CASE_WORDS} tsvector '
               f"GENERATED ALWAYS AS (strip(to_tsvector({_CONFIG}, summary))) STORED")
    op.execute(f'CREATE INDEX {CASE_WORDS_INDEX} ON "case" USING gin ({CASE_WORDS})')
    op.execute(f"DROP INDEX IF EXISTS {CASE_SUMMARY_INDEX}")
    # The planner's statistics for the new columns (a prefix match is estimated from
    # them); autovacuum would gather them too, later.
    op.execute(f'ANALYZE note ({NOTE_WORDS}), "case" ({CASE_WORDS})')


def downgrade() -> None:
    if op.get_bind().dialect.name != "postgresql":
        return
    op.execute(f'CREATE INDEX {CASE_SUMMARY_INDEX} ON "case" USING gin '
               f"(to_tsvector({_CONFIG}, summary))")
    op.execute(f"DROP INDEX IF EXISTS {CASE_WORDS_INDEX}")
    op.execute(f'ALTER TABLE "case" DROP COLUMN {CASE_WORDS}')
    op.execute(f"CREATE INDEX {NOTE_BODY_INDEX} ON note USING gin "
               f"(to_tsvector({_CONFIG}, body))")
    op.execute(f"DROP INDEX IF EXISTS {NOTE_WORDS_INDEX}")
    op.execute(f"ALTER TABLE note DROP COLUMN {NOTE_WORDS}")
