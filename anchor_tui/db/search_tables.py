"""The full-text search index's own database objects (created by migration 0003), and
the other database objects that are not models.

SQLite keeps the index in an FTS5 table, ``note_fts``, with shadow tables of its own
(``note_fts_data``, ``note_fts_idx``...); PostgreSQL in an expression GIN index on
``note``. They are not models: schema comparisons leave them out with ``include_name``.
"""

from __future__ import annotations

from typing import Any

NOTE_FTS = "note_fts"
"""SQLite: the FTS5 external-content table over ``note.body`` (rowid = ``note.id``)."""
CASE_FTS = "case_fts"
"""SQLite: the FTS5 external-content table over ``case.summary`` (migration 0010)."""
CASE_SUMMARY_INDEX = "ix_case_summary_fts"
"""PostgreSQL: the GIN index on ``to_tsvector('simple', summary)`` (migration 0010)."""
NOTE_BODY_INDEX = "ix_note_body_fts"
"""PostgreSQL: the GIN index on ``to_tsvector('simple', body)``."""
BOARD_ORDER_INDEX = "ix_case_board_order"
"""The expression index in the board's order (PostgreSQL: migration 0009; SQLite, with
the columns the board filter tests: 0010). Not a model either: SQLite cannot reflect
expression indexes, so it would warn in comparisons."""
PERSON_NAME_INDEXES = ("ix_person_first_name_folded", "ix_person_last_name_folded")
"""The young person's names for matching from their start in any case of letters
(migration 0010): ``COLLATE NOCASE`` on SQLite, ``lower(...) text_pattern_ops`` on
PostgreSQL. Expression indexes: not models."""
TS_CONFIG = "simple"
"""PostgreSQL text search configuration: lower-cased words, no stemming, no stop words
(the team writes Finnish, Swedish and English; ``simple`` treats them alike)."""


OPEN_TASKS_INDEX = "ix_task_open_by_assignee"
"""A person's open tasks in the queue's order, no due date last (migration 0010; a
partial expression index, so not a model)."""


def is_search_table(name: str) -> bool:
    return any(name == fts or name.startswith(fts + "_") for fts in (NOTE_FTS, CASE_FTS))


def include_name(name: str | None, type_: str, parent_names: Any) -> bool:
    """For Alembic's ``include_name``: leave the search index out of schema comparisons."""
    if name is None:
        return True
    if type_ == "table":
        return not is_search_table(name)
    if type_ == "index":
        return name not in (NOTE_BODY_INDEX, CASE_SUMMARY_INDEX, BOARD_ORDER_INDEX,
                            OPEN_TASKS_INDEX, *PERSON_NAME_INDEXES)
    return True
