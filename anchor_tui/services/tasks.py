"""Follow-up tasks on a case: add one, mark it done, and the follow-ups templates schedule.

A task is assigned to someone who works the case (or to nobody yet) and may have a due
day (typed naturally, see ``services.due_dates``). Tasks are protected records: every read
here passes the disclosure filter (visible to the case's members, the assignee and the
creator; a task made from a note, or from a huddle action, only to those of them who may
see what it tells of: ``policy.engine``). Marking a task done carries the version the
person saw, so a task someone else changed meanwhile is not silently overwritten, and
the moment they marked it, so a mark made again after its commit's answer was lost is
found done (:func:`completed_at`) rather than refused as already done. Adding a task
likewise carries the moment the person added it, so an addition made again after a lost
answer finds the task it wrote (:func:`added_at`) instead of adding it twice.

A task typed by hand tells of what it was typed over, as an action does:

- in the note editor (F5), of the note being written: it is kept with the editor
  (:class:`NoteTask`) and saved with the note, made from it (``from_note_id``), in the
  note's unit of work, so its title never reaches anyone the note does not; a note never
  saved takes its tasks with it;
- in a huddle (``t`` in the case view on the shared screen), of what the room sees of the
  case: the task carries it as its sources (``task_source``), as an action's does.

Whoever it is given to must see it: an assignee who could not is refused, with the fix.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import ColumnElement, or_, select
from sqlalchemy.orm import Session
from sqlalchemy.orm.exc import StaleDataError

from anchor_tui.db.models import (
    Case,
    CaseMember,
    ChildWelfareNotification,
    Note,
    Task,
    TaskSource,
    TaskSourceReason,
    User,
)
from anchor_tui.db.retry import retry_transient
from anchor_tui.db.types import utcnow
from anchor_tui.domain import MemberChoice, Viewer
from anchor_tui.errors import AnchorError, ConflictError
from anchor_tui.policy import NoteFacts, TaskFacts
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import person_label
from anchor_tui.services.case_view import names_workers, worker_label
from anchor_tui.services.disclosure import blind_assignee, note_facts
from anchor_tui.services.huddle import RoomSight, room_sight
from anchor_tui.services.note_text import clean_text
from anchor_tui.settings import NoteTemplate

MAX_TITLE = 500


@dataclass(frozen=True)
class TaskForm:
    """What the new-task form offers for one case."""

    case_id: int
    person_label: str
    members: tuple[MemberChoice, ...]
    """Who the task may be given to (active members the viewer may see)."""
    default_assignee: int | None


@dataclass(frozen=True)
class OpenTask:
    """A task not yet done, as the "mark done" list shows it."""

    task_id: int
    version: int
    title: str
    due: dt.date | None
    assignee: str | None
    notification_id: int | None = None
    """The viewer's pending child-welfare notification this task stands for, if any:
    marking it done means recording the notification."""


@dataclass(frozen=True)
class AddedTask:
    task_id: int
    title: str
    due: dt.date | None
    assignee: str | None


@dataclass(frozen=True)
class NoteTask:
    """A task typed in the note editor (F5) while its note is not saved yet: checked
    (:func:`check_note_task`), kept with the editor and saved with the note, made from
    it (:func:`add_note_tasks`). Its title is typed over the note, so it is never saved
    on its own: a note discarded takes it with it; a note left as a draft keeps it
    (``services.drafts``)."""

    title: str
    due: dt.date | None
    assignee_id: int | None
    in_huddle: bool = False
    """Typed in a huddle, over what the room saw (saved there, it is shown only to whoever
    may see all of that). Kept in the huddle's draft and brought into its author's own
    one, it is not saved with a note of their own work as it is: what the room saw is
    not known there, and the task would reach whoever may read the note. Its author
    checks it again in the task form first (a task of their own from then on)."""


def _active(today: dt.date) -> list[ColumnElement[bool]]:
    return [CaseMember.valid_from <= today,
            or_(CaseMember.valid_to.is_(None), CaseMember.valid_to >= today)]


def _members(session: Session, case_id: int, today: dt.date) -> tuple[MemberChoice, ...]:
    rows = session.execute(
        select(User.id, User.display_name, User.profession)
        .join(CaseMember, CaseMember.user_id == User.id)
        .where(CaseMember.case_id == case_id, *_active(today))
        .distinct().order_by(User.display_name))
    return tuple(MemberChoice(*row) for row in rows)


def is_member(session: Session, case_id: int, user_id: int, today: dt.date) -> bool:
    return session.scalar(select(CaseMember.id).where(
        CaseMember.case_id == case_id, CaseMember.user_id == user_id,
        *_active(today)).limit(1)) is not None


def task_form(backend: Backend, viewer: Viewer, case_id: int, today: dt.date) -> TaskForm:
    """The case's label and who a new task may be given to."""
    fields = backend.policy.case_fields(viewer)
    with backend.sessions.read(viewer) as session:
        case = session.get(Case, case_id)
        if case is None:
            raise AnchorError(f"Case {case_id} is not there any more.",
                              "Go back to the board and press r to read it again.")
        members = _members(session, case_id, today)
        label = person_label(case.person.first_name, case.person.last_name, fields)
    if "members" not in fields:
        # Without the members field the viewer sees only themself among the assignees,
        # and a huddle nobody: offering its chair exactly where the chair works the case
        # would tell the room whom the chair works with.
        members = tuple(mc for mc in members if mc.user_id == viewer.user_id
                        and viewer.purpose == "individual")
    mine = any(mc.user_id == viewer.user_id for mc in members)
    return TaskForm(case_id, label, members, viewer.user_id if mine else None)


def clean_title(title: str) -> str:
    """A task title: one line, visible characters, not empty, not too long."""
    text = " ".join(clean_text(title).split())
    if not text:
        raise AnchorError("A task needs a title.", "Write what is to be done, in a line.")
    if len(text) > MAX_TITLE:
        raise AnchorError(f"The title is {len(text)} characters long.",
                          f"Keep it to {MAX_TITLE} characters; the details go in a note.")
    return text


def new_task(session: Session, viewer: Viewer, case_id: int, title: str,
             due: dt.date | None, assignee_id: int | None, today: dt.date, *,
             from_note_id: int | None = None, at: dt.datetime | None = None) -> Task:
    """Add a task inside the caller's unit of work (a note's save, a huddle action).

    ``from_note_id``: the note the task is made from, whose title tells of it (the
    statutory notification a concern calls for, a template's follow-up): the task is
    then disclosed only to whoever may read that note as well. ``at``: the moment the
    person made it, written as its created time (the time of the save if not given)."""
    if due is not None and due < today:
        raise AnchorError(f"{due.isoformat()} is in the past.", "Choose today or later.")
    if assignee_id is not None and not is_member(session, case_id, assignee_id, today):
        raise AnchorError("Only someone who works the case can be given its task.",
                          "Choose one of the case's members.")
    task = Task(case_id=case_id, title=clean_title(title), assignee_id=assignee_id, due=due,
                created_by_id=viewer.user_id, from_note_id=from_note_id)
    if at is not None:
        task.created_at = at
    session.add(task)
    session.flush()
    return task


@dataclass(frozen=True)
class _Typed:
    """What a task typed by hand tells of, besides itself: the note it was typed over
    (F5 in the note editor) and, in a huddle, what the room sees of the case."""

    note: NoteFacts | None
    room: RoomSight | None

    def facts(self, case_id: int, viewer: Viewer, assignee_id: int | None) -> TaskFacts:
        return TaskFacts(0, case_id, assignee_id, viewer.user_id, from_note=self.note,
                         source_notes=self.room.notes if self.room else (),
                         source_fields=self.room.fields if self.room else frozenset(),
                         source_reasons=self.room.reasons if self.room else ())

    def what(self, policy_label: str) -> str:
        told = [f"this {policy_label.lower()} note"] if self.note is not None else []
        if self.room is not None:
            told.append("all that the huddle sees of this case")
        return " and ".join(told)


def _typed_over(session: Session, backend: Backend, viewer: Viewer, case_id: int,
                note: NoteFacts | None) -> _Typed:
    """What a task typed now by ``viewer`` tells of (see :class:`_Typed`). In a huddle,
    what the room sees is read by the huddle's actions' own reading (``services.huddle``),
    so a task typed there and an action typed there are disclosed alike."""
    if viewer.purpose == "individual":
        return _Typed(note, None)
    if not viewer.audience:
        raise AnchorError("Nobody is present in the huddle.",
                          "Someone joins first (+), then tasks can be added.")
    return _Typed(note, room_sight(session, backend, viewer, case_id))


def _refuse_who_would_not_see_it(backend: Backend, session: Session, viewer: Viewer,
                                 case_id: int, typed: _Typed, assignee_id: int | None,
                                 now: dt.datetime) -> None:
    """A task given to someone who may not see what it tells of would never show to
    them (it is disclosed by what it was typed over): refused, as a huddle's action is,
    so it goes to someone who will see it instead of being lost in silence."""
    if assignee_id is None or (typed.note is None and typed.room is None):
        return
    user = blind_assignee(backend, session, assignee_id,
                          typed.facts(case_id, viewer, assignee_id), now)
    if user is not None:
        label = ""
        if typed.note is not None:
            category = backend.policy.categories.get(typed.note.category)
            label = category.label if category is not None else typed.note.category
        raise AnchorError(
            f"{user.display_name} may not see {typed.what(label)}, so this task would "
            "never show to them.",
            "Give it to someone who may see it, or to nobody: the case's members who may "
            "see it will find the task.")


def _with_sources(session: Session, task: Task, typed: _Typed) -> None:
    """What the room saw, as the task's sources (``task_source``), as an action's."""
    if typed.room is None:
        return
    session.add_all([TaskSource(task_id=task.id, note_id=note.id)
                     for note in typed.room.notes])
    session.add_all([TaskSource(task_id=task.id, field=field)
                     for field in sorted(typed.room.fields)])
    session.add_all([TaskSourceReason(task_id=task.id, reason_id=reason.id)
                     for reason in typed.room.reasons])
    session.flush()


@retry_transient
def add_task(backend: Backend, viewer: Viewer, case_id: int, title: str,
             due: dt.date | None, assignee_id: int | None, today: dt.date,
             now: dt.datetime | None = None, *, at: dt.datetime | None = None) -> AddedTask:
    """Add a follow-up to a case, in a unit of work of its own.

    In a huddle the title is typed on the shared screen, over what the room sees of the
    case: the task carries that as its sources and is disclosed only to whoever may see
    all of it, as a huddle action's task is (an assignee who could not is refused).

    ``at`` is the moment the person added it (the time of the save if not given),
    written as the task's created time: the same for every attempt of one save, so
    :func:`added_at` finds what a first attempt wrote when its commit's answer was
    lost. (``now`` is the moment what the task may tell of is judged at, as before.)"""
    now = now or utcnow()
    with backend.sessions.write(viewer, now) as session:
        if session.get(Case, case_id) is None:
            raise AnchorError(f"Case {case_id} is not there any more.",
                              "Go back to the board and press r to read it again.")
        typed = _typed_over(session, backend, viewer, case_id, None)
        _refuse_who_would_not_see_it(backend, session, viewer, case_id, typed, assignee_id,
                                     now)
        task = new_task(session, viewer, case_id, title, due, assignee_id, today, at=at)
        _with_sources(session, task, typed)
        assignee = session.scalar(select(User.display_name).where(
            User.id == assignee_id)) if assignee_id is not None else None
        return AddedTask(task.id, task.title, task.due, assignee)


def added_at(backend: Backend, viewer: Viewer, case_id: int, title: str,
             at: dt.datetime, now: dt.datetime | None = None) -> AddedTask | None:
    """The task :func:`add_task` wrote for this person on this case with this title at
    the moment ``at`` (a first attempt whose answer was lost, the connection cut as it
    committed), so the attempt made again says added instead of adding it twice. None
    if there is none: an older task alike carries another moment, and is never taken
    for it. Read through the disclosure filter (as of ``now``, as the task was added),
    as any read of a task."""
    text = clean_title(title)
    with backend.sessions.read(viewer, now) as session:
        row = session.execute(
            select(Task.id, Task.title, Task.due, User.display_name)
            .outerjoin(User, User.id == Task.assignee_id)
            .where(Task.case_id == case_id, Task.created_by_id == viewer.user_id,
                   Task.title == text, Task.created_at == at)
            .order_by(Task.id).limit(1)).first()
    return None if row is None else AddedTask(*row)


def check_note_task(backend: Backend, viewer: Viewer, case_id: int, category: str,
                    title: str, due: dt.date | None, assignee_id: int | None,
                    today: dt.date, now: dt.datetime | None = None) -> NoteTask:
    """A task typed in the note editor (F5) over a note of ``category`` not saved yet,
    checked as its save with the note will check it (title, due day, an assignee who
    works the case and may read such a note, and in a huddle all the room sees), to be
    kept with the editor until the note is saved (:func:`add_note_tasks`)."""
    now = now or utcnow()
    with backend.sessions.read(viewer, now) as session:
        person_id = session.scalar(select(Case.person_id).where(Case.id == case_id))
        if person_id is None:
            raise AnchorError(f"Case {case_id} is not there any more.",
                              "Go back to the board and press r to read it again.")
        if due is not None and due < today:
            raise AnchorError(f"{due.isoformat()} is in the past.", "Choose today or later.")
        if assignee_id is not None and not is_member(session, case_id, assignee_id, today):
            raise AnchorError("Only someone who works the case can be given its task.",
                              "Choose one of the case's members.")
        note = NoteFacts(0, case_id, person_id, category, viewer.user_id, viewer.profession)
        typed = _typed_over(session, backend, viewer, case_id, note)
        _refuse_who_would_not_see_it(backend, session, viewer, case_id, typed, assignee_id,
                                     now)
    return NoteTask(clean_title(title), due, assignee_id)


def add_note_tasks(backend: Backend, session: Session, viewer: Viewer, note: Note,
                   person_id: int, tasks: tuple[NoteTask, ...], today: dt.date,
                   now: dt.datetime) -> tuple[AddedTask, ...]:
    """The tasks typed in the editor (F5) over ``note``, saved in the note's unit of
    work and made from it: each is shown only where the note is (and, typed in a huddle,
    where all the room sees is too). Checked again on the note as saved (its category
    may have changed since the task was typed): an assignee who may not read it refuses
    the save, so nothing is lost in silence. A task typed in a huddle refuses a save in
    one's own work (``NoteTask.in_huddle``)."""
    added = []
    for typed_task in tasks:
        if typed_task.in_huddle and viewer.purpose == "individual":
            raise AnchorError(
                "A task kept with this note was typed in a huddle, over what the room saw: "
                "saved with it, it would be shown to whoever may read the note. (a task "
                "added with F5)",
                "Check it in the task form it comes back in, then save the note.")
        typed = _typed_over(session, backend, viewer, note.case_id,
                            note_facts(note, person_id))
        try:
            _refuse_who_would_not_see_it(backend, session, viewer, note.case_id, typed,
                                         typed_task.assignee_id, now)
        except AnchorError as refused:
            # The task waits in the editor, where it cannot be given anew: say what can.
            raise AnchorError(f"{refused.message} (a task added with F5)",
                              "Choose a category they may read (F4), or give the task to "
                              "someone else in the task form it comes back in.") from None
        task = new_task(session, viewer, note.case_id, typed_task.title, typed_task.due,
                        typed_task.assignee_id, today, from_note_id=note.id)
        _with_sources(session, task, typed)
        assignee = session.scalar(select(User.display_name).where(
            User.id == typed_task.assignee_id)) if typed_task.assignee_id is not None else None
        added.append(AddedTask(task.id, task.title, task.due, assignee))
    return tuple(added)


def schedule_follow_up(session: Session, viewer: Viewer, note_id: int, case_id: int,
                       template: NoteTemplate, today: dt.date) -> Task | None:
    """The follow-up a template schedules (``follow_up_days``) on note ``note_id``, for
    its author when they work the case (otherwise for nobody yet: the case's members who
    may read the note see it)."""
    if template.follow_up_days is None:
        return None
    assignee = viewer.user_id if is_member(session, case_id, viewer.user_id, today) else None
    return new_task(session, viewer, case_id, f"Follow-up: {template.label}",
                    today + dt.timedelta(days=template.follow_up_days), assignee, today,
                    from_note_id=note_id)


def open_tasks(backend: Backend, viewer: Viewer, case_id: int) -> tuple[OpenTask, ...]:
    """The case's tasks not yet done that the viewer may see, soonest due first."""
    with backend.sessions.read(viewer) as session:
        rows = session.execute(
            select(Task, User.display_name)
            .outerjoin(User, User.id == Task.assignee_id)
            .where(Task.case_id == case_id, Task.done_at.is_(None))
            .order_by(Task.due.is_(None), Task.due, Task.id)).all()
        ids = [task.id for task, _ in rows]
        pending = dict(session.execute(
            select(ChildWelfareNotification.task_id, ChildWelfareNotification.id).where(
                ChildWelfareNotification.task_id.in_(ids),
                ChildWelfareNotification.status == "pending",
                ChildWelfareNotification.notifier_id == viewer.user_id)).all()
        ) if ids else {}
        # The assignee works the case: named only to who may be told who does.
        named = names_workers(backend.policy.case_fields(viewer))
        return tuple(OpenTask(task.id, task.version, task.title, task.due,
                              worker_label(name, named), pending.get(task.id))
                     for task, name in rows)


@retry_transient
def complete_task(backend: Backend, viewer: Viewer, task_id: int, seen_version: int, *,
                  at: dt.datetime | None = None) -> None:
    """Mark a task done (one the viewer may see), at the version they saw.

    ``at`` is the moment the person marked it (now if not given), written as the task's
    completion time: the same for every attempt of one save, so :func:`completed_at`
    finds what a first attempt wrote when its commit's answer was lost."""
    with backend.sessions.write(viewer) as session:
        task = session.get(Task, task_id)  # the disclosure filter applies to tasks
        if task is None:
            raise AnchorError("That task is no longer there.", "Read the case again (r).")
        if task.version != seen_version:
            raise ConflictError(
                f"The task was changed by someone else (now version {task.version}, you "
                f"saw {seen_version}).", "Nothing was changed. Look at it again and repeat "
                "if it still holds.")
        if task.done_at is not None:
            raise AnchorError("That task is already done.", "Nothing to mark.")
        task.done_at = at if at is not None else utcnow()
        try:
            session.flush()
        except StaleDataError:
            raise ConflictError("The task was changed by someone else at the same moment.",
                                "Nothing was changed. Read the case again.") from None


def completed_at(backend: Backend, viewer: Viewer, task_id: int, seen_version: int,
                 at: dt.datetime) -> bool | None:
    """True if the task was marked done at the moment ``at`` from the version the person
    saw: what :func:`complete_task` wrote for them (a first attempt whose answer was
    lost, the connection cut as it committed), so the attempt made again says done
    instead of "already done" or "changed by someone else". None otherwise: a task done
    by someone else carries another moment, and is still refused as now. Read through
    the disclosure filter, as the task was."""
    with backend.sessions.read(viewer) as session:
        found = session.scalar(select(Task.id).where(
            Task.id == task_id, Task.version == seen_version + 1,
            Task.done_at == at).limit(1))
    return None if found is None else True
