"""What a person does to a case from the board or the queue, one unit of work each.

Moving a stage, taking a case, choosing a lead, assigning a task, snoozing and marking a
case screened. Every change to a case is written to its history (``CaseEvent``) by the
person who made it; a reason given for it (screening, a stage move) is a protected row
of its own, disclosed like a note of its writer's profession. Changes that two people
could make at once carry the version the person saw: if the case (or task) changed
since, nothing is written and a :class:`ConflictError` shows both versions, so the
person can decide again and nothing is silently overwritten.

A change made from the queue or the board is saved through the app's save queue, which
makes it again when a commit reached the server but its answer was lost (the connection
cut just then). Each such change is written with the moment ``at`` the person made it,
the same for every attempt, and has a lookup (``taken_at``, ``lead_chosen_at``,
``screened_at``, ``snoozed_at``, ``task_given``, ``moved_at``) that finds what a first
attempt wrote, so the second attempt says "done" instead of writing it twice or calling
it someone else's change.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from anchor_tui.db.models import Case, CaseEvent, CaseMember, CaseSnooze, Task, User
from anchor_tui.db.retry import retry_transient
from anchor_tui.db.types import utcnow
from anchor_tui.domain import CaseRef, MemberChoice, Viewer
from anchor_tui.errors import AnchorError, ConflictError
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import person_label
from anchor_tui.services.case_view import SOMEONE, names_workers
from anchor_tui.services.disclosure import write_reason
from anchor_tui.settings import TeamConfig

SNOOZE_DAYS = (1, 3, 7, 14)
"""The snooze lengths offered in the queue."""


def _ref(backend: Backend, viewer: Viewer, case: Case, session: Session) -> CaseRef:
    fields = backend.policy.case_fields(viewer)
    lead = None
    if case.lead_user_id is not None and "lead" in fields:
        lead = session.scalar(select(User.display_name).where(User.id == case.lead_user_id))
    return CaseRef(case.id, person_label(case.person.first_name, case.person.last_name, fields),
                   case.category, case.stage, case.version, case.lead_user_id, lead)


def _load(session: Session, case_id: int) -> Case:
    case = session.get(Case, case_id)
    if case is None:
        raise AnchorError("That case is no longer there.", "Read the board again (r).")
    return case


def case_ref(backend: Backend, viewer: Viewer, case_id: int) -> CaseRef:
    """The case as it is now: who, which stage, which version (for a confirmation)."""
    with backend.sessions.read(viewer) as session:
        return _ref(backend, viewer, _load(session, case_id), session)


def _check_version(backend: Backend, viewer: Viewer, case: Case, seen: int, wanted: str,
                   session: Session) -> None:
    if case.version != seen:
        raise _conflict(backend.team, _ref(backend, viewer, case, session), seen, wanted)


def _conflict(team: TeamConfig, now: CaseRef, seen: int, wanted: str) -> ConflictError:
    theirs = f"version {now.version}, stage {team.stage_label(now.stage)}"
    if now.lead:
        theirs += f", lead {now.lead}"
    return ConflictError(
        f"{now.person_label}'s case was changed by someone else. Yours: {wanted} "
        f"(from version {seen}). Now: {theirs}.",
        "Nothing was changed. Read the case again and repeat your change if it still holds.",
    )


@contextmanager
def _guarded(backend: Backend, viewer: Viewer, case_id: int, seen: int,
             wanted: str) -> Iterator[tuple[Session, Case]]:
    """A write unit of work on one case at the version the person saw.

    Another terminal may change the case between our read and our write (PostgreSQL,
    read committed): the versioned UPDATE then matches no row, and that too is a
    conflict rather than a lost update.
    """
    try:
        with backend.sessions.write(viewer) as session:
            case = _load(session, case_id)
            _check_version(backend, viewer, case, seen, wanted, session)
            yield session, case
    except StaleDataError:
        raise _conflict(backend.team, case_ref(backend, viewer, case_id), seen,
                        wanted) from None


def _event(session: Session, viewer: Viewer, case_id: int, kind: str,
           from_value: str | None = None, to_value: str | None = None,
           at: dt.datetime | None = None) -> CaseEvent:
    event = CaseEvent(case_id=case_id, actor_id=viewer.user_id, kind=kind,
                      from_value=from_value, to_value=to_value, at=at or utcnow())
    session.add(event)
    return event


def _event_with_reason(backend: Backend, session: Session, viewer: Viewer, case_id: int,
                       kind: str, from_value: str | None, to_value: str | None,
                       reason: str | None, at: dt.datetime | None = None) -> None:
    """A change with the reason given for it. The change is a board field; the reason is
    the viewer's words about the young person, disclosed like a note of their profession
    (``disclosure.write_reason``), never to every profession that sees the case."""
    write_reason(session, backend, viewer,
                 _event(session, viewer, case_id, kind, from_value, to_value, at), reason)


def _stage_ids(team: TeamConfig) -> dict[str, bool]:
    return {s.id: s.closed for s in team.stages}


def _set_stage(backend: Backend, session: Session, viewer: Viewer, case: Case,
               to_stage: str, closed_reason: str | None, reason: str | None,
               at: dt.datetime | None = None) -> None:
    team = backend.team
    stages = _stage_ids(team)
    if to_stage not in stages:
        raise AnchorError(f"There is no stage '{to_stage}'.", "Choose one of the team's stages.")
    if stages[to_stage]:
        if closed_reason not in {c.id for c in team.closed_reasons}:
            raise AnchorError("Closing a case needs a reason.",
                              "Choose why the case is closed (referred on, no need...).")
        case.closed_at = utcnow()
        case.closed_reason = closed_reason
        _event_with_reason(backend, session, viewer, case.id, "closed", None, closed_reason,
                           reason, at)
    elif case.closed_at is not None:
        case.closed_at = None
        case.closed_reason = None
    _event_with_reason(backend, session, viewer, case.id, "stage", case.stage, to_stage,
                       reason, at)
    case.stage = to_stage


@retry_transient
def move_stage(backend: Backend, viewer: Viewer, case_id: int, seen_version: int,
               to_stage: str, *, closed_reason: str | None = None,
               reason: str | None = None, at: dt.datetime | None = None) -> CaseRef:
    """Move a case to any stage (stages are suggestions, not a lock). Its history is
    written at ``at``, the moment the person moved it (found again by :func:`moved_at`)."""
    team = backend.team
    wanted = f"move to {team.stage_label(to_stage)}"
    with _guarded(backend, viewer, case_id, seen_version, wanted) as (session, case):
        if case.stage == to_stage:
            raise AnchorError(f"The case is already in {team.stage_label(to_stage)}.",
                              "Choose another stage.")
        _set_stage(backend, session, viewer, case, to_stage, closed_reason, reason, at)
    return case_ref(backend, viewer, case_id)


def moved_at(backend: Backend, viewer: Viewer, case_id: int, to_stage: str,
             at: dt.datetime) -> CaseRef | None:
    """The move to ``to_stage`` :func:`move_stage` wrote at ``at``, if it did (the case
    as it is now): made again after its answer was lost, a move is found, not refused
    as a change by someone else (the version it moved on itself)."""
    return _made_at(backend, viewer, case_id, ("stage",), to_stage, at)


def stage_after_screening(team: TeamConfig) -> str:
    """Where a case goes when the team takes it: the first open stage after screening
    (the stage with id ``screening`` if the team has one, otherwise the first stage)."""
    ids = [s.id for s in team.stages]
    start = ids.index("screening") if "screening" in ids else 0
    for stage in team.stages[start + 1:]:
        if not stage.closed:
            return stage.id
    return team.stages[start].id


def closed_stage(team: TeamConfig) -> str | None:
    return next((s.id for s in team.stages if s.closed), None)


@retry_transient
def mark_screened(backend: Backend, viewer: Viewer, case_id: int, seen_version: int, *,
                  take: bool, reason: str, closed_reason: str | None = None,
                  at: dt.datetime | None = None) -> CaseRef:
    """Record the screening decision: take the case on (it moves on) or not (it closes).
    Its history is written at ``at``, the moment the person decided (found again by
    :func:`screened_at`)."""
    reason = reason.strip()
    if not reason:
        raise AnchorError("A screening decision needs a reason.", "Write why, in a line.")
    team = backend.team
    target = stage_after_screening(team) if take else closed_stage(team)
    if target is None:
        raise AnchorError("This team has no closing stage.",
                          "Add a stage with closed: true to anchor.yaml.")
    decision = "take" if take else "not_take"
    wanted = f"screened: {'take' if take else 'not take'}"
    with _guarded(backend, viewer, case_id, seen_version, wanted) as (session, case):
        _event_with_reason(backend, session, viewer, case.id, "screened", case.stage,
                           decision, reason, at)
        if case.stage != target:
            _set_stage(backend, session, viewer, case, target, closed_reason, reason, at)
    return case_ref(backend, viewer, case_id)


def written_at(backend: Backend, viewer: Viewer, case_id: int, kinds: tuple[str, ...],
               value: ColumnElement[bool], at: dt.datetime) -> bool:
    """Whether the viewer wrote a history row of one of ``kinds`` on the case, its value
    matching ``value``, at the moment ``at`` (by a first attempt whose answer was lost).
    Only that save carries its moment: an older identical change has another. The one
    lookup of the queue's changes, the board's moves and the case view's edits."""
    with backend.sessions.read(viewer) as session:
        return session.scalar(select(CaseEvent.id).where(
            CaseEvent.case_id == case_id, CaseEvent.actor_id == viewer.user_id,
            CaseEvent.kind.in_(kinds), value, CaseEvent.at == at).limit(1)) is not None


def _made_at(backend: Backend, viewer: Viewer, case_id: int, kinds: tuple[str, ...],
             to_value: str, at: dt.datetime) -> CaseRef | None:
    """The case as it is now, if the viewer's change of one of ``kinds`` to ``to_value``
    was written at the moment ``at`` (:func:`written_at`), else None."""
    if not written_at(backend, viewer, case_id, kinds, CaseEvent.to_value == to_value, at):
        return None
    return case_ref(backend, viewer, case_id)


def screened_at(backend: Backend, viewer: Viewer, case_id: int, *, take: bool,
                at: dt.datetime) -> CaseRef | None:
    """The screening decision :func:`mark_screened` wrote at ``at``, if it did."""
    return _made_at(backend, viewer, case_id, ("screened",),
                    "take" if take else "not_take", at)


def _active(today: dt.date) -> list[ColumnElement[bool]]:
    return [CaseMember.valid_from <= today,
            or_(CaseMember.valid_to.is_(None), CaseMember.valid_to >= today)]


def case_members(backend: Backend, viewer: Viewer, case_id: int,
                 today: dt.date) -> tuple[MemberChoice, ...]:
    """The people working a case now (to choose a lead or a task's assignee)."""
    if not names_workers(backend.policy.case_fields(viewer)):
        raise AnchorError("Your profession does not see who works a case.",
                          "Ask a colleague who does to choose.")
    with backend.sessions.read(viewer) as session:
        rows = session.execute(
            select(User.id, User.display_name, User.profession)
            .join(CaseMember, CaseMember.user_id == User.id)
            .where(CaseMember.case_id == case_id, *_active(today))
            .distinct().order_by(User.display_name))
        return tuple(MemberChoice(*row) for row in rows)


def _is_member(session: Session, case_id: int, user_id: int, today: dt.date) -> bool:
    return session.scalar(select(CaseMember.id).where(
        CaseMember.case_id == case_id, CaseMember.user_id == user_id,
        *_active(today)).limit(1)) is not None


@retry_transient
def take_case(backend: Backend, viewer: Viewer, case_id: int, seen_version: int, *,
              as_lead: bool, today: dt.date, at: dt.datetime | None = None) -> CaseRef:
    """Become a member of the case (from today), and its lead with ``as_lead``. Its
    history is written at ``at`` (found again by :func:`taken_at`)."""
    wanted = "take the case as lead" if as_lead else "take the case"
    with _guarded(backend, viewer, case_id, seen_version, wanted) as (session, case):
        if not _is_member(session, case_id, viewer.user_id, today):
            session.add(CaseMember(case_id=case_id, user_id=viewer.user_id, valid_from=today))
            _event(session, viewer, case_id, "member_added", None, str(viewer.user_id), at)
        elif not as_lead or case.lead_user_id == viewer.user_id:
            raise AnchorError("You already work this case.", "Nothing to take.")
        if as_lead and case.lead_user_id != viewer.user_id:
            _event(session, viewer, case_id, "lead", _id_text(case.lead_user_id),
                   str(viewer.user_id), at)
            case.lead_user_id = viewer.user_id
    return case_ref(backend, viewer, case_id)


def taken_at(backend: Backend, viewer: Viewer, case_id: int,
             at: dt.datetime) -> CaseRef | None:
    """The take :func:`take_case` wrote at ``at``, if it did: the viewer added as a
    member, or made lead (a member already), at that moment."""
    return _made_at(backend, viewer, case_id, ("member_added", "lead"),
                    str(viewer.user_id), at)


def _id_text(value: int | None) -> str | None:
    return None if value is None else str(value)


@retry_transient
def assign_lead(backend: Backend, viewer: Viewer, case_id: int, seen_version: int,
                user_id: int, today: dt.date, *, at: dt.datetime | None = None) -> CaseRef:
    """Make a member of the case its lead. Its history is written at ``at`` (found
    again by :func:`lead_chosen_at`)."""
    if not {"lead", "members"} <= backend.policy.case_fields(viewer):
        raise AnchorError("Your profession does not see who leads a case.",
                          "Ask a colleague who does to choose the lead.")
    with _guarded(backend, viewer, case_id, seen_version, "choose a new lead") as (
            session, case):
        if not _is_member(session, case_id, user_id, today):
            raise AnchorError("Only someone who works the case can lead it.",
                              "Choose one of the case's members.")
        if case.lead_user_id == user_id:
            raise AnchorError("They already lead this case.", "Choose someone else.")
        _event(session, viewer, case_id, "lead", _id_text(case.lead_user_id), str(user_id),
               at)
        case.lead_user_id = user_id
    return case_ref(backend, viewer, case_id)


def lead_chosen_at(backend: Backend, viewer: Viewer, case_id: int, user_id: int,
                   at: dt.datetime) -> CaseRef | None:
    """The choice of lead :func:`assign_lead` wrote at ``at``, if it did."""
    return _made_at(backend, viewer, case_id, ("lead",), str(user_id), at)


@retry_transient
def assign_task(backend: Backend, viewer: Viewer, task_id: int, seen_version: int,
                user_id: int, today: dt.date) -> None:
    """Give a task (one the viewer may see) to a member of its case."""
    wanted = f"assign it (from version {seen_version})"
    try:
        with backend.sessions.write(viewer) as session:
            task = session.get(Task, task_id)  # the disclosure filter applies to tasks
            if task is None:
                raise AnchorError("That task is no longer there.", "Read the queue again (r).")
            wanted = f"give it to {_name(session, user_id)} (from version {seen_version})"
            if task.version != seen_version:
                raise _task_conflict(session, task, wanted,
                                     names_workers(backend.policy.case_fields(viewer)))
            if not _is_member(session, task.case_id, user_id, today):
                raise AnchorError("Only someone who works the case can be given its task.",
                                  "Choose one of the case's members.")
            _refuse_who_would_not_see_it(backend, session, task, user_id)
            task.assignee_id = user_id
    except StaleDataError:
        # Changed between our read and our write (PostgreSQL, read committed).
        with backend.sessions.read(viewer) as session:
            task = session.get(Task, task_id)
            if task is None:
                raise AnchorError("That task is no longer there.",
                                  "Read the queue again (r).") from None
            raise _task_conflict(session, task, wanted,
                                 names_workers(backend.policy.case_fields(viewer))) from None


def task_given(backend: Backend, viewer: Viewer, task_id: int, seen_version: int,
               user_id: int) -> bool | None:
    """True if the task is ``user_id``'s one change after the version the person saw:
    what :func:`assign_task` writes (a task keeps no history to find the very change
    by; the same change from that version by someone else leaves the same task), so
    a first attempt whose answer was lost is not refused as someone else's change.
    None otherwise.

    A task given to someone else may leave the giver's sight (they neither work its
    case nor made it): then nobody can tell them, through the disclosure filter,
    whether their first attempt gave it. They are told so, not that it is gone."""
    with backend.sessions.read(viewer) as session:
        task = session.get(Task, task_id)  # the disclosure filter applies to tasks
        if task is None:
            name = _name(session, user_id)
            raise AnchorError(
                f"The task may have been given to {name} as you asked: the connection to "
                "the database was cut as it was saved, and the task is no longer one you "
                "may see, so whether it was cannot be read.",
                f"Ask {name} whether it is in their queue; if it is not, ask someone who "
                "works the case to give it.")
        if task.assignee_id == user_id and task.version == seen_version + 1:
            return True
    return None


def _refuse_who_would_not_see_it(backend: Backend, session: Session, task: Task,
                                 user_id: int) -> None:
    """A task made from a note, or a huddle action's, is seen only where what it was made
    from is: given to someone who may not see that, it would vanish from their queue in
    silence. Refused, so it goes to someone who will see it."""
    from anchor_tui.services.disclosure import blind_assignee, task_facts

    user = blind_assignee(backend, session, user_id, task_facts(session, task), utcnow())
    if user is not None:
        raise AnchorError(f"{user.display_name} may not see what this task was made from, "
                          "so it would never show to them.",
                          "Give it to someone who may (or leave it with whoever has it).")


def _name(session: Session, user_id: int | None) -> str:
    if user_id is None:
        return "nobody"
    return session.scalar(select(User.display_name).where(User.id == user_id)) or "?"


def _task_conflict(session: Session, task: Task, wanted: str, named: bool) -> ConflictError:
    """``named``: the viewer may be told who works the case (the assignee does)."""
    who = _name(session, task.assignee_id) if named or task.assignee_id is None \
        else SOMEONE
    return ConflictError(
        f"The task was changed by someone else. Yours: {wanted}. Now: version "
        f"{task.version}, assigned to {who}"
        f"{', done' if task.done_at is not None else ''}.",
        "Nothing was changed. Read the queue again and repeat if it still holds.")


@retry_transient
def snooze_case(backend: Backend, viewer: Viewer, case_id: int, until: dt.date, reason: str,
                today: dt.date, *, at: dt.datetime | None = None) -> None:
    """Hide a case from the viewer's own queue until ``until``, with a reason. The
    snooze is written at ``at`` (found again by :func:`snoozed_at`)."""
    reason = reason.strip()
    if not reason:
        raise AnchorError("Snoozing needs a reason.", "Write why, in a line.")
    if until <= today:
        raise AnchorError("A snooze must end after today.", "Choose a later day.")
    with backend.sessions.write(viewer) as session:
        _load(session, case_id)
        session.add(CaseSnooze(case_id=case_id, user_id=viewer.user_id, until=until,
                               reason=reason, created_at=at or utcnow()))


def snoozed_at(backend: Backend, viewer: Viewer, case_id: int, until: dt.date, reason: str,
               at: dt.datetime) -> int | None:
    """The snooze :func:`snooze_case` wrote at ``at`` (its id), if it did: the same
    person, case, day and reason, and that moment, which an older snooze alike has not."""
    with backend.sessions.read(viewer) as session:
        return session.scalar(select(CaseSnooze.id).where(
            CaseSnooze.user_id == viewer.user_id, CaseSnooze.case_id == case_id,
            CaseSnooze.until == until, CaseSnooze.reason == reason.strip(),
            CaseSnooze.created_at == at).limit(1))
