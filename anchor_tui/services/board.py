"""The case board: cases per stage, with only the case fields the viewer may see.

Columns are virtual: a stage's cards are read a page at a time in the board's order
``(priority, next review with none last, id)``, each page continuing after the last
card shown (keyset pagination), and column counts are SQL counts. Nothing reads every
case, so a board of 100,000 cases opens as fast as one of 10.

A filter (typed words and/or a saved filter; its SQL is ``services/board_filter.py``)
narrows the cases. While a filter of broad words (team members' names, categories,
priorities, or the start of many young people's names) is typed, a column is counted
only as far as its first page (a column with more shows ``8+``) and the exact counts
are read once typing pauses (``exact_counts``): counting every match of a broad word
was most of a keystroke.
"""

from __future__ import annotations

import datetime as dt
import json
from collections.abc import Callable, Sequence
from typing import Any

from sqlalchemy import (
    ARRAY,
    ColumnElement,
    Select,
    String,
    TableValuedAlias,
    and_,
    func,
    literal,
    or_,
    select,
    true,
    union_all,
)
from sqlalchemy.orm import Session, aliased

from anchor_tui.db.models import Case, Person, StageCount, User
from anchor_tui.db.session import reusable
from anchor_tui.domain import BoardColumn, CardKey, CaseCard, FilterSpec, Viewer
from anchor_tui.services.backend import Backend
from anchor_tui.services.board_filter import all_words_broad, filter_conditions

PAGE = 20
"""Cards read per stage at a time: more than a tall terminal shows in one column."""

# While broad words are typed, a column is counted no further than its page. A word is
# broad when it names a team member (the cases the person leads or works on: half the
# board for some), a category or a priority: matches found in every stage. Counting
# every match was most of a keystroke at 100,000 cases (40-66 ms on SQLite for a team
# member, 20 ms on both databases for a category or a priority); counting up to 100 per
# stage still took 10-30 ms on PostgreSQL, more than reading the cards. Reading one card
# more than the page tells a column of more (``8+``) from one that is whole (exact), in
# the same statement as the cards. So is a word that starts many young people's names
# (``board_filter.DENSE_AT``: ``jo``, 17,000 of 100,000). Any other filter is counted
# exactly at once: a rarer name narrows to few cases and a stage's label to one stage,
# which reading a page of cards per stage would walk in full.

_ORDER = (Case.priority, Case.next_review.is_(None), Case.next_review, Case.id)


def initials(first: str, last: str) -> str:
    parts = [p[:1].upper() + "." for p in (first, last) if p]
    return " ".join(parts) or "?"


def person_label(first: str, last: str, fields: frozenset[str]) -> str:
    """The young person as the viewer may see them: full name, or initials."""
    return f"{first} {last}" if "person_name" in fields else initials(first, last)


def shows_lead(backend: Backend, viewer: Viewer) -> bool:
    """Whether the viewer may see who leads a case (a card then names the lead, or says
    there is none; otherwise it says nothing about a lead)."""
    return "lead" in backend.policy.case_fields(viewer)


def _after(key: CardKey) -> ColumnElement[bool]:
    """Cases after ``key`` in the board's order (next review none last)."""
    same = Case.priority == key.priority
    if key.next_review is None:
        later = and_(same, Case.next_review.is_(None), Case.id > key.case_id)
    else:
        later = and_(same, or_(
            Case.next_review.is_(None), Case.next_review > key.next_review,
            and_(Case.next_review == key.next_review, Case.id > key.case_id)))
    return or_(Case.priority > key.priority, later)


def _card_columns(case: Any = Case, person: Any = Person, lead: Any = User) -> tuple[Any, ...]:
    """What a card shows, in ``_cards``' order (from aliases where a query needs them)."""
    return (case.id, case.category, case.stage, case.priority, case.next_review,
            person.first_name, person.last_name, lead.display_name, case.version)


def _card_query(conditions: Sequence[ColumnElement[bool]]) -> Select[*tuple[Any, ...]]:
    return (
        select(*_card_columns())
        .join(Person, Person.id == Case.person_id)
        .outerjoin(User, User.id == Case.lead_user_id)
        .where(*conditions)
        .order_by(*_ORDER)
    )


def _cards(rows: Sequence[Any], fields: frozenset[str]) -> tuple[CaseCard, ...]:
    return tuple(
        CaseCard(case_id=case_id, person_label=person_label(first, last, fields),
                 category=category, stage=stage, priority=priority, next_review=review,
                 lead=lead if "lead" in fields else None, version=version)
        for case_id, category, stage, priority, review, first, last, lead, version in rows
    )


def _in_board_order(cards: Sequence[CaseCard]) -> list[CaseCard]:
    return sorted(cards, key=lambda c: (c.priority, c.next_review is None,
                                        c.next_review or dt.date.min, c.case_id))


SORT_AT_MOST = 2_000
"""A filter finding at most this many cases has its columns' pages sorted from what it
found; one finding more has each column's page read in the board's order from the
board-order index, which stops at the page's last card (a dense filter fills a page
within its first few entries)."""


def _on_postgresql(session: Session) -> bool:
    return session.get_bind().dialect.name == "postgresql"


def _each_stage(stages: Sequence[str]) -> TableValuedAlias:
    """PostgreSQL: the stages as rows (``unnest(:stages) AS s(stage)``), for a per-stage
    query written once and joined ``LATERAL`` to each stage, in place of a ``UNION ALL``
    of one copy per stage. The statement no longer grows with the number of stages and
    does not change shape with which stages a filter found: SQLAlchemy compiles it once
    (compiling the seven-copy union of a shape not seen before took 10-20 ms of a
    keystroke) and PostgreSQL plans one copy (a cached union still took twice as long).
    SQLite has no ``LATERAL``: see ``_cards_per_stage_sqlite``."""
    return (func.unnest(literal(list(stages), ARRAY(String)))
            .table_valued("stage").render_derived(name="s"))


def _counts(session: Session, conditions: Sequence[ColumnElement[bool]]) -> dict[str, int]:
    """Every stage's number of cases matching ``conditions``: without conditions the
    counts the database keeps (``stage_count``), otherwise one grouped count."""
    if not conditions:
        return {stage: count for stage, count in session.execute(
            select(StageCount.stage, StageCount.cases))}
    return {stage: count for stage, count in session.execute(
        select(Case.stage, func.count()).where(*conditions).group_by(Case.stage))}


def _sorted_cards(session: Session, stages: Sequence[str],
                  conditions: Sequence[ColumnElement[bool]], per_stage: int,
                  ) -> Sequence[Any]:
    """Each stage's first ``per_stage`` cards among few matches: the matches are found
    once (a materialised CTE, through the indexes the conditions use) and each stage's
    page sorted from that small set, in one statement with the cards' details."""
    if not stages:
        return []
    matched = (select(Case.id, Case.stage, Case.priority, Case.next_review)
               .where(*conditions).cte("matched").prefix_with("MATERIALIZED"))
    c = matched.c
    order = (c.priority, c.next_review.is_(None), c.next_review, c.id)
    if _on_postgresql(session):
        each = _each_stage(stages)
        page = (select(c.id).where(c.stage == each.c.stage).order_by(*order)
                .limit(per_stage).lateral("page"))
        shown, person, lead = _SHOWN
        statement = (select(*_card_columns(shown, person, lead)).select_from(each)
                     .join(page, true()).join(shown, shown.id == page.c.id)
                     .join(person, person.id == shown.person_id)
                     .outerjoin(lead, lead.id == shown.lead_user_id))
    else:
        statement = _cards_per_stage_sqlite(
            stages, lambda stage: select(c.id).where(c.stage == stage).order_by(*order),
            per_stage)
    return session.execute(statement).all()


def _walked_cards(session: Session, stages: Sequence[str],
                  conditions: Sequence[ColumnElement[bool]], per_stage: int,
                  ) -> Sequence[Any]:
    """Each stage's first ``per_stage`` cards, read in the board's order from the
    board-order index (``conditions`` tested per case: ``per_case``), in one statement
    with their names: no second query for the cards' details."""
    if not stages:
        return []
    postgresql = _on_postgresql(session)
    key = (postgresql, tuple(stages), per_stage)
    statement = None if conditions else _UNFILTERED_WALKS.get(key)
    if statement is None:
        if postgresql:
            each = _each_stage(stages)
            page = (_card_query([Case.stage == each.c.stage, *conditions]).limit(per_stage)
                    .lateral("page"))
            statement = select(*page.c).select_from(each).join(page, true())
        elif conditions:
            statement = _cards_per_stage_sqlite(
                stages, lambda stage: select(Case.id).where(Case.stage == stage, *conditions)
                .order_by(*_ORDER), per_stage)
        else:
            pages = [_card_query([Case.stage == stage]).limit(per_stage).subquery()
                     for stage in stages]
            statement = union_all(*(select(*page.c) for page in pages))
        if not conditions:
            _UNFILTERED_WALKS[key] = reusable(statement)
    return session.execute(statement).all()


def _cards_per_stage_sqlite(stages: Sequence[str],
                            first: Callable[[Any], Select[Any]],
                            per_stage: int) -> Select[*tuple[Any, ...]]:
    """SQLite (no ``LATERAL``): the cards whose id is among the first ``per_stage`` of
    ``first(stage)`` (a stage's matching case ids in the board's order), the stages the
    rows of ``json_each(:stages)``: the conditions appear once, as with PostgreSQL's
    ``LATERAL``, not once per stage (compiling the seven-copy union of a filter's shape
    not seen before took 15-20 ms of a keystroke, and finding the disclosure filter's
    tables in it 5 ms), and the statement's shape does not depend on the stages, so it is
    compiled once."""
    each = func.json_each(literal(json.dumps(list(stages)))).table_valued("value")
    page = first(each.c.value).limit(per_stage).correlate(each)
    shown, person, lead = _SHOWN
    return (select(*_card_columns(shown, person, lead)).select_from(each)
            .join(shown, shown.id.in_(page))
            .join(person, person.id == shown.person_id)
            .outerjoin(lead, lead.id == shown.lead_user_id))


_SHOWN = (aliased(Case, name="shown"), aliased(Person, name="shown_person"),
          aliased(User, name="shown_lead"))
"""The aliases of ``_cards_per_stage_sqlite``, made once: an alias proxies every column
of its table when first used, 5-8 ms of every keystroke when made per statement."""

_UNFILTERED_WALKS: dict[tuple[bool, tuple[str, ...], int], Any] = {}
"""The unfiltered board's statement per (PostgreSQL or not, stages, page size): built
once (building it was a sixth of a board read), and the disclosure hook's scan of it is
remembered."""


def board_columns(backend: Backend, viewer: Viewer, per_stage: int = PAGE,
                  spec: FilterSpec | None = None, today: dt.date | None = None,
                  exact: bool = False) -> list[BoardColumn]:
    """One column per configured stage: its (filtered) total and its first cards.

    Under a filter of broad words a column is counted only as far as its first page
    unless ``exact``: a column with more says its total (the page) is not exact, and
    ``exact_counts`` reads the rest. An empty huddle sees nothing: every column is empty
    and counts are zero.
    """
    stages = backend.team.stages
    if not viewer.audience:
        return [BoardColumn(s.id, s.label, 0, ()) for s in stages]
    spec = spec or FilterSpec()
    day = today or dt.date.today()
    fields = backend.policy.case_fields(viewer)
    inexact: set[str] = set()
    with backend.sessions.read(viewer, custom_plans=True) as session:
        # (Each set of conditions is built only where it is used: a broad word's board
        # read took 14-16 ms with both built, 9-13 ms with one, SQLite, 100,000 cases.)
        if not exact and all_words_broad(backend, viewer, spec, session, day):
            # Tested per case, one card more than the page: the cards and how far the
            # column goes in one statement.
            per_case = filter_conditions(backend, viewer, spec, session, day, per_case=True)
            rows = _walked_cards(session, [s.id for s in stages], per_case, per_stage + 1)
            totals: dict[str, int] = {}
            for row in rows:
                totals[row.stage] = totals.get(row.stage, 0) + 1
            inexact = {stage for stage, n in totals.items() if n > per_stage}
            totals = {stage: min(n, per_stage) for stage, n in totals.items()}
        else:
            conditions = filter_conditions(backend, viewer, spec, session, day)
            totals = _counts(session, conditions)
            found = [s.id for s in stages if totals.get(s.id)]
            if conditions and sum(totals.values()) <= SORT_AT_MOST:
                rows = _sorted_cards(session, found, conditions, per_stage)
            else:
                per_case = filter_conditions(backend, viewer, spec, session, day,
                                             per_case=True)
                rows = _walked_cards(session, found, per_case, per_stage)
    by_stage: dict[str, list[CaseCard]] = {}
    for card in _in_board_order(_cards(rows, fields)):
        by_stage.setdefault(card.stage, []).append(card)
    return [BoardColumn(s.id, s.label, totals.get(s.id, 0),
                        tuple(by_stage.get(s.id, ())[:per_stage]), exact=s.id not in inexact)
            for s in stages]


def exact_counts(backend: Backend, viewer: Viewer, spec: FilterSpec,
                 today: dt.date | None = None) -> dict[str, int]:
    """Every stage's exact number of cases under ``spec`` (after ``board_columns``
    counted only as far as the page): read once typing pauses."""
    if not viewer.audience:
        return {s.id: 0 for s in backend.team.stages}
    day = today or dt.date.today()
    with backend.sessions.read(viewer, custom_plans=True) as session:
        conditions = filter_conditions(backend, viewer, spec, session, day)
        totals = _counts(session, conditions)
    return {s.id: totals.get(s.id, 0) for s in backend.team.stages}


def stage_page(backend: Backend, viewer: Viewer, stage: str, after: CardKey,
               limit: int = PAGE, spec: FilterSpec | None = None,
               today: dt.date | None = None) -> tuple[CaseCard, ...]:
    """The next ``limit`` cards of ``stage`` after the card ``after`` (keyset)."""
    if not viewer.audience:
        return ()
    day = today or dt.date.today()
    with backend.sessions.read(viewer, custom_plans=True) as session:
        conditions = filter_conditions(backend, viewer, spec or FilterSpec(), session, day,
                                       per_case=True)
        rows = session.execute(
            _card_query([Case.stage == stage, _after(after), *conditions]).limit(limit)).all()
        return _cards(rows, backend.policy.case_fields(viewer))


def find_cases(backend: Backend, viewer: Viewer, text: str, limit: int = 10,
               today: dt.date | None = None) -> tuple[CaseCard, ...]:
    """Cases matching ``text`` as the board filter would (for the palette's case: open)."""
    if not viewer.audience or not text.split():
        return ()
    day = today or dt.date.today()
    with backend.sessions.read(viewer, custom_plans=True) as session:
        conditions = filter_conditions(backend, viewer, FilterSpec(text=text), session, day)
        rows = session.execute(_card_query(conditions).limit(limit)).all()
        return _cards(rows, backend.policy.case_fields(viewer))
