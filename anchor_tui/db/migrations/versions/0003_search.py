"""Full-text search over notes: FTS5 on SQLite, a tsvector GIN index on PostgreSQL.

SQLite: ``note_fts`` is an external-content FTS5 table over ``note(body)`` (rowid =
note id), filled from the notes present and kept in step by triggers on ``note``.
Notes are append-only (the first migration's triggers refuse changes to ``body`` and
any delete), so only the insert trigger does work in practice; the update and delete
triggers are there so that the index cannot drift if that ever changes.
PostgreSQL: an expression GIN index on ``to_tsvector('simple', body)``, which the
search queries use with the same expression. Building either over a large note table
takes a while (see the README's benchmark section).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-22 09:00:00
"""

from __future__ import annotations

from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

_SQLITE_UP = (
    "CREATE VIRTUAL TABLE note_fts USING fts5(body, content='note', content_rowid='id', "
    "tokenize='unicode61 remove_diacritics 2')",
    "INSERT INTO note_fts(note_fts) VALUES ('rebuild')",
    "CREATE TRIGGER note_fts_insert AFTER INSERT ON note BEGIN "
    "INSERT INTO note_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER note_fts_update AFTER UPDATE OF body ON note BEGIN "
    "INSERT INTO note_fts(note_fts, rowid, body) VALUES ('delete', old.id, old.body); "
    "INSERT INTO note_fts(rowid, body) VALUES (new.id, new.body); END",
    "CREATE TRIGGER note_fts_delete AFTER DELETE ON note BEGIN "
    "INSERT INTO note_fts(note_fts, rowid, body) VALUES ('delete', old.id, old.body); END",
)
_SQLITE_DOWN = (
    "DROP TRIGGER IF EXISTS note_fts_delete",
    "DROP TRIGGER IF EXISTS note_fts_update",
    "DROP TRIGGER IF EXISTS note_fts_insert",
    "DROP TABLE IF EXISTS note_fts",
)


def upgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for statement in _SQLITE_UP:
            op.execute(statement)
    else:
        op.execute("CREATE INDEX ix_note_body_fts ON note USING gin "
                   "(to_tsvector('simple'::regconfig, body))")


def downgrade() -> None:
    if op.get_context().dialect.name == "sqlite":
        for statement in _SQLITE_DOWN:
            op.execute(statement)
    else:
        op.execute("DROP INDEX IF EXISTS ix_note_body_fts")
