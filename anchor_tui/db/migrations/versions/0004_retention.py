"""Retention and the disclosure ledger: ``erased_at`` on notes, cases and persons,
``consent_ids`` on audit events, and a note guard that lets exactly the retention
erasure through.

Notes stay append-only. The one change now allowed besides the "entered in error" flag
is retention's erasure: ``body`` set to '' *together with* ``erased_at`` set for the
first time, every other frozen column unchanged. An erased note cannot be erased again
or un-erased, and a body cannot change in any other way.

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-22 10:00:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None

# Frozen columns other than the body (0001's list without "body").
_FROZEN = ("case_id", "author_id", "author_profession", "category", "template",
           "created_at", "revision", "supersedes_id")
_OLD_FROZEN = (*_FROZEN[:5], "body", *_FROZEN[5:])


def upgrade() -> None:
    op.add_column("person", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("case", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    op.add_column("audit_event", sa.Column("consent_ids", sa.Text(), nullable=True))
    # A plain ADD COLUMN (no batch table copy): SQLite keeps the note's triggers.
    op.add_column("note", sa.Column("erased_at", sa.DateTime(timezone=True), nullable=True))
    _replace_update_guard(erasure=True)


def downgrade() -> None:
    _replace_update_guard(erasure=False)
    # A plain DROP COLUMN (SQLite 3.35+; no batch table copy): the note's triggers stay.
    for table in ("note", "case", "person"):
        op.execute(f'ALTER TABLE "{table}" DROP COLUMN erased_at')
    op.execute("ALTER TABLE audit_event DROP COLUMN consent_ids")


def _refused_sqlite(erasure: bool) -> str:
    if not erasure:
        return " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _OLD_FROZEN)
    frozen = " OR ".join(f"NEW.{c} IS NOT OLD.{c}" for c in _FROZEN)
    erasing = "(OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL AND NEW.body = '')"
    return (f"{frozen} OR (NEW.body IS NOT OLD.body AND NOT {erasing}) "
            f"OR (NEW.erased_at IS NOT OLD.erased_at AND NOT {erasing})")


def _sqlite_update_guard(erasure: bool) -> None:
    op.execute(
        "CREATE TRIGGER note_append_only_update BEFORE UPDATE ON note "
        f"WHEN {_refused_sqlite(erasure)} "
        "BEGIN SELECT RAISE(ABORT, 'notes are append-only'); END"
    )


def _replace_update_guard(erasure: bool) -> None:
    bind = op.get_bind()
    if bind.dialect.name == "sqlite":
        op.execute("DROP TRIGGER IF EXISTS note_append_only_update")
        _sqlite_update_guard(erasure)
        return
    columns = _FROZEN if erasure else _OLD_FROZEN
    changed = " OR ".join(f"NEW.{c} IS DISTINCT FROM OLD.{c}" for c in columns)
    extra = ""
    if erasure:
        erasing = ("(OLD.erased_at IS NULL AND NEW.erased_at IS NOT NULL "
                   "AND NEW.body = '')")
        extra = (f" OR (NEW.body IS DISTINCT FROM OLD.body AND NOT {erasing})"
                 f" OR (NEW.erased_at IS DISTINCT FROM OLD.erased_at AND NOT {erasing})")
    op.execute(
        "CREATE OR REPLACE FUNCTION note_append_only() RETURNS trigger LANGUAGE plpgsql AS $$ "
        "BEGIN "
        "IF TG_OP = 'DELETE' THEN RAISE EXCEPTION 'notes are append-only'; END IF; "
        f"IF {changed}{extra} THEN RAISE EXCEPTION 'notes are append-only'; END IF; "
        "RETURN NEW; END $$"
    )
