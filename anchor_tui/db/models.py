"""The data model (SQLAlchemy 2, typed).

Rows never leave the service layer: screens see the plain dataclasses of
``anchor_tui.domain``. Constraint names are explicit (see ``NAMING``) so that
migrations can refer to them on SQLite and PostgreSQL alike.

Protected tables (``note``, ``draft``, ``task``, ``case_event_reason``, ``form_draft``)
are filtered by the disclosure policy on every ORM query (``anchor_tui.db.session``); a
query without a viewer context fails closed. The shared base is in ``model_base``, the
huddle's tables in ``huddle_models``; every table is imported from here.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import (
    Boolean,
    CheckConstraint,
    Date,
    ForeignKey,
    Index,
    Integer,
    SmallInteger,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from anchor_tui.db.huddle_models import (
    AGENDA_SOURCES,
    Huddle,
    HuddleAttendee,
    HuddleCase,
    HuddleFlag,
    HuddleItem,
)
from anchor_tui.db.model_base import NAMING, PARTIAL_WHERE, Base, in_values, partial_unique_index
from anchor_tui.db.types import utcnow

ROLES = ("member", "lead", "auditor", "admin")
GRANTORS = ("self", "guardian", "legal_representative")
CONSENT_DECISIONS = ("permit", "deny")
PURPOSES = ("individual", "huddle")
CASE_EVENT_KINDS = ("opened", "stage", "priority", "next_review", "lead", "member_added",
                    "member_removed", "screened", "closed", "category")


class User(Base):
    """A professional who signs in. Profession is fixed per user."""

    __tablename__ = "user"
    __table_args__ = (CheckConstraint(in_values("role", ROLES), name="role"),)

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
        CheckConstraint(in_values("grantor", GRANTORS), name="grantor"),
        CheckConstraint(in_values("decision", CONSENT_DECISIONS), name="decision"),
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
        Index("ix_task_from_note_id", "from_note_id"),
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
    from_note_id: Mapped[int | None] = mapped_column(Integer)
    """The note the task was made from (the statutory child-welfare notification, a
    template's follow-up): its title tells of that note, so the task is disclosed only
    to whoever may read the note as well (``Policy.attendee_sql``, migration 0012). Not
    a reference constraint (SQLite adds none without copying the table): a task whose
    note were gone would be shown to nobody, never to more people."""

    __mapper_args__ = {"version_id_col": version}  # noqa: RUF012 - SQLAlchemy reads it once


class TaskSource(Base):
    """What the room saw of a case when an action typed in a huddle became this task.

    The action's words may repeat any of it, so the task (its title is the action) is
    disclosed only to whoever may see every source now: each note (by the note rules)
    and each case field, such as the young person's name (``Policy.attendee_sql``,
    migration 0013). Exactly one of ``note_id`` and ``field`` per row. A source note is
    never deleted on its own (notes are append-only; a case takes its notes and tasks
    with it): a source whose note were gone would hide the task from everyone."""

    __tablename__ = "task_source"
    __table_args__ = (
        CheckConstraint("(note_id IS NULL) <> (field IS NULL)", name="note_or_field"),
        Index("ix_task_source_task_id", "task_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    note_id: Mapped[int | None] = mapped_column(ForeignKey("note.id"))
    field: Mapped[str | None] = mapped_column(String(64))
    """A case field (``policy.document.CASE_FIELDS``), e.g. ``person_name``."""


class Draft(Base):
    """An unsaved note, autosaved; visible to its author only, never in a huddle."""

    __tablename__ = "draft"
    __table_args__ = (
        UniqueConstraint("author_id", "case_id", "supersedes_id"),
        # NULLs are distinct in a unique constraint: one draft of a *new* note per author
        # and case needs its own partial index (migration 0006), which counts the
        # author's own drafts only, not a huddle editor's (0014).
        partial_unique_index("uq_draft_author_id_case_id_new", "author_id", "case_id",
                             where="supersedes_id IS NULL AND huddle_key IS NULL"),
        partial_unique_index("uq_draft_huddle_key", "huddle_key",
                             where="huddle_key IS NOT NULL"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    supersedes_id: Mapped[int | None] = mapped_column(ForeignKey("note.id", ondelete="CASCADE"))
    category: Mapped[str] = mapped_column(String(64))
    template: Mapped[str | None] = mapped_column(String(64))
    body: Mapped[str] = mapped_column(Text, default="")
    updated_at: Mapped[dt.datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    huddle_key: Mapped[str | None] = mapped_column(String(32))
    """Set on the draft of a note written in a huddle: the key of the editor writing it
    (one per editor), so that it is kept apart from the author's own draft of the case
    (``services.drafts``; a huddle corrects no note, so ``supersedes_id`` is None)."""
    tasks: Mapped[str | None] = mapped_column(Text)
    """The tasks typed over the note (F5), kept with its text until the note is saved
    (JSON, read and written by ``services.drafts`` alone; None: none). Seen as the row
    is: by its author alone (0017)."""


class FormDraft(Base):
    """What was typed into a form (a task, a consent, a reason...) whose viewer context
    closed without its author: a takeover at the lock, a switch of user. Kept for its
    author alone, as a draft is (never in a huddle), and given back when they next open
    the same kind of form for the same thing (``services.form_drafts``); removed when
    the form is saved or they discard it."""

    __tablename__ = "form_draft"
    __table_args__ = (
        UniqueConstraint("author_id", "kind", "target"),
        Index("ix_form_draft_case_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="CASCADE"))
    case_id: Mapped[int | None] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    """The case the form was about (None: none): a case removed or erased by retention
    takes its kept forms with it, and the sign-in lists cases the author still sees."""
    kind: Mapped[str] = mapped_column(String(32))
    """Which form (``task``, ``consent``, ``reason:snooze``...)."""
    target: Mapped[str] = mapped_column(String(64))
    """What it was about, as the form names it (``case:12``, ``case:12/note:40``)."""
    fields: Mapped[str] = mapped_column(Text)
    """The fields as typed (a JSON object, read and written by ``services.form_drafts``)."""
    saved_at: Mapped[dt.datetime] = mapped_column(default=utcnow)


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
    them see (``services`` map each kind to its field). Its reason, if one was given, is
    a protected row of its own (``CaseEventReason``).
    """

    __tablename__ = "case_event"
    __table_args__ = (
        CheckConstraint(in_values("kind", CASE_EVENT_KINDS), name="kind"),
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


class CaseEventReason(Base):
    """The reason given for a change to a case (a screening decision, a stage move):
    words about the young person, written in a profession's voice.

    A protected entity, disclosed like a note of its writer's profession (the category
    the note editor would start that profession with), so the history shows a nurse's
    "known to psychiatry" only where a health note would be shown. A row of its own
    (migration 0015): the change itself is a board field everyone who sees the case
    sees, the reason is not, and PostgreSQL's row-level security hides rows, not columns.
    """

    __tablename__ = "case_event_reason"
    __table_args__ = (
        Index("ix_case_event_reason_event_id", "event_id", unique=True),
        Index("ix_case_event_reason_case_id", "case_id"),
    )

    id: Mapped[int] = mapped_column(primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("case_event.id", ondelete="CASCADE"))
    case_id: Mapped[int] = mapped_column(ForeignKey("case.id", ondelete="CASCADE"))
    author_id: Mapped[int] = mapped_column(ForeignKey("user.id", ondelete="RESTRICT"))
    author_profession: Mapped[str] = mapped_column(String(64))
    category: Mapped[str] = mapped_column(String(64))
    text: Mapped[str] = mapped_column(Text)

    event: Mapped[CaseEvent] = relationship()


class TaskSourceReason(Base):
    """A reason given for a change to the case (``CaseEventReason``) that the room read
    when a task was typed in a huddle (an action, or ``t`` in the case view on the
    shared screen): the task's words may repeat it, so it is disclosed only to whoever
    may read the reason too, as with each source note (``TaskSource``; migration 0016).
    A reason erased with its case takes its row with it (the task's title is erased
    then as well)."""

    __tablename__ = "task_source_reason"
    __table_args__ = (Index("ix_task_source_reason_task_id", "task_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    task_id: Mapped[int] = mapped_column(ForeignKey("task.id", ondelete="CASCADE"))
    reason_id: Mapped[int] = mapped_column(ForeignKey("case_event_reason.id",
                                                      ondelete="CASCADE"))


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
        CheckConstraint(in_values("status", CHILD_WELFARE_STATUSES), name="status"),
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


PROTECTED = (Note, Draft, Task, CaseEventReason, FormDraft)
"""Entities whose every ORM query gets the disclosure filter."""

for _entity in PROTECTED:
    # PostgreSQL's row-level security checks a row that INSERT ... RETURNING hands back
    # against what the writer may *see*, and a huddle may write a task that not every
    # attendee sees: the new id comes from the sequence first instead (no RETURNING).
    _entity.__table__.implicit_returning = False  # type: ignore[attr-defined]

__all__ = [
    "AGENDA_SOURCES",
    "NAMING",
    "PARTIAL_WHERE",
    "PROTECTED",
    "AuditEvent",
    "Base",
    "Case",
    "CaseEvent",
    "CaseEventReason",
    "CaseMember",
    "CaseSnooze",
    "ChangeCount",
    "ChildWelfareNotification",
    "Consent",
    "Draft",
    "FormDraft",
    "Huddle",
    "HuddleAttendee",
    "HuddleCase",
    "HuddleFlag",
    "HuddleItem",
    "InputRequest",
    "Note",
    "Person",
    "Task",
    "TaskSource",
    "TaskSourceReason",
    "User",
    "partial_unique_index",
]
