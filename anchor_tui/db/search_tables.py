"""The full-text search index's own database objects (created by migration 0003), and
the other database objects that are not models.

SQLite keeps the index in an FTS5 table, ``note_fts``, with shadow tables of its own
(``note_fts_data``, ``note_fts_idx``...); PostgreSQL in a stored ``tsvector`` column of
``note`` with a GIN index (an expression GIN index before migration 0011). They are not
models: schema comparisons leave them out with ``include_name``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from sqlalchemy import Engine

NOTE_FTS = "note_fts"
"""SQLite: the FTS5 external-content table over ``note.body`` (rowid = ``note.id``)."""
CASE_FTS = "case_fts"
"""SQLite: the FTS5 external-content table over ``case.summary`` (migration 0010)."""
CASE_SUMMARY_INDEX = "ix_case_summary_fts"
"""PostgreSQL: the GIN index on ``to_tsvector('simple', summary)`` (migration 0010; 0011
replaces it with ``CASE_WORDS_INDEX``)."""
NOTE_BODY_INDEX = "ix_note_body_fts"
"""PostgreSQL: the GIN index on ``to_tsvector('simple', body)`` (0003 to 0010)."""
NOTE_WORDS = "body_words"
"""PostgreSQL: ``note``'s stored ``tsvector`` of its body (migration 0011), not a model
column: search reads it through ``note_words()``."""
NOTE_WORDS_INDEX = "ix_note_body_words"
"""PostgreSQL: the GIN index on ``note.body_words`` (migration 0011)."""
CASE_WORDS = "summary_words"
"""PostgreSQL: ``case``'s stored ``tsvector`` of its summary (migration 0011)."""
CASE_WORDS_INDEX = "ix_case_summary_words"
"""PostgreSQL: the GIN index on ``case.summary_words`` (migration 0011)."""
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
                            OPEN_TASKS_INDEX, NOTE_WORDS_INDEX, CASE_WORDS_INDEX,
                            *PERSON_NAME_INDEXES)
    if type_ == "column":
        return (parent_names.get("table_name"), name) not in (
            ("note", NOTE_WORDS), ("case", CASE_WORDS))
    return True


def compact_search_tables(engine: Engine) -> None:
    """On SQLite, leave no deleted or erased text in the file: the full-text indexes keep
    a deleted row's words in their older segments until these are merged (``optimize``
    merges them all; ``secure_delete``, on for every connection, zeroes the pages freed),
    and the write-ahead log keeps older copies of pages until it is checkpointed and
    emptied. (PostgreSQL: its indexes and dead rows are reclaimed by VACUUM.)"""
    if engine.dialect.name != "sqlite":
        return
    raw = engine.raw_connection()
    try:
        cursor = raw.cursor()
        for table in (NOTE_FTS, CASE_FTS):
            cursor.execute(f"INSERT INTO {table}({table}) VALUES ('optimize')")  # noqa: S608
        cursor.execute("PRAGMA wal_checkpoint(TRUNCATE)")
        cursor.close()
    finally:
        raw.close()
