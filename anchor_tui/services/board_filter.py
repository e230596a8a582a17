"""The board's filter as SQL: typed words and saved filters, over what one viewer may see.

A word matches the start of the young person's first or last name (initials for a
profession without ``person_name``), a category, stage or priority label, the case
number, or the name of the case's lead or a member (where ``lead``/``members`` are
visible). The same conditions narrow the board's columns and counts
(``services/board.py``), the caseload picture and the palette's case search.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, and_, false, func, or_, select
from sqlalchemy.orm import Session

from anchor_tui.db.models import Case, CaseMember, InputRequest, Person, User
from anchor_tui.domain import PRIORITY_LABELS, FilterSpec, Viewer
from anchor_tui.services.backend import Backend
from anchor_tui.settings import SavedFilter

_PRIORITY_BY_NAME = {label: value for value, label in PRIORITY_LABELS.items()}
DENSE_AT = 2_000
"""A word that starts the first or last name of at least this many young people is
*dense*: like a broad word, it finds cases in every stage, so the board reads each
column's page in the board's order and counts it only as far as that page while it is
typed. ``jo`` starts 17,000 of 100,000 names: counting every match exactly was 17-24 ms
of its keystroke (and drawing the rest). Names do not follow stages, as a stage's label
or a saved filter does; ``joint`` (a stage, and no name) stays counted exactly."""
_TEAM_USERS = "board_filter.team_users"
"""The session's cached (id, display name) of every team member (``session.info``)."""


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

    def broad(self, word: str) -> bool:
        """``word`` names a team member (lead or member), a category or a priority: it
        matches cases in every stage (see ``all_words_broad``)."""
        folded = word.casefold()
        return (any(_label_starts(c.id, c.label, folded) for c in self.team.case_categories)
                or any(label.startswith(folded) for label in PRIORITY_LABELS.values())
                or (bool(self.fields & {"members", "lead"}) and bool(self._users(word))))

    def dense(self, word: str) -> bool:
        """``word`` starts the names of at least ``DENSE_AT`` young people the viewer's
        session may read (counted no further: at most ``DENSE_AT`` index entries). Only
        where the viewer may search by name: initials are tested per person, not through
        an index."""
        if "person_name" not in self.fields:
            return False
        named = or_(starts_with(Person.first_name, word, self.dialect),
                    starts_with(Person.last_name, word, self.dialect))
        found = select(Person.id).where(named).limit(DENSE_AT).subquery()
        return (self.session.scalar(select(func.count()).select_from(found)) or 0) >= DENSE_AT

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
        # Read once per session: a board read builds several matchers (for counting,
        # for reading cards, for telling broad words).
        team_users: list[tuple[int, str]] | None = self.session.info.get(_TEAM_USERS)
        if team_users is None:
            team_users = [(user_id, name) for user_id, name in self.session.execute(
                select(User.id, User.display_name))]
            self.session.info[_TEAM_USERS] = team_users
        folded = word.casefold()
        return [user_id for user_id, name in team_users
                if any(part.startswith(folded) for part in name.casefold().split())]


def filter_conditions(backend: Backend, viewer: Viewer, spec: FilterSpec, session: Session,
                      today: dt.date, *, per_case: bool = False,
                      ) -> list[ColumnElement[bool]]:
    """The SQL conditions on ``Case`` for ``spec`` as ``viewer`` may use it (the board's
    filter; the caseload picture counts the same set). ``per_case``: shaped for reading
    a few cases in the board's order rather than all of them (``worked_by``).

    "Mine" and "my profession" belong to one person: in a huddle they match nothing.
    The room's viewer carries its chair's user and profession, and the chair's cases
    (or the cases waiting for the chair's profession) would tell everyone present whom
    the chair works with, even where the room may not see a case's members or lead."""
    conditions: list[ColumnElement[bool]] = []
    personal = viewer.purpose == "individual"
    if spec.stages:
        conditions.append(Case.stage.in_(spec.stages))
    if spec.categories:
        conditions.append(Case.category.in_(spec.categories))
    if spec.priorities:
        conditions.append(Case.priority.in_(spec.priorities))
    if spec.mine:
        conditions.append(or_(Case.lead_user_id == viewer.user_id,
                              worked_by([viewer.user_id], today, per_case=per_case))
                          if personal else false())
    if spec.waiting_for_my_profession:
        conditions.append(Case.id.in_(select(InputRequest.case_id).where(
            InputRequest.profession == viewer.profession, InputRequest.answered_at.is_(None)))
            if personal else false())
    if spec.review_due_within_days is not None:
        horizon = today + dt.timedelta(days=spec.review_due_within_days)
        conditions.append(Case.next_review <= horizon)
    words = spec.text.split()
    if words:
        matcher = _Matcher(backend, viewer, session, today, per_case)
        conditions += [matcher.word(w) for w in words]
    return conditions


def all_words_broad(backend: Backend, viewer: Viewer, spec: FilterSpec, session: Session,
                    today: dt.date) -> bool:
    """Every typed word finds cases in every stage and nothing else narrows: each word is
    broad (a team member, a category, a priority) or, one word at most, dense (the start
    of many young people's names). The board then counts its columns only as far as
    their first page while it is typed (``services.board.board_columns``). Two dense
    words may together find few cases (``jo ko``), which reading each column in the
    board's order would walk in full: counted exactly."""
    words = spec.text.split()
    if not words or spec.saved_id is not None:
        return False
    matcher = _Matcher(backend, viewer, session, today, per_case=True)
    narrow = [word for word in words if not matcher.broad(word)]
    return len(narrow) <= 1 and all(matcher.dense(word) for word in narrow)
