"""A draft keeps the tasks typed over its note: ``draft.tasks``.

A task typed in the note editor (F5) is saved only with its note, made from it. A draft
held the text alone, so the tasks were lost whenever the note was left as a draft, and
in silence when the editor closed without a question (a switch of user, a takeover at
the lock) or when a note kept for the server was refused after its editor had closed.
``tasks`` holds them with the text, as JSON: a list of ``{"title", "due" (ISO day or
null), "assignee_id" (or null)}`` and ``"in_huddle": true`` for one typed in a huddle,
read and written by ``services.drafts`` alone. NULL: none (every existing row; no row
changes).

A draft is its author's alone: the central filter and PostgreSQL's row-level security
decide by ``draft.author_id`` (and the purpose), never by a column list, so the new
column changes nobody's sight of a row. Plain ADD COLUMN and DROP COLUMN on both
databases (no table copy, the partial indexes stay as they are).

Downgrade: the older version's draft holds text alone. Rather than drop the tasks'
words, each draft with tasks has them added after its text, one line each ("Task typed
with this note, not saved: <title>, due <day>"), for the author to add again; who each
was given to is not kept (the older version cannot hold it). A task typed over the
note is shown only to whoever may read the note, so its words join the note's own. One
typed in a huddle (``in_huddle``) was for whoever may see all the room saw, narrower:
its line says it was typed in a huddle, so that its author checks it before saving, as
they check the huddle's text folded into their own draft (the older version folds that
without a word either way).

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-04 19:40:00
"""

from __future__ import annotations

import json

import sqlalchemy as sa
from alembic import op

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column("draft", sa.Column("tasks", sa.Text(), nullable=True))


def _lines(tasks: str) -> list[str]:
    try:
        typed = json.loads(tasks)
    except ValueError:
        return []
    lines = []
    for task in typed if isinstance(typed, list) else []:
        if not isinstance(task, dict) or not str(task.get("title") or "").strip():
            continue
        due = f", due {task['due']}" if task.get("due") else ""
        where = " in a huddle (check who may see it)" if task.get("in_huddle") else ""
        lines.append(f"Task typed with this note{where}, not saved: {task['title']}{due}")
    return lines


def downgrade() -> None:
    connection = op.get_bind()
    rows = connection.execute(sa.text(
        "SELECT id, body, tasks FROM draft WHERE tasks IS NOT NULL")).all()
    for row in rows:
        lines = _lines(row.tasks)
        if lines:
            body = f"{row.body.rstrip()}\n\n" if row.body.strip() else ""
            connection.execute(sa.text("UPDATE draft SET body = :b WHERE id = :i"),
                               {"b": body + "\n".join(lines), "i": row.id})
    op.drop_column("draft", "tasks")
