"""Full-text search over the cases and notes a viewer may see.

Notes: SQLite matches the FTS5 index ``note_fts`` (migration 0003) and PostgreSQL the
stored words ``note.body_words`` and their GIN index (migration 0011; newest first in
two windows, ``search_postgres``); either way the match is a read of the ORM ``Note``
entity, so the central disclosure filter applies to every result and count, and every
note shown is re-checked with ``decide()``. Cases: the person's name (only for viewers
who may see names) and the words of the case summary (only where visible; SQLite
``case_fts``, PostgreSQL ``case.summary_words``, migrations 0010 and 0011).

Results show note text and names, so a search is audited like a case view: in the
viewer's write unit of work, one ``search.results`` event per case listed and the
disclosure ledger of the notes shown (ids only, never the words). If the audit insert
fails, the search fails and shows nothing.

What a person types never reaches a query language: it is cut into words (letters and
digits), each word is matched as the start of a word, all words must match. Quotes,
stars, ``NEAR(``, SQL or markup are just characters between words; an empty query gives
no results. Counts are exact up to ``COUNT_CAP`` and then say "more than".
"""

from __future__ import annotations

import datetime as dt
import functools
import re
import unicodedata
from dataclasses import dataclass
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Integer,
    Select,
    Text,
    and_,
    column,
    or_,
    select,
    table,
)
from sqlalchemy.orm import Session

from anchor_tui.db import models as m
from anchor_tui.db.search_tables import CASE_FTS, NOTE_FTS
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.services import audit, search_postgres
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import initials
from anchor_tui.services.board_filter import starts_with
from anchor_tui.services.disclosure import load_context, recheck

MAX_WORDS = 8
MAX_WORD_LENGTH = 64
RESULTS = 30
"""Notes listed per search (newest first); cases listed up to ``CASE_RESULTS``."""
CASE_RESULTS = 10
COUNT_CAP = 100
SNIPPET = 90
"""About this many characters of a note around its first match."""

_WORD = re.compile(r"[^\W_]+")
_ONE_LINE = str.maketrans("\n\r\t", "   ")
_note_fts = table(NOTE_FTS, column("rowid", Integer), column("body", Text))
_case_fts = table(CASE_FTS, column("rowid", Integer), column("summary", Text))


@dataclass(frozen=True)
class Highlighted:
    """A piece of user text and the (start, end) spans of the matched words in it."""

    text: str
    spans: tuple[tuple[int, int], ...] = ()


@dataclass(frozen=True)
class CaseHit:
    case_id: int
    person_label: str
    stage: str
    category: str
    matched: Highlighted
    """The name or summary that matched, with the words highlighted."""


@dataclass(frozen=True)
class NoteHit:
    note_id: int
    case_id: int
    person_label: str
    created_at: dt.datetime
    author: str
    category: str
    snippet: Highlighted


@dataclass(frozen=True)
class SearchResults:
    words: tuple[str, ...]
    cases: tuple[CaseHit, ...] = ()
    case_count: int = 0
    notes: tuple[NoteHit, ...] = ()
    note_count: int = 0

    @property
    def more_cases(self) -> bool:
        """More than ``COUNT_CAP`` cases matched (``case_count`` is the cap)."""
        return self.case_count > COUNT_CAP

    @property
    def more_notes(self) -> bool:
        return self.note_count > COUNT_CAP


def search_words(query: str) -> tuple[str, ...]:
    """The words of a query, lower-cased: letters and digits only, at most ``MAX_WORDS``."""
    found: list[str] = []
    for word in _WORD.findall(query.casefold()):
        word = word[:MAX_WORD_LENGTH]
        if word not in found:
            found.append(word)
    return tuple(found[:MAX_WORDS])


def search(backend: Backend, viewer: Viewer, query: str, *, limit: int = RESULTS,
           now: dt.datetime | None = None) -> SearchResults:
    """Cases and notes matching every word of ``query`` that ``viewer`` may see."""
    words = search_words(query)
    if not words or not viewer.audience:
        return SearchResults(words)
    now = now or utcnow()
    fields = backend.policy.case_fields(viewer)
    with backend.sessions.write(viewer, now) as session:
        shown = audit.Batch(session, viewer)
        case_ids, case_count = _matching_cases(session, words, fields)
        cases = _case_hits(session, backend, case_ids, words, fields)
        note_ids = _matching_notes(session, words, COUNT_CAP + 1)
        notes, dropped = _note_hits(session, backend, viewer, note_ids[:limit], words, fields,
                                    now, shown)
        shown.cases_listed("search.results", [*(hit.case_id for hit in cases),
                                              *(hit.case_id for hit in notes)])
        shown.write()
    return SearchResults(words, cases, case_count, notes, len(note_ids) - dropped)


# --- cases ------------------------------------------------------------------------------

def _matching_cases(session: Session, words: tuple[str, ...], fields: frozenset[str]
                    ) -> tuple[list[int], int]:
    """Ids of the first matching cases (newest first) and the count (up to the cap + 1).

    Each word must start the young person's first or last name (where names are
    visible) or a word of the case's summary (where it is visible); both through
    indexes (the names' folded indexes, the summary's full-text index), so a search
    never reads every case."""
    dialect = session.get_bind().dialect.name
    names, summary = "person_name" in fields, "summary" in fields
    if not (names or summary):
        return [], 0  # nothing of a case this viewer may search in
    conditions: list[ColumnElement[bool]] = []
    for word in words:
        either: list[ColumnElement[bool]] = []
        if names:
            either.append(m.Case.person_id.in_(_named(word, dialect)))
        if summary:
            either.append(m.Case.id.in_(_summary_matches(word)) if dialect == "sqlite"
                          else search_postgres.summary_has(word))
        conditions.append(or_(*either))
    query = select(m.Case.id).where(and_(*conditions))
    if dialect == "postgresql":
        # Read from the few cases that can match (through the indexes), each then
        # checked word by word; not every case checked newest first.
        candidates = search_postgres.case_candidates(
            words, _named(words[0], dialect, *words[1:]) if names else None, summary)
        query = query.where(candidates)
    ids = list(session.scalars(query.order_by(m.Case.id.desc()).limit(COUNT_CAP + 1)))
    return ids[:CASE_RESULTS], len(ids)


def _named(word: str, dialect: str, *more: str) -> Select[Any]:
    """Ids of the young persons whose first or last name starts with a word given."""
    return select(m.Person.id).where(or_(*(
        starts_with(name, each, dialect)
        for each in (word, *more) for name in (m.Person.first_name, m.Person.last_name))))


def _summary_matches(word: str) -> Select[Any]:
    """SQLite: ids of the cases whose summary has a word starting with ``word``."""
    # Letters and digits only, so quoting is enough: no FTS5 operator can be typed.
    return select(_case_fts.c.rowid).where(_case_fts.c.summary.match(f'"{word}"*'))


def _case_hits(session: Session, backend: Backend, ids: list[int], words: tuple[str, ...],
               fields: frozenset[str]) -> tuple[CaseHit, ...]:
    if not ids:
        return ()
    rows = session.execute(
        select(m.Case.id, m.Case.stage, m.Case.category, m.Case.summary, m.Person.first_name,
               m.Person.last_name)
        .join(m.Person, m.Person.id == m.Case.person_id).where(m.Case.id.in_(ids))
        .order_by(m.Case.id.desc())
    ).all()
    hits = []
    for case_id, stage, category, summary, first, last in rows:
        name = f"{first} {last}"
        label = name if "person_name" in fields else initials(first, last)
        shown = highlight(name, words, anywhere=False) if "person_name" in fields \
            else Highlighted(label)
        if not shown.spans and "summary" in fields:
            shown = highlight(summary, words, anywhere=False)
        hits.append(CaseHit(case_id, label, backend.team.stage_label(stage),
                            backend.team.category_label(category), shown))
    return tuple(hits)


# --- notes ------------------------------------------------------------------------------

def _matching_notes(session: Session, words: tuple[str, ...], wanted: int) -> list[int]:
    """Ids of the newest ``wanted`` visible notes matching every word, newest first."""
    if session.get_bind().dialect.name == "postgresql":
        return search_postgres.note_ids(session, words, wanted)
    # Each word is letters and digits only, so quoting it is enough: nothing typed
    # can become an FTS5 operator.
    match = " ".join(f'"{word}"*' for word in words)
    return list(session.scalars(
        select(m.Note.id).join(_note_fts, _note_fts.c.rowid == m.Note.id)
        .where(_note_fts.c.body.match(match))
        .order_by(_note_fts.c.rowid.desc()).limit(wanted)))


def _note_hits(session: Session, backend: Backend, viewer: Viewer, ids: list[int],
               words: tuple[str, ...], fields: frozenset[str], now: dt.datetime,
               shown: audit.Batch) -> tuple[tuple[NoteHit, ...], int]:
    """The notes to list, re-checked with ``decide()``; and how many the re-check dropped.
    The notes listed go to the disclosure ledger of ``shown``."""
    if not ids:
        return (), 0
    rows = session.execute(
        select(m.Note, m.Case.person_id, m.Person.first_name, m.Person.last_name,
               m.User.display_name)
        .join(m.Case, m.Case.id == m.Note.case_id)
        .join(m.Person, m.Person.id == m.Case.person_id)
        .join(m.User, m.User.id == m.Note.author_id)
        .where(m.Note.id.in_(ids)).order_by(m.Note.id.desc())
    ).all()
    ctx = load_context(session, {note.case_id for note, *_ in rows}, now)
    person_of = {note.id: person_id for note, person_id, *_ in rows}
    kept_notes = recheck(backend.policy, viewer, [(note, person_of[note.id]) for note, *_ in rows],
                         ctx)
    shown.disclosed([(note, person_of[note.id]) for note in kept_notes], ctx)
    kept = {note.id for note in kept_notes}
    hits = []
    for note, _person_id, first, last, author in rows:
        if note.id not in kept:
            continue
        category = backend.policy.categories.get(note.category)
        hits.append(NoteHit(
            note.id, note.case_id,
            f"{first} {last}" if "person_name" in fields else initials(first, last),
            note.created_at, author, category.label if category else note.category,
            snippet(note.body, words),
        ))
    return tuple(hits), len(rows) - len(kept)


# --- highlighting -----------------------------------------------------------------------

@functools.lru_cache(maxsize=4096)
def _fold_char(char: str) -> str:
    """One character case- and accent-folded as the index folds it (never empty)."""
    return "".join(c for c in unicodedata.normalize("NFKD", char)
                   if not unicodedata.combining(c)).casefold() or char


def _folded(text: str) -> tuple[str, list[int] | None]:
    """``text`` case- and accent-folded as the index folds it, and for each folded
    character the index of the original character it came from (None when they are
    the same: ASCII text folds character for character, by ``lower()``)."""
    if text.isascii():
        return text.lower(), None
    out: list[str] = []
    origin: list[int] = []
    for index, char in enumerate(text):
        base = char if char.isascii() and not char.isupper() else _fold_char(char)
        out.append(base)
        if len(base) == 1:
            origin.append(index)
        else:
            origin.extend([index] * len(base))
    return "".join(out), origin


def highlight(text: str, words: tuple[str, ...], *, anywhere: bool) -> Highlighted:
    """Spans of ``text`` where a word matches: at the start of a word (as the index
    matches), or ``anywhere`` (as a case's summary is matched)."""
    folded, origin = _folded(text)
    spans: list[tuple[int, int]] = []
    for word in words:
        target, _ = _folded(word)
        pattern = _pattern(target, anywhere)
        for found in pattern.finditer(folded):
            if origin is None:
                spans.append((found.start(), found.end()))
            else:
                spans.append((origin[found.start()], origin[found.end() - 1] + 1))
    return Highlighted(text, _merge(spans))


@functools.lru_cache(maxsize=256)
def _pattern(target: str, anywhere: bool) -> re.Pattern[str]:
    return re.compile(re.escape(target) if anywhere
                      else rf"(?<![^\W_]){re.escape(target)}[^\W_]*")


def _merge(spans: list[tuple[int, int]]) -> tuple[tuple[int, int], ...]:
    merged: list[tuple[int, int]] = []
    for start, end in sorted(spans):
        if merged and start <= merged[-1][1]:
            merged[-1] = (merged[-1][0], max(end, merged[-1][1]))
        else:
            merged.append((start, end))
    return tuple(merged)


def snippet(body: str, words: tuple[str, ...], width: int = SNIPPET) -> Highlighted:
    """About ``width`` characters of ``body`` on one line around its first match."""
    body = body.translate(_ONE_LINE)
    whole = highlight(body, words, anywhere=False)
    first = whole.spans[0][0] if whole.spans else 0
    # A third of the width before the match, but never less text than fits: a short
    # note shows whole.
    start = max(0, min(first - width // 3, len(body) - width))
    if start:
        space = body.rfind(" ", 0, start + 1)
        start = space + 1 if space >= max(0, start - 15) else start
    end = min(len(body), start + width)
    prefix = "…" if start else ""
    suffix = "…" if end < len(body) else ""
    shift = len(prefix) - start
    spans = tuple((max(s, start) + shift, min(e, end) + shift)
                  for s, e in whole.spans if s < end and e > start)
    return Highlighted(prefix + body[start:end] + suffix, spans)
