"""Editing a case from its view: stage, priority, next review and who works it.

Each edit carries the :class:`CaseState` the person saw. When someone else changed the
case since (another terminal), nothing is written and :class:`CaseConflict` carries both
versions, the change that was wanted and who changed the case meanwhile, so the person
can choose: apply their change on top of the current version, or keep the current one.
Nothing is overwritten unseen. Membership changes also advance the case's version, so
two people changing members at once conflict too.

An edit is saved through the app's save queue, which makes it again when its commit
reached the server but the answer was lost (the connection cut just then). Each edit is
written with the moment ``at`` the person made it, the same for every attempt, and
:func:`change_made_at` finds what a first attempt wrote at that moment: made again, the
edit is said done instead of shown as a conflict with the person's own change (the
version it moved on) or written twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from anchor_tui.db.models import Case, CaseEvent, CaseMember, User
from anchor_tui.db.retry import retry_transient
from anchor_tui.db.types import utcnow
from anchor_tui.domain import PRIORITY_LABELS, MemberChoice, Viewer
from anchor_tui.errors import AnchorError, ConflictError
from anchor_tui.services import case_actions
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import person_label
from anchor_tui.services.case_view import names_workers

FIELDS = ("stage", "priority", "next_review", "member_added", "member_removed")


@dataclass(frozen=True)
class CaseState:
    """A case's editable fields as one person saw them (with the version)."""

    case_id: int
    version: int
    person_label: str
    stage: str
    priority: int
    next_review: dt.date | None
    closed: bool
    lead: str | None
    members: tuple[MemberChoice, ...] | None
    """Who works the case now; None when the viewer may not see members."""


@dataclass(frozen=True)
class CaseChange:
    """One edit: which field and the new value (a user id for member changes)."""

    field: str
    value: str | int | dt.date | None
    closed_reason: str | None = None


class CaseConflict(ConflictError):
    """The case changed since the person saw it; both versions, and who changed it."""

    def __init__(self, seen: CaseState, now: CaseState, wanted: CaseChange,
                 changed_by: tuple[str, ...]) -> None:
        super().__init__(
            f"{now.person_label}'s case was changed by someone else (version {seen.version}"
            f" → {now.version}).", "Nothing was changed. Choose: apply yours to the current "
            "version, or keep the current one.")
        self.seen = seen
        self.now = now
        self.wanted = wanted
        self.changed_by = changed_by


def _active(today: dt.date) -> list[ColumnElement[bool]]:
    return [CaseMember.valid_from <= today,
            or_(CaseMember.valid_to.is_(None), CaseMember.valid_to >= today)]


def _state(backend: Backend, viewer: Viewer, session: Session, case: Case,
           today: dt.date) -> CaseState:
    fields = backend.policy.case_fields(viewer)
    lead = None
    if case.lead_user_id is not None and "lead" in fields:
        lead = session.scalar(select(User.display_name).where(User.id == case.lead_user_id))
    members = None
    if "members" in fields:
        rows = session.execute(
            select(User.id, User.display_name, User.profession)
            .join(CaseMember, CaseMember.user_id == User.id)
            .where(CaseMember.case_id == case.id, *_active(today))
            .distinct().order_by(User.display_name))
        members = tuple(MemberChoice(*row) for row in rows)
    return CaseState(case.id, case.version,
                     person_label(case.person.first_name, case.person.last_name, fields),
                     case.stage, case.priority, case.next_review, case.closed_at is not None,
                     lead, members)


def _load(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise AnchorError("That case is no longer there.", "Go back to the board (Esc).")
    return case


def case_state(backend: Backend, viewer: Viewer, case_id: int, today: dt.date) -> CaseState:
    """The case as it is now, to edit (the version goes back with the edit)."""
    with backend.sessions.read(viewer) as session:
        return _state(backend, viewer, session, _load(session, case_id), today)


def _changed_by(session: Session, fields: frozenset[str], case_id: int, since: dt.datetime
                ) -> tuple[str, ...]:
    """Who changed the case since it was read, named only to a viewer who may be told who
    works the case (the changes may be member changes the viewer may not see)."""
    if not names_workers(fields):
        return ()
    names = session.scalars(
        select(User.display_name).join(CaseEvent, CaseEvent.actor_id == User.id)
        .where(CaseEvent.case_id == case_id, CaseEvent.at >= since).distinct())
    return tuple(sorted(names))


def _conflict(backend: Backend, viewer: Viewer, seen: CaseState, wanted: CaseChange,
              today: dt.date, since: dt.datetime) -> CaseConflict:
    with backend.sessions.read(viewer) as session:
        case = _load(session, seen.case_id)
        return CaseConflict(seen, _state(backend, viewer, session, case, today), wanted,
                            _changed_by(session, backend.policy.case_fields(viewer),
                                        seen.case_id, since))


class _Stale(Exception):
    """The version read in the write is not the one the person saw."""


@contextmanager
def _guarded(backend: Backend, viewer: Viewer, seen: CaseState, wanted: CaseChange,
             today: dt.date, seen_at: dt.datetime) -> Iterator[tuple[Session, Case]]:
    try:
        with backend.sessions.write(viewer) as session:
            case = _load(session, seen.case_id)
            if case.version != seen.version:
                raise _Stale
            yield session, case
            case.updated_at = utcnow()  # members too: every edit advances the version
    except (_Stale, StaleDataError):
        # StaleDataError: changed between our read and our write (PostgreSQL).
        raise _conflict(backend, viewer, seen, wanted, today, seen_at) from None


def _event(session: Session, viewer: Viewer, case_id: int, kind: str,
           from_value: str | None, to_value: str | None, at: dt.datetime | None) -> None:
    session.add(CaseEvent(case_id=case_id, actor_id=viewer.user_id, kind=kind,
                          from_value=from_value, to_value=to_value, at=at or utcnow()))


def _is_member(session: Session, case_id: int, user_id: int, today: dt.date) -> bool:
    return session.scalar(select(CaseMember.id).where(
        CaseMember.case_id == case_id, CaseMember.user_id == user_id,
        *_active(today)).limit(1)) is not None


def apply_change(backend: Backend, viewer: Viewer, seen: CaseState, change: CaseChange, *,
                 today: dt.date, seen_at: dt.datetime | None = None,
                 at: dt.datetime | None = None) -> CaseState:
    """Write one edit at the version ``seen``; the case as it is afterwards.

    ``seen_at`` is when ``seen`` was read (who changed the case since is named in a
    conflict). The edit's history is written at ``at``, the moment the person made it
    (found again by :func:`change_made_at`). Raises :class:`CaseConflict` when the case
    changed meanwhile.
    """
    seen_at = seen_at or utcnow()
    at = at or utcnow()
    if change.field == "stage":
        return _move(backend, viewer, seen, change, today, seen_at, at)
    if change.field not in FIELDS:
        raise ValueError(f"unknown case field {change.field!r}")
    if change.field.startswith("member") and seen.members is None:
        raise AnchorError("Your profession does not see who works a case.",
                          "Ask a colleague who does to change the members.")
    _edit(backend, viewer, seen, change, today, seen_at, at)
    return case_state(backend, viewer, seen.case_id, today)


def _found_as(change: CaseChange) -> tuple[str, ColumnElement[bool]]:
    """The history row an edit writes first: its kind, and its value."""
    if change.field == "stage":
        return "stage", CaseEvent.to_value == str(change.value)
    if change.field == "priority":
        return "priority", CaseEvent.to_value == str(change.value)
    if change.field == "next_review":
        day = change.value if isinstance(change.value, dt.date) else None
        return "next_review", (CaseEvent.to_value.is_(None) if day is None
                               else CaseEvent.to_value == day.isoformat())
    if change.field == "member_added":
        return "member_added", CaseEvent.to_value == str(change.value)
    if change.field == "member_removed":
        return "member_removed", CaseEvent.from_value == str(change.value)
    raise ValueError(f"unknown case field {change.field!r}")


def change_made_at(backend: Backend, viewer: Viewer, seen: CaseState, change: CaseChange,
                   *, today: dt.date, at: dt.datetime) -> CaseState | None:
    """The case as it is now, if :func:`apply_change` wrote ``change`` at the moment
    ``at`` (a first attempt whose answer was lost), else None: the same person, case,
    kind and value, and that moment, which an older edit alike has not."""
    kind, value = _found_as(change)
    if not case_actions.written_at(backend, viewer, seen.case_id, (kind,), value, at):
        return None
    return case_state(backend, viewer, seen.case_id, today)


@retry_transient
def _edit(backend: Backend, viewer: Viewer, seen: CaseState, change: CaseChange,
          today: dt.date, seen_at: dt.datetime, at: dt.datetime) -> None:
    """One edit other than a move, in one unit of work (run again after a deadlock or a
    serialization failure: it still checks the version the person saw)."""
    with _guarded(backend, viewer, seen, change, today, seen_at) as (session, case):
        if change.field == "priority":
            if not isinstance(change.value, int) or change.value not in PRIORITY_LABELS:
                raise AnchorError("Choose high, normal or low.", "Nothing was changed.")
            if change.value == case.priority:
                raise AnchorError("The case already has that priority.", "Nothing to change.")
            _event(session, viewer, case.id, "priority", str(case.priority), str(change.value),
                   at)
            case.priority = change.value
        elif change.field == "next_review":
            day = change.value if isinstance(change.value, dt.date) else None
            if day is not None and day < today:
                raise AnchorError(f"{day.isoformat()} is in the past.", "Choose today or later.")
            if day == case.next_review:
                raise AnchorError("The case already has that review date.", "Nothing to change.")
            _event(session, viewer, case.id, "next_review",
                   case.next_review.isoformat() if case.next_review else None,
                   day.isoformat() if day else None, at)
            case.next_review = day
        elif not isinstance(change.value, int):
            raise ValueError("a member change names a user id")
        elif change.field == "member_added":
            _add_member(session, viewer, case, change.value, today, at)
        else:
            _end_membership(session, viewer, case, change.value, today, at)


def _move(backend: Backend, viewer: Viewer, seen: CaseState, change: CaseChange,
          today: dt.date, seen_at: dt.datetime, at: dt.datetime) -> CaseState:
    try:
        case_actions.move_stage(backend, viewer, seen.case_id, seen.version, str(change.value),
                                closed_reason=change.closed_reason, at=at)
    except ConflictError:
        raise _conflict(backend, viewer, seen, change, today, seen_at) from None
    return case_state(backend, viewer, seen.case_id, today)


def _add_member(session: Session, viewer: Viewer, case: Case, user_id: int,
                today: dt.date, at: dt.datetime) -> None:
    user = session.get(User, user_id)
    if user is None or not user.active:
        raise AnchorError("That person is not an active member of the team.",
                          "Choose someone else.")
    if _is_member(session, case.id, user_id, today):
        raise AnchorError(f"{user.display_name} already works this case.", "Nothing to add.")
    session.add(CaseMember(case_id=case.id, user_id=user_id, valid_from=today))
    _event(session, viewer, case.id, "member_added", None, str(user_id), at)


def _end_membership(session: Session, viewer: Viewer, case: Case, user_id: int,
                    today: dt.date, at: dt.datetime) -> None:
    rows = session.scalars(select(CaseMember).where(
        CaseMember.case_id == case.id, CaseMember.user_id == user_id, *_active(today))).all()
    if not rows:
        raise AnchorError("They do not work this case now.", "Nothing to end.")
    for row in rows:
        # Worked the case until yesterday: from today the policy no longer counts them.
        row.valid_to = today - dt.timedelta(days=1)
    _event(session, viewer, case.id, "member_removed", str(user_id), None, at)
    if case.lead_user_id == user_id:
        _event(session, viewer, case.id, "lead", str(user_id), None, at)
        case.lead_user_id = None


def people_to_add(backend: Backend, viewer: Viewer, seen: CaseState
                  ) -> tuple[MemberChoice, ...]:
    """Active team members of the team's professions who do not work the case now."""
    working = {mc.user_id for mc in seen.members or ()}
    with backend.sessions.read(viewer) as session:
        rows = session.execute(
            select(User.id, User.display_name, User.profession)
            .where(User.active.is_(True), User.profession.in_(backend.team.professions),
                   User.role != "auditor")
            .order_by(User.display_name)).all()
    return tuple(MemberChoice(*row) for row in rows if row[0] not in working)
