"""The case board: cases per stage, with only the case fields the viewer may see.

Columns are virtual: a stage's cards are read a page at a time in the board's order
``(priority, next review with none last, id)``, each page continuing after the last
card shown (keyset pagination), and column counts are SQL counts. Nothing reads every
case, so a board of 100,000 cases opens as fast as one of 10.

A filter of broad words (team members' names, categories, priorities) counts each
column only up to
``COUNT_AT_MOST`` (a column with more shows ``100+``) and the exact counts are read
once typing pauses (``exact_counts``): counting every match of a broad word was most
of a keystroke.

A filter (typed words and/or a saved filter) narrows the cases; each word matches only
what the viewer may see: a person's name only for professions allowed ``person_name``
(initials otherwise), members and the lead only where ``members``/``lead`` are visible.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import (
    ColumnElement,
    Select,
    and_,
    false,
    func,
    literal,
    or_,
    select,
    union_all,
)
from sqlalchemy.orm import Session

from anchor_tui.db.models import Case, CaseMember, InputRequest, Person, StageCount, User
from anchor_tui.db.session import reusable
from anchor_tui.domain import PRIORITY_LABELS, BoardColumn, CardKey, CaseCard, FilterSpec, Viewer
from anchor_tui.services.backend import Backend
from anchor_tui.settings import SavedFilter

PAGE = 20
"""Cards read per stage at a time: more than a tall terminal shows in one column."""

COUNT_AT_MOST = 100
"""A filter of broad words counts each column up to this many cases (then ``100+``)
until typing pauses and the exact counts follow. A word is broad when it names a team
member (the cases the person leads or works on: half the board for some), a category or
a priority: matches found in every stage. Counting every match was most of a keystroke
at 100,000 cases: 40-66 ms on SQLite for ``s``, ``k``, ``h``, ``j`` (team members),
20 ms on both databases for ``sc``, ``hi`` (a category, a priority), against 3-11 ms
counting to 100 per stage (each stage's count walks its part of the board-order index
and stops there). Any other filter is counted exactly at once: a name narrows to few
cases and a stage's label to one stage, which a count that stops would walk in full."""

_PRIORITY_BY_NAME = {label: value for value, label in PRIORITY_LABELS.items()}
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


def filter_for(saved: SavedFilter | None, text: str = "") -> FilterSpec:
    """The board filter for a saved filter (or none) plus typed words."""
    if saved is None:
        return FilterSpec(text=text)
    words = " ".join(w for w in (saved.text, text) if w.strip())
    return FilterSpec(
        text=words, saved_id=saved.id, saved_label=saved.label, mine=saved.mine,
        waiting_for_my_profession=saved.waiting_for_my_profession,
        review_due_within_days=saved.review_due_within_days, stages=saved.stages,
        categories=saved.categories,
        priorities=tuple(_PRIORITY_BY_NAME[p] for p in saved.priorities),
    )


def worked_by(user_ids: Sequence[int], today: dt.date, *,
              per_case: bool = False) -> ColumnElement[bool]:
    """One of ``user_ids`` works the case now (an active membership).

    By default an uncorrelated ``IN``: the memberships are found once, through their
    covering (user_id, case_id, valid_from, valid_to) index; the right test for
    reading every case that matches (a count). ``per_case`` asks the case's own
    memberships instead (the covering (case_id, ...) index): the right test for reading
    only the first few matching cases of a column, which the ``IN`` would make pay
    for finding every membership first.
    """
    now_valid = (CaseMember.user_id.in_(user_ids), CaseMember.valid_from <= today,
                 or_(CaseMember.valid_to.is_(None), CaseMember.valid_to >= today))
    if per_case:
        return asked_per_case(select(CaseMember.id).where(CaseMember.case_id == Case.id,
                                                          *now_valid))
    return Case.id.in_(select(CaseMember.case_id).where(*now_valid))


def asked_per_case(query: Select[Any]) -> ColumnElement[bool]:
    """``EXISTS (query)``, asked of each case in turn.

    ``OFFSET 0`` keeps PostgreSQL from turning the EXISTS into a hashed set of every
    match, which it prefers inside an OR: to show a column's first eight cards of a
    team member's cases it read all 48,000 of their memberships, per column (22 ms
    a column instead of 0.7). SQLite asks per case either way."""
    # Correlated to the case only: the case's own query may join the person too.
    return query.correlate(Case).offset(0).exists()


def _like_prefix(word: str) -> str:
    """A LIKE pattern for values starting with ``word`` (escape character ``/``), as one
    value: SQLite uses an index for ``LIKE ?`` only when the whole pattern is bound."""
    return word.replace("/", "//").replace("%", "/%").replace("_", "/_") + "%"


def starts_with(column: Any, word: str, dialect: str) -> ColumnElement[bool]:
    """``column`` starts with ``word``, whatever the case of its letters, through the
    names' folded indexes (migration 0010).

    PostgreSQL: ``lower(name) LIKE 'aino%'``. SQLite: its LIKE ignores the case of
    ASCII letters (and ``COLLATE NOCASE`` indexes fold the same way); a word that
    starts with another letter is tried capitalised as well (``äi`` finds Äijälä).
    """
    if dialect == "postgresql":
        return func.lower(column).like(_like_prefix(word.lower()), escape="/")
    tests = [column.like(_like_prefix(word), escape="/")]
    if not word[:1].isascii():
        tests.append(column.like(_like_prefix(word[:1].upper() + word[1:]), escape="/"))
    return or_(*tests)


def _label_starts(ident: str, label: str, folded: str) -> bool:
    """A typed word names a category or stage when it starts one of its words ("meet"
    finds "Anchor meeting"; "eet", the start of a name, does not)."""
    words = label.casefold().split() + ident.split("_")
    return any(word.startswith(folded) for word in words)


class _Matcher:
    """Turns typed words into SQL over what one viewer may see.

    A word matches the start of the young person's first or last name (or their
    initials, for a viewer who may not see names), a category, stage or priority
    label, the case number, or the name of the case's lead or a member (where those
    are visible). Names match from their start: typing narrows quickly, and the
    person table is scanned once per word, not once per case.
    """

    def __init__(self, backend: Backend, viewer: Viewer, session: Session,
                 today: dt.date, per_case: bool) -> None:
        self.per_case = per_case
        """Tests asked of each case (for reading a column's first few matches) rather
        than sets found once (for counting every match): see ``worked_by``."""
        self.team = backend.team
        self.dialect = backend.engine.dialect.name
        self.fields = backend.policy.case_fields(viewer)
        self.session = session
        self.today = today
        self._team_users: list[tuple[int, str]] | None = None

    def broad(self, word: str) -> bool:
        """``word`` names a team member (lead or member), a category or a priority: it
        matches cases in every stage (see ``COUNT_AT_MOST``)."""
        folded = word.casefold()
        return (any(_label_starts(c.id, c.label, folded) for c in self.team.case_categories)
                or any(label.startswith(folded) for label in PRIORITY_LABELS.values())
                or (bool(self.fields & {"members", "lead"}) and bool(self._users(word))))

    def word(self, word: str) -> ColumnElement[bool]:
        folded = word.casefold()
        tests: list[ColumnElement[bool]] = []
        if "person_name" in self.fields:
            tests.append(self._person(or_(starts_with(Person.first_name, word, self.dialect),
                                          starts_with(Person.last_name, word, self.dialect))))
        elif (initials_match := self._initials(word)) is not None:
            tests.append(self._person(initials_match))
        for ids, column in (
            ([c.id for c in self.team.case_categories if _label_starts(c.id, c.label, folded)],
             Case.category),
            ([s.id for s in self.team.stages if _label_starts(s.id, s.label, folded)],
             Case.stage),
            ([v for v, label in PRIORITY_LABELS.items() if label.startswith(folded)],
             Case.priority),
        ):
            if ids:
                tests.append(column.in_(ids))
        digits = word.removeprefix("#")
        if digits.isdigit() and len(digits) < 12:
            tests.append(Case.id == int(digits))
        users = self._users(word) if self.fields & {"members", "lead"} else []
        if users and "lead" in self.fields:
            tests.append(Case.lead_user_id.in_(users))
        if users and "members" in self.fields:
            tests.append(worked_by(users, self.today, per_case=self.per_case))
        return or_(*tests) if tests else false()

    def _person(self, matches: ColumnElement[bool]) -> ColumnElement[bool]:
        """The case's young person ``matches`` (see ``per_case``)."""
        if self.per_case:
            return asked_per_case(select(Person.id).where(Person.id == Case.person_id, matches))
        return Case.person_id.in_(select(Person.id).where(matches))

    @staticmethod
    def _initials(word: str) -> ColumnElement[bool] | None:
        """Initials typed as ``a``, ``av`` or ``A. V.`` (one word) by a viewer without names."""
        letters = word.replace(".", "")
        if not (1 <= len(letters) <= 2 and letters.isalpha()):
            return None

        def first_letter(column: Any, letter: str) -> ColumnElement[bool]:
            return func.substr(column, 1, 1).in_({letter.upper(), letter.lower()})

        if len(letters) == 1:
            return or_(first_letter(Person.first_name, letters),
                       first_letter(Person.last_name, letters))
        return and_(first_letter(Person.first_name, letters[0]),
                    first_letter(Person.last_name, letters[1]))

    def _users(self, word: str) -> list[int]:
        """Team members with a name starting with ``word`` (the team is small)."""
        if self._team_users is None:
            self._team_users = list(self.session.execute(select(User.id, User.display_name))
                                    .all())
        folded = word.casefold()
        return [user_id for user_id, name in self._team_users
                if any(part.startswith(folded) for part in name.casefold().split())]


def filter_conditions(backend: Backend, viewer: Viewer, spec: FilterSpec, session: Session,
                      today: dt.date, *, per_case: bool = False,
                      ) -> list[ColumnElement[bool]]:
    """The SQL conditions on ``Case`` for ``spec`` as ``viewer`` may use it (the board's
    filter; the caseload picture counts the same set). ``per_case``: shaped for reading
    a few cases in the board's order rather than all of them (``worked_by``)."""
    conditions: list[ColumnElement[bool]] = []
    if spec.stages:
        conditions.append(Case.stage.in_(spec.stages))
    if spec.categories:
        conditions.append(Case.category.in_(spec.categories))
    if spec.priorities:
        conditions.append(Case.priority.in_(spec.priorities))
    if spec.mine:
        conditions.append(or_(Case.lead_user_id == viewer.user_id,
                              worked_by([viewer.user_id], today, per_case=per_case)))
    if spec.waiting_for_my_profession:
        conditions.append(Case.id.in_(select(InputRequest.case_id).where(
            InputRequest.profession == viewer.profession, InputRequest.answered_at.is_(None))))
    if spec.review_due_within_days is not None:
        horizon = today + dt.timedelta(days=spec.review_due_within_days)
        conditions.append(Case.next_review <= horizon)
    words = spec.text.split()
    if words:
        matcher = _Matcher(backend, viewer, session, today, per_case)
        conditions += [matcher.word(w) for w in words]
    return conditions


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


def _card_query(conditions: Sequence[ColumnElement[bool]]) -> Select[*tuple[Any, ...]]:
    return (
        select(Case.id, Case.category, Case.stage, Case.priority, Case.next_review,
               Person.first_name, Person.last_name, User.display_name, Case.version)
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


def _counts(session: Session, stages: Sequence[str],
            conditions: Sequence[ColumnElement[bool]], at_most: int | None,
            ) -> dict[str, int]:
    """Every stage's number of cases matching ``conditions``: without conditions the
    counts the database keeps (``stage_count``); otherwise counted up to ``at_most`` per
    stage (None: all of them)."""
    if not conditions:
        return {stage: count for stage, count in session.execute(
            select(StageCount.stage, StageCount.cases))}
    if at_most is None or not stages:
        return {stage: count for stage, count in session.execute(
            select(Case.stage, func.count()).where(*conditions).group_by(Case.stage))}
    # One statement: per stage, the count of at most ``at_most`` matching ids.
    counted = [
        select(literal(stage).label("stage"), select(func.count()).select_from(
            select(Case.id).where(Case.stage == stage, *conditions).limit(at_most)
            .subquery()).scalar_subquery().label("cases"))
        for stage in stages
    ]
    return {stage: count for stage, count in session.execute(union_all(*counted))}


def _sorted_pages(session: Session, stages: Sequence[str],
                  conditions: Sequence[ColumnElement[bool]], per_stage: int) -> list[int]:
    """Each stage's first ``per_stage`` case ids among few matches: the matches are
    found once (a materialised CTE, through the indexes the conditions use) and each
    stage's page sorted from that small set."""
    matched = (select(Case.id, Case.stage, Case.priority, Case.next_review)
               .where(*conditions).cte("matched").prefix_with("MATERIALIZED"))
    c = matched.c
    pages = [
        select(page.c.id).select_from(page)
        for page in (
            select(c.id).where(c.stage == stage)
            .order_by(c.priority, c.next_review.is_(None), c.next_review, c.id)
            .limit(per_stage).subquery()
            for stage in stages
        )
    ]
    return list(session.scalars(union_all(*pages))) if pages else []


def _walked_cards(session: Session, stages: Sequence[str],
                  conditions: Sequence[ColumnElement[bool]], per_stage: int,
                  ) -> Sequence[Any]:
    """Each stage's first ``per_stage`` cards, read in the board's order from the
    board-order index (``conditions`` tested per case: ``per_case``), in one statement
    with their names: no second query for the cards' details."""
    if not stages:
        return []
    key = (tuple(stages), per_stage)
    statement = None if conditions else _UNFILTERED_WALKS.get(key)
    if statement is None:
        pages = [_card_query([Case.stage == stage, *conditions]).limit(per_stage).subquery()
                 for stage in stages]
        statement = union_all(*(select(*page.c) for page in pages))
        if not conditions:
            _UNFILTERED_WALKS[key] = reusable(statement)
    return session.execute(statement).all()


_UNFILTERED_WALKS: dict[tuple[tuple[str, ...], int], Any] = {}
"""The unfiltered board's statement per (stages, page size): built once (building it
was a sixth of a board read), and the disclosure hook's scan of it is remembered."""


def board_columns(backend: Backend, viewer: Viewer, per_stage: int = PAGE,
                  spec: FilterSpec | None = None, today: dt.date | None = None,
                  count_at_most: int | None = COUNT_AT_MOST) -> list[BoardColumn]:
    """One column per configured stage: its (filtered) total and its first cards.

    Under a filter of broad words a column counts up to ``count_at_most`` cases (None:
    all); a column with that many says its total is not exact (``exact_counts`` reads
    the rest). An
    empty huddle sees nothing: every column is empty and counts are zero.
    """
    stages = backend.team.stages
    if not viewer.audience:
        return [BoardColumn(s.id, s.label, 0, ()) for s in stages]
    spec = spec or FilterSpec()
    day = today or dt.date.today()
    fields = backend.policy.case_fields(viewer)
    with backend.sessions.read(viewer) as session:
        conditions = filter_conditions(backend, viewer, spec, session, day)
        per_case = filter_conditions(backend, viewer, spec, session, day, per_case=True)
        stop_at = count_at_most if _broad(backend, viewer, spec, session, day) else None
        if stop_at is None:
            totals = _counts(session, [], conditions, None)
        else:  # tested per case: a count that stops must not first list every match
            totals = _counts(session, [s.id for s in stages], per_case, stop_at)
        inexact = {stage for stage, n in totals.items() if stop_at is not None and n >= stop_at}
        found = [s.id for s in stages if totals.get(s.id)]
        if conditions and not inexact and sum(totals.values()) <= SORT_AT_MOST:
            ids = _sorted_pages(session, found, conditions, per_stage)
            rows = session.execute(_card_query([Case.id.in_(ids)])).all() if ids else []
        else:
            rows = _walked_cards(session, found, per_case, per_stage)
    by_stage: dict[str, list[CaseCard]] = {}
    for card in _in_board_order(_cards(rows, fields)):
        by_stage.setdefault(card.stage, []).append(card)
    return [BoardColumn(s.id, s.label, totals.get(s.id, 0), tuple(by_stage.get(s.id, ())),
                        exact=s.id not in inexact)
            for s in stages]


def _broad(backend: Backend, viewer: Viewer, spec: FilterSpec, session: Session,
           today: dt.date) -> bool:
    """Every typed word is broad (a team member, a category, a priority) and nothing
    else narrows (see ``COUNT_AT_MOST``)."""
    words = spec.text.split()
    if not words or spec.saved_id is not None:
        return False
    matcher = _Matcher(backend, viewer, session, today, per_case=True)
    return all(matcher.broad(word) for word in words)


def exact_counts(backend: Backend, viewer: Viewer, spec: FilterSpec,
                 today: dt.date | None = None) -> dict[str, int]:
    """Every stage's exact number of cases under ``spec`` (after ``board_columns``
    counted only up to ``COUNT_AT_MOST``): read once typing pauses."""
    if not viewer.audience:
        return {s.id: 0 for s in backend.team.stages}
    day = today or dt.date.today()
    with backend.sessions.read(viewer) as session:
        conditions = filter_conditions(backend, viewer, spec, session, day)
        totals = _counts(session, [], conditions, None)
    return {s.id: totals.get(s.id, 0) for s in backend.team.stages}


def stage_page(backend: Backend, viewer: Viewer, stage: str, after: CardKey,
               limit: int = PAGE, spec: FilterSpec | None = None,
               today: dt.date | None = None) -> tuple[CaseCard, ...]:
    """The next ``limit`` cards of ``stage`` after the card ``after`` (keyset)."""
    if not viewer.audience:
        return ()
    day = today or dt.date.today()
    with backend.sessions.read(viewer) as session:
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
    with backend.sessions.read(viewer) as session:
        conditions = filter_conditions(backend, viewer, FilterSpec(text=text), session, day)
        rows = session.execute(_card_query(conditions).limit(limit)).all()
        return _cards(rows, backend.policy.case_fields(viewer))
