"""The closed vocabulary of conditions, each with exactly two translations.

Every condition answers one question about one member of the audience (a viewer, or
one attendee of a huddle) and one protected record. ``holds`` is the pure Python
translation used by ``decide()``; ``sql`` is the SQLAlchemy translation used by the
central filter. Conditions about the viewer alone (purpose, profession, break-glass)
are decided while compiling, so they become constant ``true``/``false`` in SQL.

There is no expression language and no ``eval``: a policy can only combine these.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, ClassVar

from sqlalchemy import (
    ColumnElement,
    exists,
    false,
    literal_column,
    not_,
    or_,
    select,
    true,
)
from sqlalchemy.orm import aliased

from anchor_tui.db import models
from anchor_tui.domain import Attendee
from anchor_tui.policy.facts import DecisionContext, NoteFacts, TaskFacts

Subject = NoteFacts | TaskFacts


@dataclass(frozen=True)
class Scope:
    """The viewer-wide facts a condition may use besides the attendee."""

    purpose: str
    break_glass: bool
    now: dt.datetime
    today: dt.date


@dataclass(frozen=True)
class SqlAttendee:
    """An audience member in SQL: the user id is a bound parameter, so one compiled
    filter serves every person of the same profession (the statement cache stays warm)."""

    user_id: Any
    profession: str


@dataclass(frozen=True)
class SqlScope:
    """Viewer-wide facts in SQL; ``now``/``today`` are bound parameters."""

    purpose: str
    break_glass: bool
    now: Any
    today: Any


class Condition:
    """Base of the vocabulary. Subclasses set ``name`` and ``entities``."""

    name: ClassVar[str]
    entities: ClassVar[frozenset[str]] = frozenset({"note", "task"})

    def holds(self, who: Attendee, scope: Scope, subject: Subject, ctx: DecisionContext) -> bool:
        raise NotImplementedError

    def sql(self, who: SqlAttendee, scope: SqlScope, entity: type[Any]) -> ColumnElement[bool]:
        raise NotImplementedError

    def describe(self) -> str:
        return self.name


def _const(value: bool) -> ColumnElement[bool]:
    return true() if value else false()


def sql_word(value: str) -> ColumnElement[Any]:
    """A policy identifier (profession, category, fixed vocabulary word) inlined as a SQL
    literal. Identifiers are validated as ``[a-z][a-z0-9_]*`` when the policy loads, so
    inlining is safe; it keeps filters free of anonymous bound parameters, which
    SQLAlchemy would otherwise have to match up again on every execution."""
    if not IDENTIFIER.fullmatch(value):
        raise ValueError(f"not a policy identifier: {value!r}")
    return literal_column(f"'{value}'")


IDENTIFIER = re.compile(r"[a-z][a-z0-9_]*")


def _active_membership(case_id: Any, user_id: Any, today: Any) -> ColumnElement[bool]:
    # Private aliases: an outer query that itself selects case_member (e.g. "my cases")
    # must not be correlated into this subquery.
    m = aliased(models.CaseMember)
    return exists(
        select(m.id).where(
            m.case_id == case_id,
            m.user_id == user_id,
            m.valid_from <= today,
            or_(m.valid_to.is_(None), m.valid_to >= today),
        )
    )


@dataclass(frozen=True)
class CaseMember(Condition):
    """The person works the case (an active case membership today)."""

    name: ClassVar[str] = "case_member"

    def holds(self, who: Attendee, scope: Scope, subject: Subject, ctx: DecisionContext) -> bool:
        return ctx.is_member(subject.case_id, who.user_id)

    def sql(self, who: SqlAttendee, scope: SqlScope, entity: type[Any]) -> ColumnElement[bool]:
        return _active_membership(entity.case_id, who.user_id, scope.today)


@dataclass(frozen=True)
class SameProfession(Condition):
    """The note's author wrote it as a member of the person's own profession."""

    name: ClassVar[str] = "same_profession"
    entities: ClassVar[frozenset[str]] = frozenset({"note"})

    def holds(self, who: Attendee, scope: Scope, subject: Subject, ctx: DecisionContext) -> bool:
        assert isinstance(subject, NoteFacts)
        return subject.author_profession == who.profession

    def sql(self, who: SqlAttendee, scope: SqlScope, entity: type[Any]) -> ColumnElement[bool]:
        return entity.author_profession == sql_word(who.profession)  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Author(Condition):
    """The person wrote the note (or created the task)."""

    name: ClassVar[str] = "author"

    def holds(self, who: Attendee, scope: Scope, subject: Subject, ctx: DecisionContext) -> bool:
        if isinstance(subject, NoteFacts):
            return subject.author_id == who.user_id
        return subject.created_by_id == who.user_id

    def sql(self, who: SqlAttendee, scope: SqlScope, entity: type[Any]) -> ColumnElement[bool]:
        column = entity.author_id if hasattr(entity, "author_id") else entity.created_by_id
        return column == who.user_id  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Assignee(Condition):
    """The task is assigned to the person."""

    name: ClassVar[str] = "assignee"
    entities: ClassVar[frozenset[str]] = frozenset({"task"})

    def holds(self, who: Attendee, scope: Scope, subject: Subject, ctx: DecisionContext) -> bool:
        assert isinstance(subject, TaskFacts)
        return subject.assignee_id == who.user_id

    def sql(self, who: SqlAttendee, scope: SqlScope, entity: type[Any]) -> ColumnElement[bool]:
        return entity.assignee_id == who.user_id  # type: ignore[no-any-return]


def consent_sql(
    case_id: Any, category: Any, profession: str, now: Any, today: Any
) -> ColumnElement[bool]:
    """SQL twin of ``DecisionContext.has_consent`` for the case's person.

    ``has_consent`` = no refusal by the young person in force, and either their own
    permit, or a guardian's / legal representative's permit with no refusal from
    them. Equivalently: some permit *p* is in force, and no refusal *d* is in force
    where *d* is the young person's own or *p* is not.
    """
    permit = aliased(models.Consent)
    refusal = aliased(models.Consent)
    person = aliased(models.Case)

    def in_force(c: Any) -> list[ColumnElement[bool]]:
        return [
            c.valid_from <= today,
            or_(c.valid_to.is_(None), c.valid_to >= today),
            or_(c.withdrawn_at.is_(None), c.withdrawn_at > now),
        ]

    own = sql_word("self")
    # Each subquery refers only to the query directly around it: SQLAlchemy correlates
    # one level, and a reference two levels out would silently join the whole table.
    # So the refusal matches the permit's person, category and profession, and only
    # the permit refers to the protected record.
    no_overriding_refusal = ~exists(
        select(refusal.id).where(
            refusal.person_id == permit.person_id,
            refusal.category == permit.category,
            refusal.receiving_profession == permit.receiving_profession,
            *in_force(refusal),
            refusal.decision == sql_word("deny"),
            or_(refusal.grantor == own, permit.grantor != own),
        )
    )
    return exists(
        select(permit.id)
        .join(person, person.person_id == permit.person_id)
        .where(
            person.id == case_id,
            permit.category == category,
            permit.receiving_profession == sql_word(profession),
            *in_force(permit),
            permit.decision == sql_word("permit"),
            no_overriding_refusal,
        )
    )


@dataclass(frozen=True)
class Consent(Condition):
    """An effective consent lets the person's profession receive the note's category."""

    name: ClassVar[str] = "consent"
    entities: ClassVar[frozenset[str]] = frozenset({"note"})

    def holds(self, who: Attendee, scope: Scope, subject: Subject, ctx: DecisionContext) -> bool:
        assert isinstance(subject, NoteFacts)
        return ctx.has_consent(subject.person_id, subject.category, who.profession)

    def sql(self, who: SqlAttendee, scope: SqlScope, entity: type[Any]) -> ColumnElement[bool]:
        return consent_sql(entity.case_id, entity.category, who.profession, scope.now, scope.today)


@dataclass(frozen=True)
class Purpose(Condition):
    """The viewing purpose: ``individual`` work or a ``huddle``."""

    name: ClassVar[str] = "purpose"
    purpose: str = "individual"

    def holds(self, who: Attendee, scope: Scope, subject: Subject, ctx: DecisionContext) -> bool:
        return scope.purpose == self.purpose

    def sql(self, who: SqlAttendee, scope: SqlScope, entity: type[Any]) -> ColumnElement[bool]:
        return _const(scope.purpose == self.purpose)

    def describe(self) -> str:
        return f"purpose is {self.purpose}"


@dataclass(frozen=True)
class ProfessionIn(Condition):
    """The person belongs to one of the listed professions."""

    name: ClassVar[str] = "profession_in"
    professions: tuple[str, ...] = ()

    def holds(self, who: Attendee, scope: Scope, subject: Subject, ctx: DecisionContext) -> bool:
        return who.profession in self.professions

    def sql(self, who: SqlAttendee, scope: SqlScope, entity: type[Any]) -> ColumnElement[bool]:
        return _const(who.profession in self.professions)

    def describe(self) -> str:
        return "profession is " + " or ".join(self.professions)


@dataclass(frozen=True)
class BreakGlass(Condition):
    """The viewer declared an emergency (break-the-glass) access with a reason."""

    name: ClassVar[str] = "break_glass"

    def holds(self, who: Attendee, scope: Scope, subject: Subject, ctx: DecisionContext) -> bool:
        return scope.break_glass and scope.purpose == "individual"

    def sql(self, who: SqlAttendee, scope: SqlScope, entity: type[Any]) -> ColumnElement[bool]:
        return _const(scope.break_glass and scope.purpose == "individual")


@dataclass(frozen=True)
class Not(Condition):
    """The inner condition does not hold."""

    name: ClassVar[str] = "not"
    inner: Condition | None = None

    def holds(self, who: Attendee, scope: Scope, subject: Subject, ctx: DecisionContext) -> bool:
        assert self.inner is not None
        return not self.inner.holds(who, scope, subject, ctx)

    def sql(self, who: SqlAttendee, scope: SqlScope, entity: type[Any]) -> ColumnElement[bool]:
        assert self.inner is not None
        return not_(self.inner.sql(who, scope, entity))

    def describe(self) -> str:
        return f"not ({self.inner.describe() if self.inner else '?'})"


FLAGS: dict[str, type[Condition]] = {
    c.name: c for c in (CaseMember, SameProfession, Author, Assignee, Consent, BreakGlass)
}
"""Conditions written as a bare word in the policy."""
WITH_ARGUMENT = ("purpose", "profession_in", "not")
"""Conditions written as ``{name: argument}``."""
VOCABULARY = (*FLAGS, *WITH_ARGUMENT)
