"""A note written in a huddle keeps its own draft, apart from its author's: ``draft.huddle_key``.

The huddle's chair writes the room's notes. Until now the editor autosaved a huddle's
note into the chair's one draft of the case, and when the chair already had a draft
there (their own unfinished work) it did not autosave at all, so as not to write over
it: a crash in the meeting lost the note typed in front of the room. A draft with a
``huddle_key`` is the draft of one huddle editor (a random key the editor makes when it
opens); the author's own draft of a new note on a case stays the one with no key. The
partial unique index that keeps one draft of a new note per author and case now counts
only those; a key names one draft.

No existing row changes: a huddle's note was kept in the author's own draft, where it
stays. Plain ADD COLUMN and CREATE/DROP INDEX on both databases (no table copy).

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-04 05:50:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None

OWN = "uq_draft_author_id_case_id_new"
KEY = "uq_draft_huddle_key"


def _partial(name: str, columns: list[str], where: str) -> None:
    op.create_index(name, "draft", columns, unique=True, sqlite_where=sa.text(where),
                    postgresql_where=sa.text(where))


def upgrade() -> None:
    op.add_column("draft", sa.Column("huddle_key", sa.String(length=32), nullable=True))
    op.drop_index(OWN, table_name="draft")
    _partial(OWN, ["author_id", "case_id"], "supersedes_id IS NULL AND huddle_key IS NULL")
    _partial(KEY, ["huddle_key"], "huddle_key IS NOT NULL")


def downgrade() -> None:
    # A huddle's draft becomes its author's own where they have none; the others go
    # into their author's own draft, after it, as the editor did before this revision.
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, author_id, case_id, body FROM draft WHERE huddle_key IS NOT NULL "
        "ORDER BY updated_at, id")).all()
    for row in rows:
        own = connection.execute(sa.text(
            "SELECT id, body FROM draft WHERE author_id = :a AND case_id = :c "
            "AND supersedes_id IS NULL AND huddle_key IS NULL"),
            {"a": row.author_id, "c": row.case_id}).first()
        if own is None:
            connection.execute(sa.text("UPDATE draft SET huddle_key = NULL WHERE id = :i"),
                               {"i": row.id})
            continue
        connection.execute(sa.text("UPDATE draft SET body = :b WHERE id = :i"),
                           {"b": f"{own.body.rstrip()}\n\n{row.body}", "i": own.id})
        connection.execute(sa.text("DELETE FROM draft WHERE id = :i"), {"i": row.id})
    op.drop_index(KEY, table_name="draft")
    op.drop_index(OWN, table_name="draft")
    _partial(OWN, ["author_id", "case_id"], "supersedes_id IS NULL")
    op.drop_column("draft", "huddle_key")
