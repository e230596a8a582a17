"""The data model (SQLAlchemy 2, typed).

Rows never leave the service layer: screens see the plain dataclasses of
``anchor_tui.domain``. Constraint names are explicit (see ``NAMING``) so that
migrations can refer to them on SQLite and PostgreSQL alike.

Protected tables (``note``, ``draft``, ``task``) are filtered by the disclosure
policy on every ORM query (``anchor_tui.db.session``); a query without a viewer
context fails closed.
"""

from __future__ import annotations

import datetime as dt
from typing import Any, ClassVar

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

from anchor_tui.db.types import UTCDateTime, utcnow

NAMING = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

ROLES = ("member", "lead", "auditor", "admin")
GRANTORS = ("self", "guardian", "legal_representative")
CONSENT_DECISIONS = ("permit", "deny")
PURPOSES = ("individual", "huddle")
CASE_EVENT_KINDS = ("opened", "stage", "priority", "next_review", "lead", "member_added",
                    "member_removed", "screened", "closed", "category")


def _in(column: str, values: tuple[str, ...]) -> str:
    quoted = ", ".join(f"'{v}'" for v in values)
    return f"{column} IN ({quoted})"


def partial_unique_index(name: str, *columns: str, where: str) -> Index:
    """A unique index over the rows where ``where`` (SQL, the same on both databases) holds.

    The predicate is kept in the index's ``info`` (``PARTIAL_WHERE``), not given as
    ``sqlite_where=`` / ``postgresql_where=``: naming a dialect's option makes SQLAlchemy
    import that dialect to check it, so the models would load PostgreSQL's dialect into
    every SQLite app (and SQLite's into every PostgreSQL one), about 2.4 MiB of a launch
    for nothing. The schema is made only by the migrations, which create these indexes
    with their predicates; a test checks the migrated indexes against ``info``.
    """
    return Index(name, *columns, unique=True, info={PARTIAL_WHERE: where})


PARTIAL_WHERE = "anchor_partial_where"
"""The ``info`` key of a partial index's predicate (``partial_unique_index``)."""


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING)
    type_annotation_map: ClassVar[dict[Any, Any]] = {dt.datetime: UTCDateTime()}


class User(Base):
    """A professional who signs in. Profession is fixed per user."""

    __tablename__ = "user"
    __table_args__ = (CheckConstraint(_in("role", ROLES), name="role"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    username: Mapped[str] = mapped_column(String(64), unique=True)
    display_name: Mapped[str] = mapped_column(String(200))
    profession: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(16), default="member")
    passphrase_hash: Mapped[str] = mapped_column(String(255))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    failed_sign_ins: Mapped[int] = mapped_column(Integer, default=0)
    locked_until: Mapped[dt.datetime | None]
    retry_after: Mapped[dt.datetime | None]
    """No sign-in is tried before this moment: the growing wait after a wrong passphrase."""
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class Person(Base):
    """The young person a case concerns."""

    __tablename__ = "person"

    id: Mapped[int] = mapped_column(primary_key=True)
    first_name: Mapped[str] = mapped_column(String(200))
    last_name: Mapped[str] = mapped_column(String(200))
    birth_date: Mapped[dt.date | None] = mapped_column(Date)
    municipality: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    erased_at: Mapped[dt.datetime | None]
    """When retention erased the name and details (a placeholder remains)."""


class Case(Base):
    """One case on the board. ``version`` guards against lost updates."""

    __tablename__ = "case"
    __table_args__ = (
        CheckConstraint("priority BETWEEN 1 AND 3", name="priority"),
        Index("ix_case_stage_priority_id", "stage", "priority", "id"),
        Index("ix_case_next_review", "next_review"),
        Index("ix_case_person_id", "person_id"),
        Index("ix_case_lead_user_id", "lead_user_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="RESTRICT"))
    category: Mapped[str] = mapped_column(String(64))
    stage: Mapped[str] = mapped_column(String(64))
    priority: Mapped[int] = mapped_column(SmallInteger, default=2)
    """1 high, 2 normal, 3 low."""
    opened_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    closed_at: Mapped[dt.datetime | None]
    closed_reason: Mapped[str | None] = mapped_column(String(64))
    next_review: Mapped[dt.date | None] = mapped_column(Date)
    lead_user_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    summary: Mapped[str] = mapped_column(Text, default="")
    """Why the case was opened, in a line (visible per the policy's case fields)."""
    version: Mapped[int] = mapped_column(Integer, default=1)
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    erased_at: Mapped[dt.datetime | None]
    """When retention erased the case's content (ids and history kinds remain)."""

    person: Mapped[Person] = relationship(lazy="joined", innerjoin=True)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once


class CaseMember(Base):
    """A professional working a case: the verified client relationship, from/to."""

    __tablename__ = "case_member"
    __table_args__ = (
        # Both cover the board filter's membership tests (who works a case now).
        Index("ix_case_member_user_id_case_id", "user_id", "case_id", "valid_from", "valid_to"),
        Index("ix_case_member_case_id", "case_id", "user_id", "valid_from", "valid_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)


class Note(Base):
    """Append-only. A correction is a new row that supersedes the old one.

    Only ``entered_in_error`` and its reason may change after writing; the database
    refuses other updates and any delete (triggers in the first migration).
    """

    __tablename__ = "note"
    __table_args__ = (
        Index("ix_note_case_id_created_at", "case_id", "created_at"),
        # A note is corrected at most once: a second correction must revise the newest
        # revision, so two terminals cannot fork a note's history (migration 0006).
        Index("ix_note_supersedes_id", "supersedes_id", unique=True),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="RESTRICT"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    author_profession: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    template: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    revision: Mapped[int] = mapped_column(Integer, default=1)
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("note.id", ondelete="RESTRICT"))
    entered_in_error: Mapped[bool] = mapped_column(Boolean, default=False)
    error_reason: Mapped[str | None] = mapped_column(Text)
    erased_at: Mapped[dt.datetime | None]
    """Set once by retention together with an empty body (the only body change the
    database allows, migration 0004)."""


class Consent(Base):
    """A consent or refusal by the young person, a guardian or a legal representative."""

    __tablename__ = "consent"
    __table_args__ = (
        CheckConstraint(_in("grantor", GRANTORS), name="grantor"),
        CheckConstraint(_in("decision", CONSENT_DECISIONS), name="decision"),
        CheckConstraint("valid_to IS NULL OR valid_to >= valid_from", name="period"),
        Index("ix_consent_lookup", "person_id", "category", "receiving_profession"),
        Index("ix_consent_valid_to", "valid_to"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    person_id: Mapped[int] = mapped_column(ForeignKey("person.id", ondelete="CASCADE"))
    grantor: Mapped[str] = mapped_column(String(32))
    decision: Mapped[str] = mapped_column(String(8))
    category: Mapped[str] = mapped_column(String(64))
    receiving_profession: Mapped[str] = mapped_column(String(64))
    valid_from: Mapped[dt.date] = mapped_column(Date)
    valid_to: Mapped[dt.date | None] = mapped_column(Date)
    withdrawn_at: Mapped[dt.datetime | None]
    recorded_by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    recorded_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    evidence: Mapped[str] = mapped_column(Text, default="")


class Task(Base):
    """A follow-up on a case."""

    __tablename__ = "task"
    __table_args__ = (
        Index("ix_task_assignee_id_due", "assignee_id", "due"),
        Index("ix_task_case_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(500))
    assignee_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="SET NULL"))
    due: Mapped[dt.date | None] = mapped_column(Date)
    done_at: Mapped[dt.datetime | None]
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    version: Mapped[int] = mapped_column(Integer, default=1)

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once


class Draft(Base):
    """An unsaved note, autosaved; visible to its author only, never in a huddle."""

    __tablename__ = "draft"
    __table_args__ = (
        UniqueConstraint("author_id", "case_id", "supersedes_id"),
        # NULLs are distinct in a unique constraint: one draft of a *new* note per author
        # and case needs its own partial index (migration 0006).
        partial_unique_index("uq_draft_author_id_case_id_new", "author_id", "case_id",
                             where="supersedes_id IS NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("note.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(64))
    template: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)


class Huddle(Base):
    """A daily huddle at the shared terminal."""

    __tablename__ = "huddle"

    id: Mapped[int] = mapped_column(primary_key=True)
    started_by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    started_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    ended_at: Mapped[dt.datetime | None]
    minutes: Mapped[str | None] = mapped_column(Text)


class HuddleAttendee(Base):
    __tablename__ = "huddle_attendee"
    __table_args__ = (Index("ix_huddle_attendee_huddle_id", "huddle_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    huddle_id: Mapped[int] = mapped_column(ForeignKey("huddle.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    joined_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    left_at: Mapped[dt.datetime | None]


class HuddleItem(Base):
    """A decision or action captured in a huddle (an action also becomes a task)."""

    __tablename__ = "huddle_item"
    __table_args__ = (
        CheckConstraint("kind IN ('decision', 'action')", name="kind"),
        Index("ix_huddle_item_huddle_id", "huddle_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    huddle_id: Mapped[int] = mapped_column(ForeignKey("huddle.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    kind: Mapped[str] = mapped_column(String(16))
    text: Mapped[str] = mapped_column(Text)
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="SET NULL"))
    created_by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class AuditEvent(Base):
    """Who did what, when, under which policy. Ids only: never note text.

    ``prev_hash``/``hash`` form a keyed hash chain (filled in by the audit issue).
    """

    __tablename__ = "audit_event"
    __table_args__ = (
        Index("ix_audit_event_object", "object_type", "object_id"),
        Index("ix_audit_event_actor_id_at", "actor_id", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    action: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(16))
    huddle_id: Mapped[int | None] = mapped_column(ForeignKey("huddle.id", ondelete="RESTRICT"))
    person_id: Mapped[int | None] = mapped_column(Integer)
    object_type: Mapped[str | None] = mapped_column(String(32))
    object_id: Mapped[int | None] = mapped_column(Integer)
    policy_hash: Mapped[str | None] = mapped_column(String(64))
    rule_ids: Mapped[str | None] = mapped_column(Text)
    consent_ids: Mapped[str | None] = mapped_column(Text)
    """The consents a disclosure rested on (comma-separated ids), for the ledger."""
    prev_hash: Mapped[str | None] = mapped_column(String(64))
    hash: Mapped[str | None] = mapped_column(String(64))


class CaseEvent(Base):
    """One change to a case (stage, priority, review date, lead, members, screening).

    The case's history. Shown to a viewer only for the case fields the policy lets
    them see (``services`` map each kind to its field).
    """

    __tablename__ = "case_event"
    __table_args__ = (
        CheckConstraint(_in("kind", CASE_EVENT_KINDS), name="kind"),
        Index("ix_case_event_case_id_at", "case_id", "at"),
        Index("ix_case_event_kind_at", "kind", "at"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    actor_id: Mapped[int | None] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    kind: Mapped[str] = mapped_column(String(32))
    from_value: Mapped[str | None] = mapped_column(String(200))
    to_value: Mapped[str | None] = mapped_column(String(200))
    reason: Mapped[str | None] = mapped_column(Text)


class CaseSnooze(Base):
    """A case put aside in one person's queue until a day, with a reason."""

    __tablename__ = "case_snooze"
    __table_args__ = (Index("ix_case_snooze_user_id_until", "user_id", "until"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    user_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    until: Mapped[dt.date] = mapped_column(Date)
    reason: Mapped[str] = mapped_column(Text)
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


class InputRequest(Base):
    """A profession's input asked on a case ("waiting for my profession")."""

    __tablename__ = "input_request"
    __table_args__ = (
        Index("ix_input_request_profession_answered_at", "profession", "answered_at"),
        Index("ix_input_request_case_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    profession: Mapped[str] = mapped_column(String(64))
    asked_by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    asked_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    question: Mapped[str] = mapped_column(Text, default="")
    answered_at: Mapped[dt.datetime | None]


CHILD_WELFARE_STATUSES = ("pending", "notified")


class ChildWelfareNotification(Base):
    """The statutory child-welfare notification a note called for (Child Welfare Act).

    Police, youth work and health must notify child welfare of a concern about a minor
    whatever their secrecy. Saving such a note records a ``pending`` notification and a
    task in the same unit of work (so the duty survives a crash); the author then records
    how and to whom it was made (``notified``). Read by its notifier only; no note text.
    """

    __tablename__ = "child_welfare_notification"
    __table_args__ = (
        CheckConstraint(_in("status", CHILD_WELFARE_STATUSES), name="status"),
        Index("ix_child_welfare_notification_notifier_id_status", "notifier_id", "status"),
        Index("ix_child_welfare_notification_case_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    note_id: Mapped[int] = mapped_column(ForeignKey("note.id", ondelete="RESTRICT"))
    notifier_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    notifier_profession: Mapped[str] = mapped_column(String(64))
    status: Mapped[str] = mapped_column(String(16), default="pending")
    created_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    notified_at: Mapped[dt.datetime | None]
    method: Mapped[str | None] = mapped_column(String(32))
    """How it was made: ``phone``, ``electronic``, ``letter`` or ``in_person``."""
    recipient: Mapped[str] = mapped_column(Text, default="")
    """To whom (the municipality's child welfare services, an emergency social service)."""
    reference: Mapped[str] = mapped_column(Text, default="")
    """The notification's reference or case number at child welfare, if given."""
    task_id: Mapped[int | None] = mapped_column(ForeignKey("task.id", ondelete="SET NULL"))
    """The open task of the notification (make it; then check the response)."""


AGENDA_SOURCES = ("notification", "review", "flagged")


class HuddleFlag(Base):
    """A case someone flagged for the next huddle; cleared once a huddle discussed it.

    Deliberately without a free-text reason: a flag is seen by every profession in the
    huddle, and text here would bypass the disclosure policy.
    """

    __tablename__ = "huddle_flag"
    __table_args__ = (
        partial_unique_index("uq_huddle_flag_open_case_id", "case_id",
                             where="cleared_at IS NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    flagged_by_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    flagged_at: Mapped[dt.datetime] = mapped_column(default=utcnow)
    cleared_at: Mapped[dt.datetime | None]
    cleared_in_huddle_id: Mapped[int | None] = mapped_column(
        ForeignKey("huddle.id", ondelete="SET NULL"))


class HuddleCase(Base):
    """A case on a huddle's agenda: its place, why it is there and the time spent on it."""

    __tablename__ = "huddle_case"
    __table_args__ = (
        UniqueConstraint("huddle_id", "case_id"),
        CheckConstraint(_in("source", AGENDA_SOURCES), name="source"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    huddle_id: Mapped[int] = mapped_column(ForeignKey("huddle.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    source: Mapped[str] = mapped_column(String(16))
    seconds_spent: Mapped[int] = mapped_column(Integer, default=0)


class ChangeCount(Base):
    """SQLite's live-update signal: triggers count changes to what boards and queues
    show, terminals poll the count (``db/change_feed.py``). PostgreSQL notifies instead
    and leaves this table empty."""

    __tablename__ = "change_count"

    id: Mapped[int] = mapped_column(primary_key=True)
    changes: Mapped[int] = mapped_column(Integer, default=0)


class StageCount(Base):
    """How many cases each stage holds, kept by triggers on ``case`` in the same
    transaction as the change (``db/stage_counts.py``): the unfiltered board's counts."""

    __tablename__ = "stage_count"

    stage: Mapped[str] = mapped_column(String(64), primary_key=True)
    cases: Mapped[int] = mapped_column(Integer, default=0)


PROTECTED = (Note, Draft, Task)
"""Entities whose every ORM query gets the disclosure filter."""

for _entity in PROTECTED:
    # PostgreSQL's row-level security checks a row that INSERT ... RETURNING hands back
    # against what the writer may *see*, and a huddle may write a task that not every
    # attendee sees: the new id comes from the sequence first instead (no RETURNING).
    _entity.__table__.implicit_returning = False  # type: ignore[attr-defined]

__all__ = [
    "PROTECTED",
    "AuditEvent",
    "Base",
    "Case",
    "CaseEvent",
    "CaseMember",
    "CaseSnooze",
    "ChangeCount",
    "ChildWelfareNotification",
    "Consent",
    "Draft",
    "Huddle",
    "HuddleAttendee",
    "HuddleCase",
    "HuddleFlag",
    "HuddleItem",
    "InputRequest",
    "Note",
    "Person",
    "Task",
    "User",
]
