"""The huddle: who is present, what they decide, and the tasks their actions become.

A huddle is started by a signed-in person, who is its first attendee. Everyone else
joins by typing their *own* username and passphrase (:func:`join_huddle` checks it under
the sign-in rules: the same waits and lockout), so nobody can be added without their
passphrase. The screen's viewer is :func:`huddle_viewer`: purpose ``huddle`` with the
people present as its audience, so every query shows only the intersection of what each
of them may see; a roster with nobody present sees nothing. Each roster change gives a
new viewer (and the app new screens and sessions).

Joins and leaves are audited in the same unit of work that records them. Decisions and
actions are ``huddle_item`` rows; an action also becomes a task with an assignee and a
due date, disclosed only to whoever may see all the room saw of the case when it was
typed (its sources, see :func:`add_action`). Ending the huddle (``services.minutes``)
stores the minutes.

The screens save through the app's save queue, which makes a save again when its
answer was lost (the connection cut as it committed): each write here is made so it
can be. Someone leaving carries its moment (:func:`left_at` finds it) and a second
leave of someone gone is done. The time spent on each case is in ``services.huddle_time``,
the flags that put a case on the next huddle's agenda in ``services.huddle_flags``.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, replace

from sqlalchemy import select
from sqlalchemy.orm import Session

from anchor_tui.db import models as m
from anchor_tui.db.retry import retry_transient
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Attendee, Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.policy import NoteFacts, TaskFacts
from anchor_tui.services import audit
from anchor_tui.services.auth import authenticate
from anchor_tui.services.backend import Backend
from anchor_tui.services.disclosure import blind_assignee, reason_facts
from anchor_tui.services.huddle_agenda import extend_agenda

MAX_ITEM_LENGTH = 2000
"""A decision or action is a line or two, not a note."""


@dataclass(frozen=True)
class Present:
    """A professional present in the huddle (staff, not client data)."""

    user_id: int
    username: str
    display_name: str
    profession: str
    role: str
    joined_at: dt.datetime


@dataclass(frozen=True)
class Roster:
    """A huddle and the people present now, in the order they joined."""

    huddle_id: int
    started_by_id: int
    started_at: dt.datetime
    present: tuple[Present, ...]

    def professions(self) -> tuple[str, ...]:
        """The professions present, each once, in the order they first joined."""
        return tuple(dict.fromkeys(p.profession for p in self.present))


def huddle_viewer(roster: Roster, starter: Viewer) -> Viewer:
    """The viewer of the shared screen for this roster.

    The audience is everyone present. The chair (the acting user, for records) is the
    earliest attendee still present; with nobody present it stays the starter, whose
    viewer then sees nothing. Never break-the-glass: that is for individual work only.
    """
    chair = roster.present[0] if roster.present else None
    base = starter if chair is None else Viewer(
        user_id=chair.user_id, username=chair.username, display_name=chair.display_name,
        profession=chair.profession, role=chair.role)
    return replace(base, purpose="huddle", huddle_id=roster.huddle_id, break_glass=False,
                   attendees=tuple(Attendee(p.user_id, p.profession) for p in roster.present))


def read_roster(session: Session, huddle_id: int) -> Roster:
    huddle = session.get(m.Huddle, huddle_id)
    if huddle is None:
        raise AnchorError("That huddle is not there any more.", "Start a new huddle.")
    rows = session.execute(
        select(m.User, m.HuddleAttendee.joined_at)
        .join(m.HuddleAttendee, m.HuddleAttendee.user_id == m.User.id)
        .where(m.HuddleAttendee.huddle_id == huddle_id, m.HuddleAttendee.left_at.is_(None))
        .order_by(m.HuddleAttendee.joined_at, m.HuddleAttendee.id)
    ).all()
    present = tuple(Present(u.id, u.username, u.display_name, u.profession, u.role, joined)
                    for u, joined in rows)
    return Roster(huddle.id, huddle.started_by_id, huddle.started_at, present)


def current_roster(backend: Backend, huddle_id: int) -> Roster:
    """Who is present in the huddle now, as the database holds it (ids and names only:
    an administrative read, no protected row)."""
    with backend.sessions.system("huddle: who is present") as session:
        return read_roster(session, huddle_id)


def joined_rosters(first: Roster, second: Roster) -> Roster:
    """Everyone present in either (the earliest join of each, in the order they joined):
    when the database cannot say, the screen counts everyone either roster counts."""
    by_user = {p.user_id: p for p in second.present}
    by_user.update({p.user_id: p for p in first.present
                    if p.user_id not in by_user or p.joined_at <= by_user[p.user_id].joined_at})
    present = tuple(sorted(by_user.values(), key=lambda p: p.joined_at))
    return Roster(first.huddle_id, first.started_by_id, first.started_at, present)


def _ongoing(session: Session, huddle_id: int) -> m.Huddle:
    """The huddle, refused if it has ended. Read ``FOR KEY SHARE`` on PostgreSQL: the
    app's end of a huddle left on (``huddle_left_on``) locks its row ``FOR UPDATE``, so
    a join or a decision made at that moment waits for it and then finds it ended,
    instead of being written into a huddle whose minutes are stored without it. (Joins
    and decisions do not wait for each other; SQLite's writes are one at a time.)"""
    huddle = session.get(m.Huddle, huddle_id,
                         with_for_update={"read": True, "key_share": True})
    if huddle is None or huddle.ended_at is not None:
        raise AnchorError("This huddle has ended.", "Start a new huddle.")
    return huddle


def _by_people(backend: Backend, present: list[int]) -> list[int] | None:
    """Whose cases the agenda's reviews come from: the people present, where every
    profession of the team may see a case's lead and members; else nobody's (the reviews
    due of every open case), since the agenda outlives who was present when it grew and
    would tell anyone who joins whom the others work with."""
    policy = backend.policy
    for profession in backend.team.professions:
        alone = Viewer(-1, "", "", profession, "member")
        if not {"lead", "members"} <= policy.case_fields(alone):
            return None
    return present


def start_huddle(backend: Backend, starter: Viewer, today: dt.date,
                 now: dt.datetime | None = None) -> Roster:
    """Start a huddle with ``starter`` (signed in already) as its first attendee."""
    if starter.purpose != "individual":
        raise AnchorError("A huddle is already on.", "End it first (e on the huddle screen).")
    now = now or utcnow()
    with backend.sessions.write(starter, now) as session:
        huddle = m.Huddle(started_by_id=starter.user_id, started_at=now)
        session.add(huddle)
        session.flush()
        session.add(m.HuddleAttendee(huddle_id=huddle.id, user_id=starter.user_id,
                                     joined_at=now))
        audit.record(session, starter, "huddle.join", object_type="user",
                     object_id=starter.user_id, purpose="huddle", huddle_id=huddle.id)
        extend_agenda(session, backend.team, huddle.id, _by_people(backend, [starter.user_id]),
                      today)
        session.flush()
        return read_roster(session, huddle.id)


def join_huddle(backend: Backend, viewer: Viewer, username: str, passphrase: str,
                today: dt.date, now: dt.datetime | None = None) -> Roster:
    """``username`` joins by their own passphrase (checked under the sign-in rules).

    Raises :class:`~anchor_tui.errors.SignInError` for a wrong passphrase (counted like a
    sign-in) and :class:`AnchorError` when they are present already.
    """
    huddle_id = huddle_id_of(viewer)
    now = now or utcnow()
    roster: list[Roster] = []

    def joined(session: Session, person: Viewer) -> None:
        _ongoing(session, huddle_id)
        if session.scalar(select(m.HuddleAttendee.id).where(
                m.HuddleAttendee.huddle_id == huddle_id,
                m.HuddleAttendee.user_id == person.user_id,
                m.HuddleAttendee.left_at.is_(None))) is not None:
            raise AnchorError(f"{person.display_name} is in the huddle already.",
                              "Each person joins once.")
        session.add(m.HuddleAttendee(huddle_id=huddle_id, user_id=person.user_id,
                                     joined_at=now))
        audit.record(session, viewer, "huddle.join", object_type="user",
                     object_id=person.user_id, purpose="huddle", huddle_id=huddle_id,
                     policy_hash=backend.policy.hash)
        session.flush()
        present = read_roster(session, huddle_id)
        extend_agenda(session, backend.team, huddle_id,
                      _by_people(backend, [p.user_id for p in present.present]), today)
        roster.append(present)

    authenticate(backend, username, passphrase, now, verified=joined)
    return roster[0]


def leave_huddle(backend: Backend, viewer: Viewer, user_id: int,
                 now: dt.datetime | None = None) -> Roster:
    """``user_id`` leaves the huddle (the screen asked for confirmation: it widens).

    Someone who was present and has left already is done, not refused: nothing is
    written or audited twice (a leave made again after its commit's answer was lost).
    ``now`` is the moment they left: a leave made again finds it (:func:`left_at`)."""
    huddle_id = huddle_id_of(viewer)
    now = now or utcnow()
    with backend.sessions.write(viewer, now) as session:
        _ongoing(session, huddle_id)
        stays = session.scalars(select(m.HuddleAttendee).where(
            m.HuddleAttendee.huddle_id == huddle_id,
            m.HuddleAttendee.user_id == user_id)).all()
        if not stays:
            raise AnchorError("That person is not in the huddle.", "Read the roster again.")
        row = next((stay for stay in stays if stay.left_at is None), None)
        if row is not None:
            row.left_at = now
            audit.record(session, viewer, "huddle.leave", object_type="user",
                         object_id=user_id)
            session.flush()
        return read_roster(session, huddle_id)


def left_at(backend: Backend, viewer: Viewer, user_id: int,
            at: dt.datetime) -> Roster | None:
    """The roster after ``user_id`` left the huddle at the moment ``at`` (a first attempt
    of :func:`leave_huddle` whose answer was lost), so the leave made again is said done
    instead of ending a stay they began since; None if they did not leave then."""
    huddle_id = huddle_id_of(viewer)
    with backend.sessions.read(viewer, at) as session:
        if session.scalar(select(m.HuddleAttendee.id).where(
                m.HuddleAttendee.huddle_id == huddle_id, m.HuddleAttendee.user_id == user_id,
                m.HuddleAttendee.left_at == at).limit(1)) is None:
            return None
        return read_roster(session, huddle_id)


def huddle_id_of(viewer: Viewer) -> int:
    if viewer.purpose != "huddle" or viewer.huddle_id is None:
        raise AnchorError("No huddle is on.", "Start one with ctrl+t or “huddle: start”.")
    return viewer.huddle_id


def _check_item(viewer: Viewer, text: str) -> str:
    text = text.strip()
    if not viewer.audience:
        raise AnchorError("Nobody is present in the huddle.",
                          "Someone joins first (+), then decisions can be recorded.")
    if not text:
        raise AnchorError("The text is empty.", "Write the decision or action in a line.")
    if len(text) > MAX_ITEM_LENGTH:
        raise AnchorError(f"The text is longer than {MAX_ITEM_LENGTH} characters.",
                          "Keep it to a line or two; the details belong in a note.")
    return text


@retry_transient
def add_decision(backend: Backend, viewer: Viewer, case_id: int, text: str,
                 now: dt.datetime | None = None) -> int:
    """Record a decision on a case; its id."""
    text = _check_item(viewer, text)
    huddle_id = huddle_id_of(viewer)
    now = now or utcnow()
    with backend.sessions.write(viewer, now) as session:
        _ongoing(session, huddle_id)
        item = m.HuddleItem(huddle_id=huddle_id, case_id=case_id, kind="decision", text=text,
                            created_by_id=viewer.user_id, created_at=now)
        session.add(item)
        session.flush()
        return item.id


ROOM_FIELDS = frozenset({"person_name"})
"""The case fields an action's words may repeat, as the huddle's items count them
(``huddle_agenda.CaseSight``): the young person's name. Each becomes a source of the
action's task when the room sees it."""


@dataclass(frozen=True)
class RoomSight:
    """What the room sees of a case now: its notes (as the policy's facts), fields, and
    the reasons given for changes to it (each as a note of its writer's profession)."""

    notes: tuple[NoteFacts, ...]
    fields: frozenset[str]
    reasons: tuple[NoteFacts, ...] = ()


def room_sight(session: Session, backend: Backend, viewer: Viewer, case_id: int) -> RoomSight:
    """What the people present see of the case, read through the central filter of the
    huddle's session (the intersection of what each of them may see), as
    ``CaseSight.of`` reads it for the huddle's items."""
    person_id = session.scalar(select(m.Case.person_id).where(m.Case.id == case_id))
    if person_id is None:
        raise AnchorError("That case is no longer there.", "Read the agenda again.")
    rows = session.execute(
        select(m.Note.id, m.Note.category, m.Note.author_id, m.Note.author_profession)
        .where(m.Note.case_id == case_id).order_by(m.Note.id)).all()
    notes = tuple(NoteFacts(row.id, case_id, person_id, row.category, row.author_id,
                            row.author_profession) for row in rows)
    # The case view's history on the shared screen shows the reasons the room may read.
    reasons = tuple(reason_facts(reason, person_id) for reason in session.scalars(
        select(m.CaseEventReason).where(m.CaseEventReason.case_id == case_id)
        .order_by(m.CaseEventReason.id)))
    return RoomSight(notes, backend.policy.case_fields(viewer) & ROOM_FIELDS, reasons)


def _refuse_an_assignee_who_would_not_see_it(
        session: Session, backend: Backend, viewer: Viewer, case_id: int, sight: RoomSight,
        assignee_id: int, now: dt.datetime) -> None:
    """An action given to someone who may not see all the room saw of the case would be
    a task they never see (it is disclosed by its sources): refuse it, so the room
    chooses someone who will see it, instead of losing the action in silence."""
    task = TaskFacts(0, case_id, assignee_id, viewer.user_id,
                     source_notes=sight.notes, source_fields=sight.fields,
                     source_reasons=sight.reasons)
    user = blind_assignee(backend, session, assignee_id, task, now)
    if user is not None:
        raise AnchorError(
            f"{user.display_name} may not see all that the huddle sees of this case, so "
            "this action's task would never show to them.",
            "Give it to someone present (who saw what it was said over), or to nobody: "
            "the case's members who may see all of it will find the task.")


@retry_transient
def add_action(backend: Backend, viewer: Viewer, case_id: int, text: str,
               assignee_id: int | None, due: dt.date, today: dt.date,
               now: dt.datetime | None = None) -> int:
    """Record an action: a huddle item and a task with its assignee and due date.

    The task's title is the action's words, typed over what the room saw of the case:
    the task carries that as its sources (``task_source``: the notes the people present
    saw, and the young person's name where they saw it) and is disclosed only to whoever
    may see every source as well (``Policy.attendee_sql``), as the item itself is
    (``huddle_agenda.CaseSight``). An assignee who could not see the task is refused.
    """
    text = _check_item(viewer, text)
    huddle_id = huddle_id_of(viewer)
    if due < today:
        raise AnchorError("The due date is in the past.", "Give today or a later day.")
    now = now or utcnow()
    with backend.sessions.write(viewer, now) as session:
        _ongoing(session, huddle_id)
        if assignee_id is not None and session.scalar(select(m.CaseMember.id).where(
                m.CaseMember.case_id == case_id, m.CaseMember.user_id == assignee_id,
                m.CaseMember.valid_from <= today,
                (m.CaseMember.valid_to.is_(None)) | (m.CaseMember.valid_to >= today))
                .limit(1)) is None:
            raise AnchorError("Only someone who works the case can be given its task.",
                              "Choose one of the case's members, or nobody.")
        sight = room_sight(session, backend, viewer, case_id)
        if assignee_id is not None:
            _refuse_an_assignee_who_would_not_see_it(session, backend, viewer, case_id,
                                                     sight, assignee_id, now)
        task = m.Task(case_id=case_id, title=text[:500], assignee_id=assignee_id, due=due,
                      created_by_id=viewer.user_id, created_at=now)
        session.add(task)
        session.flush()
        session.add_all([m.TaskSource(task_id=task.id, note_id=note.id)
                         for note in sight.notes])
        session.add_all([m.TaskSource(task_id=task.id, field=field)
                         for field in sorted(sight.fields)])
        session.add_all([m.TaskSourceReason(task_id=task.id, reason_id=reason.id)
                         for reason in sight.reasons])
        item = m.HuddleItem(huddle_id=huddle_id, case_id=case_id, kind="action", text=text,
                            task_id=task.id, created_by_id=viewer.user_id, created_at=now)
        session.add(item)
        session.flush()
        return item.id
