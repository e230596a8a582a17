"""PostgreSQL's half of search: the notes and case summaries that match, read through
the stored words of migration 0011 (``note.body_words``, ``case.summary_words``).

Every statement here selects the ORM entities (``Note``, ``Case``), so the central
disclosure filter is added to each one as to any other read (and row-level security,
for the application role); nothing here reads a note the viewer may not see.

Notes are looked for newest first, in two windows of ids that together cover every
note, each read with the disclosure filter:

1. the newest ``WINDOW`` note ids, walked newest first by the primary key, each note
   checked against the stored words and the filter until enough are found (bitmap
   scans off for this statement only: a common word matches tens of thousands of
   notes, and the planner, which underestimates prefix matches, would otherwise fetch
   every one of them to sort them);
2. only if the first window held too few: the older notes, as the planner chooses
   (for a rare word, the GIN index's few matches).

So a search lists exactly what one statement over all notes would (the newest visible
matches): the windows change how much is read, never what is found, and nothing
about notes the viewer may not see decides what is listed (only, as for any read, how
long it takes). The window's upper end comes from the notes' id sequence, which says
nothing that is shown.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Integer,
    Select,
    any_,
    cast,
    func,
    literal_column,
    or_,
    select,
    text,
)
from sqlalchemy.orm import Session

from anchor_tui.db import models as m
from anchor_tui.db.search_tables import CASE_WORDS, NOTE_WORDS, TS_CONFIG

WINDOW = 20_000
"""How many of the newest note ids the first window walks (about 20 ms at most)."""

_CONFIG: ColumnElement[Any] = literal_column(f"'{TS_CONFIG}'::regconfig")
_NOTE_WORDS: ColumnElement[Any] = literal_column(f"{m.Note.__tablename__}.{NOTE_WORDS}")
_CASE_WORDS: ColumnElement[Any] = literal_column(f'"{m.Case.__tablename__}".{CASE_WORDS}')


def tsquery(words: tuple[str, ...]) -> ColumnElement[Any]:
    """Every word as the start of a word. The words are letters and digits only
    (``search.search_words``), so none can be a tsquery operator."""
    return func.to_tsquery(_CONFIG, " & ".join(f"{word}:*" for word in words))


def summary_has(word: str) -> ColumnElement[bool]:
    """The case's summary has a word starting with ``word`` (its stored words)."""
    return _CASE_WORDS.bool_op("@@")(tsquery((word,)))


def case_candidates(words: tuple[str, ...], named: Select[Any] | None,
                    summary: bool) -> ColumnElement[bool]:
    """The case can match all ``words``, found through indexes: its summary has every
    word (``summary``: where the viewer may see it), or its young person's name starts
    with any word (``named``: those persons, where the viewer may see names). Wider
    than a match: the words are then checked one by one. Written so that the planner
    reads these cases through the summary's GIN index and ``case.person_id``'s index
    (a bitmap of either) instead of checking every case newest first."""
    either: list[ColumnElement[bool]] = []
    if summary:
        either.append(_CASE_WORDS.bool_op("@@")(tsquery(words)))
    if named is not None:
        persons = named.with_only_columns(func.array_agg(m.Person.id)).scalar_subquery()
        # ``= ANY(array)``, not ``IN (subquery)``: a condition the index on
        # ``case.person_id`` can answer as a bitmap, next to the summary's.
        either.append(m.Case.person_id == any_(cast(persons, ARRAY(Integer))))
    return or_(*either)


def note_ids(session: Session, words: tuple[str, ...], wanted: int) -> list[int]:
    """The ids of the newest ``wanted`` notes the viewer may see that match every word,
    newest first."""
    newest = session.execute(text(
        "SELECT pg_sequence_last_value(pg_get_serial_sequence('note', 'id')::regclass)"
    )).scalar()
    matching = (select(m.Note.id).where(_NOTE_WORDS.bool_op("@@")(tsquery(words)))
                .order_by(m.Note.id.desc()))
    if newest is None:  # no id handed out by the sequence: one statement over all notes
        return list(session.scalars(matching.limit(wanted)))
    floor = int(newest) - WINDOW
    with _planner(session, enable_bitmapscan="off", work_mem="64kB"):
        found = list(session.scalars(matching.where(m.Note.id > floor).limit(wanted)))
    if len(found) < wanted:
        found += session.scalars(matching.where(m.Note.id <= floor)
                                 .limit(wanted - len(found)))
    return found


@contextmanager
def _planner(session: Session, **settings: str) -> Iterator[None]:
    """Planner settings for the statements inside only: local to the transaction, and
    put back as they were after them (after an error the transaction is rolled back,
    which puts them back). One round trip each way."""
    keys = range(len(settings))
    names = {f"n{i}": name for i, name in zip(keys, settings, strict=True)}
    values = {f"v{i}": value for i, value in zip(keys, settings.values(), strict=True)}
    before = session.execute(text("SELECT " + ", ".join(
        [f"current_setting(:n{i})" for i in keys]
        + [f"set_config(:n{i}, :v{i}, true)" for i in keys])), {**names, **values}).one()
    yield
    session.execute(text("SELECT " + ", ".join(f"set_config(:n{i}, :v{i}, true)" for i in keys)),
                    {**names, **{f"v{i}": str(before[i]) for i in keys}})
