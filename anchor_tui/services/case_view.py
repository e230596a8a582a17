"""One case as a viewer may see it: summary, history, notes, tasks, consents, members.

Everything is read in one read session for the viewer, in a fixed number of queries
whatever the number of notes (no query per note): the case with its person and lead,
its history, one page of notes with their authors, which of those notes have a later
revision, the decision facts (memberships and consents), its tasks and the names of
the people involved. Notes pass the central filter in SQL and are re-checked with
``decide()`` before they are returned (``services.disclosure.recheck``).

Audited: the read runs in the viewer's *write* unit of work and ends by recording
``case.view``, ``note.list`` and the disclosure ledger (``services.audit.notes_shown``,
one insert). If that insert fails, the read fails with it and nothing is returned.

Case fields follow ``policy.case_fields(viewer)``: without ``person_name`` the person
is shown by initials; the history shows a lead change only with ``lead`` and a member
change only with ``members``. Stage, priority, review, category, screening, opening
and closing are board fields that everyone who sees the board sees; the reason given
for one (a screening decision's, a stage move's) is not: it is shown as a note of its
writer's profession would be (``models.CaseEventReason``).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import and_, or_, select
from sqlalchemy.orm import Session

from anchor_tui.db import models as m
from anchor_tui.db.types import utcnow
from anchor_tui.domain import PRIORITY_LABELS, Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.policy import ConsentFacts, DecisionContext
from anchor_tui.services import audit
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import initials
from anchor_tui.services.consents import may_handle
from anchor_tui.services.disclosure import (
    load_context,
    recheck,
    recheck_reasons,
    visible_revision,
)

NOTE_PAGE = 50
"""Notes read at a time, newest first; the screen asks for the next page on scroll."""

EVENT_FIELDS = {"lead": "lead", "member_added": "members", "member_removed": "members"}
"""History kinds that need a case field; every other kind is a board field."""

WHO_WORKS = frozenset({"lead", "members"})
"""The case fields that name who works a case. Whoever changed a case (a history entry's
actor) or is given its task works it, most often as its lead: named only to a viewer
who may see both (an actor shown beside the hidden lead events would name the lead)."""


def names_workers(fields: frozenset[str]) -> bool:
    """Whether a viewer with ``fields`` may be told who works the case."""
    return fields >= WHO_WORKS


SOMEONE = "someone who works the case"


def worker_label(name: str | None, named: bool) -> str | None:
    """A task's assignee as the viewer may be told: the name, or that someone has it."""
    return name if named or name is None else SOMEONE

EVENT_LABELS = {
    "opened": "Opened", "stage": "Stage", "priority": "Priority",
    "next_review": "Next review", "lead": "Lead", "member_added": "Member added",
    "member_removed": "Member removed", "screened": "Screened", "closed": "Closed",
    "category": "Category",
}

GRANTOR_LABELS = {"self": "the young person", "guardian": "a guardian",
                  "legal_representative": "a legal representative"}

NoteCursor = tuple[dt.datetime, int]
"""Where the next page of notes starts: (created_at, id) of the last note shown."""


@dataclass(frozen=True)
class CaseSummary:
    case_id: int
    person_label: str
    """Full name, or initials where the policy allows no more."""
    birth_date: dt.date | None
    municipality: str | None
    summary: str | None
    """None when the viewer may not see it."""
    category: str
    stage: str
    priority: str
    next_review: dt.date | None
    opened_at: dt.datetime
    closed_at: dt.datetime | None
    closed_reason: str | None
    lead: str | None
    """The lead's name; None when not set or not visible."""


@dataclass(frozen=True)
class HistoryEntry:
    at: dt.datetime
    kind: str
    label: str
    from_value: str | None
    to_value: str | None
    reason: str | None
    actor: str | None


@dataclass(frozen=True)
class NoteEntry:
    note_id: int
    created_at: dt.datetime
    author: str
    profession: str
    category: str
    body: str
    revision: int
    corrects: bool
    """A later revision of an earlier note."""
    superseded: bool
    """A later revision (that the viewer sees) replaces this one."""
    entered_in_error: bool
    error_reason: str | None
    erased: bool = False
    """Retention erased the text (the note's place in the timeline remains)."""


@dataclass(frozen=True)
class NotePage:
    notes: tuple[NoteEntry, ...]
    more: NoteCursor | None
    """Where the next page starts, or None when this was the last page."""


@dataclass(frozen=True)
class TaskEntry:
    task_id: int
    title: str
    assignee: str | None
    due: dt.date | None
    done: bool


@dataclass(frozen=True)
class ConsentEntry:
    consent_id: int
    grantor: str
    decision: str
    category: str
    receiving_profession: str
    valid_from: dt.date
    valid_to: dt.date | None
    withdrawn_at: dt.datetime | None
    status: str
    """``in force``, ``withdrawn``, ``expired`` or ``not yet in force``: a text label."""


@dataclass(frozen=True)
class MemberEntry:
    name: str
    profession: str
    valid_from: dt.date
    valid_to: dt.date | None


@dataclass(frozen=True)
class CaseRecord:
    """The whole case view for one viewer. ``members`` is None when not visible;
    ``consents`` is None for a viewer who may not see the young person's consents
    (only the case's members and leads may, in their own work: ``consents.may_handle``)."""

    summary: CaseSummary
    history: tuple[HistoryEntry, ...]
    notes: NotePage
    tasks: tuple[TaskEntry, ...]
    consents: tuple[ConsentEntry, ...] | None
    members: tuple[MemberEntry, ...] | None


def open_case(backend: Backend, viewer: Viewer, case_id: int, *,
              page_size: int = NOTE_PAGE, now: dt.datetime | None = None) -> CaseRecord:
    """Read case ``case_id`` for ``viewer``; raises AnchorError for a case that is gone."""
    now = now or utcnow()
    fields = backend.policy.case_fields(viewer)
    labels = _Labels(backend)
    if not viewer.audience:
        raise AnchorError("A huddle with nobody present sees no case.",
                          "Add the people present to the huddle first.")
    with backend.sessions.write(viewer, now) as session:
        row = session.execute(
            select(m.Case, m.User.display_name)
            .outerjoin(m.User, m.User.id == m.Case.lead_user_id)
            .where(m.Case.id == case_id)
        ).first()
        if row is None:
            raise AnchorError(f"Case {case_id} is not there any more.",
                              "Go back to the board and press r to read it again.")
        case, lead = row
        person = case.person
        summary = CaseSummary(
            case_id=case.id,
            person_label=f"{person.first_name} {person.last_name}"
            if "person_name" in fields else initials(person.first_name, person.last_name),
            birth_date=person.birth_date if "birth_date" in fields else None,
            municipality=person.municipality if "municipality" in fields else None,
            summary=case.summary if "summary" in fields else None,
            category=backend.team.category_label(case.category),
            stage=backend.team.stage_label(case.stage),
            priority=PRIORITY_LABELS.get(case.priority, str(case.priority)),
            next_review=case.next_review, opened_at=case.opened_at, closed_at=case.closed_at,
            closed_reason=labels.closed_reason(case.closed_reason),
            lead=lead if "lead" in fields else None,
        )
        ctx = load_context(session, [case_id], now)
        history = _history(session, backend, viewer, case_id, case.person_id, ctx, fields,
                           labels)
        notes, shown = _notes(session, backend, viewer, case_id, case.person_id, ctx,
                              page_size, None)
        tasks = _tasks(session, case_id, fields)
        names = _user_names(session, [mf.user_id for mf in ctx.memberships])
        # The consents are the decision facts of every note, but a list of them is the
        # young person's own record: the same people see it here as in the consents
        # screen, and it is recorded as there.
        consents: tuple[ConsentEntry, ...] | None = None
        if may_handle(session, viewer, case, ctx.today):
            consents = tuple(_consent(c, now, ctx, labels) for c in sorted(
                ctx.consents, key=lambda c: (c.valid_from, c.id), reverse=True))
        audit.notes_shown(session, viewer, case_id, case.person_id, shown, ctx,
                          case_opened=True, consents_listed=bool(consents))
    members = None
    if "members" in fields:
        members = tuple(
            MemberEntry(names.get(mf.user_id, ("?", ""))[0],
                        labels.profession(names.get(mf.user_id, ("", ""))[1]),
                        mf.valid_from, mf.valid_to)
            for mf in sorted(ctx.memberships, key=lambda mf: (mf.valid_to is not None,
                                                                mf.valid_from, mf.user_id))
        )
    return CaseRecord(summary, history, notes, tasks, consents, members)


def more_notes(backend: Backend, viewer: Viewer, case_id: int, after: NoteCursor, *,
               page_size: int = NOTE_PAGE, now: dt.datetime | None = None) -> NotePage:
    """The page of notes that follows ``after`` (older ones), newest first."""
    now = now or utcnow()
    with backend.sessions.write(viewer, now) as session:
        person_id = session.scalar(select(m.Case.person_id).where(m.Case.id == case_id))
        if person_id is None or not viewer.audience:
            return NotePage((), None)
        ctx = load_context(session, [case_id], now)
        page, shown = _notes(session, backend, viewer, case_id, person_id, ctx, page_size,
                             after)
        audit.notes_shown(session, viewer, case_id, person_id, shown, ctx, case_opened=False)
        return page


class _Labels:
    """Labels for ids from the team configuration and the policy (the team's words)."""

    def __init__(self, backend: Backend) -> None:
        self._team = backend.team
        self._policy = backend.policy

    def profession(self, profession: str) -> str:
        return self._policy.professions.get(profession, profession)

    def note_category(self, category: str) -> str:
        entry = self._policy.categories.get(category)
        return entry.label if entry is not None else category

    def closed_reason(self, reason: str | None) -> str | None:
        if reason is None:
            return None
        return next((c.label for c in self._team.closed_reasons if c.id == reason), reason)

    def event_value(self, kind: str, value: str | None, names: dict[int, tuple[str, str]]
                    ) -> str | None:
        if value is None:
            return None
        if kind == "stage":
            return self._team.stage_label(value)
        if kind == "category":
            return self._team.category_label(value)
        if kind == "priority" and value.isdigit():
            return PRIORITY_LABELS.get(int(value), value)
        if kind == "closed":
            return self.closed_reason(value)
        if kind in EVENT_FIELDS and value.isdigit():
            return names.get(int(value), (value, ""))[0]
        return value


def _history(session: Session, backend: Backend, viewer: Viewer, case_id: int,
             person_id: int, ctx: DecisionContext, fields: frozenset[str], labels: _Labels
             ) -> tuple[HistoryEntry, ...]:
    """The case's changes the viewer's case fields show, each with its reason where the
    viewer may read that: a reason is a protected row (a note of its writer's
    profession), joined through the central filter and re-checked with ``decide()``."""
    hidden = [kind for kind, field in EVENT_FIELDS.items() if field not in fields]
    rows = session.execute(
        select(m.CaseEvent, m.User.display_name, m.CaseEventReason)
        .outerjoin(m.User, m.User.id == m.CaseEvent.actor_id)
        .outerjoin(m.CaseEventReason, m.CaseEventReason.event_id == m.CaseEvent.id)
        .where(m.CaseEvent.case_id == case_id, m.CaseEvent.kind.not_in(hidden))
        .order_by(m.CaseEvent.at.desc(), m.CaseEvent.id.desc())
    ).all()
    people = [int(v) for event, _, _ in rows if event.kind in EVENT_FIELDS
              for v in (event.from_value, event.to_value) if v is not None and v.isdigit()]
    names = _user_names(session, people)
    named = names_workers(fields)
    shown = recheck_reasons(backend.policy, viewer, [(reason, person_id)
                                                     for _, _, reason in rows
                                                     if reason is not None], ctx)
    return tuple(
        HistoryEntry(
            at=event.at, kind=event.kind, label=EVENT_LABELS.get(event.kind, event.kind),
            from_value=labels.event_value(event.kind, event.from_value, names),
            to_value=labels.event_value(event.kind, event.to_value, names),
            reason=reason.text if reason is not None and reason.id in shown else None,
            actor=actor if named else None,
        )
        for event, actor, reason in rows
    )


def _notes(session: Session, backend: Backend, viewer: Viewer, case_id: int, person_id: int,
           ctx: DecisionContext, page_size: int, after: NoteCursor | None
           ) -> tuple[NotePage, list[tuple[m.Note, int]]]:
    """One page of notes, and the notes on it with their person (for the audit)."""
    query = (
        select(m.Note, m.User.display_name)
        .join(m.User, m.User.id == m.Note.author_id)
        .where(m.Note.case_id == case_id)
        .order_by(m.Note.created_at.desc(), m.Note.id.desc())
        .limit(page_size + 1)
    )
    if after is not None:
        at, note_id = after
        query = query.where(or_(m.Note.created_at < at,
                                and_(m.Note.created_at == at, m.Note.id < note_id)))
    rows = session.execute(query).all()
    more = len(rows) > page_size
    rows = rows[:page_size]
    authors = {note.id: author for note, author in rows}
    kept = recheck(backend.policy, viewer, [(note, person_id) for note, _ in rows], ctx)
    ids = [note.id for note in kept]
    # Marked superseded only by a revision the viewer sees: a hidden one leaves no trace.
    superseded = set(session.scalars(
        select(m.Note.supersedes_id).where(m.Note.supersedes_id.in_(ids))
    )) if ids else set()
    # ... and numbered among the revisions the viewer sees (read only for a corrected
    # note, which is rare: the filtered session lists only notes the viewer may see).
    corrected: dict[int, int | None] = {}
    if any(note.supersedes_id is not None for note in kept):
        corrected = {ident: old for ident, old in session.execute(
            select(m.Note.id, m.Note.supersedes_id).where(m.Note.case_id == case_id))}
    labels = _Labels(backend)
    notes = tuple(
        NoteEntry(
            note_id=note.id, created_at=note.created_at, author=authors[note.id],
            profession=labels.profession(note.author_profession),
            category=labels.note_category(note.category), body=note.body,
            revision=visible_revision(corrected, note.id),
            corrects=note.supersedes_id in corrected,
            superseded=note.id in superseded, entered_in_error=note.entered_in_error,
            error_reason=note.error_reason,
            erased=getattr(note, "erased_at", None) is not None,
        )
        for note in kept
    )
    last = rows[-1][0] if rows else None
    page = NotePage(notes, (last.created_at, last.id) if more and last is not None else None)
    return page, [(note, person_id) for note in kept]


def _tasks(session: Session, case_id: int, fields: frozenset[str]) -> tuple[TaskEntry, ...]:
    """The case's tasks; the assignee (who must work the case) only where the viewer may
    be told who works it."""
    named = names_workers(fields)
    rows = session.execute(
        select(m.Task, m.User.display_name)
        .outerjoin(m.User, m.User.id == m.Task.assignee_id)
        .where(m.Task.case_id == case_id)
        .order_by(m.Task.done_at.is_not(None), m.Task.due.is_(None), m.Task.due, m.Task.id)
    ).all()
    return tuple(TaskEntry(task.id, task.title, worker_label(assignee, named), task.due,
                           task.done_at is not None)
                 for task, assignee in rows)


def _user_names(session: Session, user_ids: list[int]) -> dict[int, tuple[str, str]]:
    """Display name and profession of each user id."""
    if not user_ids:
        return {}
    rows = session.execute(
        select(m.User.id, m.User.display_name, m.User.profession)
        .where(m.User.id.in_(sorted(set(user_ids))))
    ).all()
    return {user_id: (name, profession) for user_id, name, profession in rows}


def _consent(c: ConsentFacts, now: dt.datetime, ctx: DecisionContext, labels: _Labels
             ) -> ConsentEntry:
    if c.withdrawn_at is not None and c.withdrawn_at <= now:
        status = "withdrawn"
    elif c.valid_to is not None and c.valid_to < ctx.today:
        status = "expired"
    elif c.valid_from > ctx.today:
        status = "not yet in force"
    else:
        status = "in force"
    return ConsentEntry(
        consent_id=c.id, grantor=GRANTOR_LABELS.get(c.grantor, c.grantor),
        decision="permits" if c.decision == "permit" else "refuses",
        category=labels.note_category(c.category),
        receiving_profession=labels.profession(c.receiving_profession),
        valid_from=c.valid_from, valid_to=c.valid_to, withdrawn_at=c.withdrawn_at,
        status=status,
    )
