"""Disclosure facts from the database: decision contexts, re-checks and explanations.

The SQL filter decides what is loaded; before anything is drawn the service layer
re-checks each note with ``decide()`` on the same facts. A mismatch is a bug: it is
logged (ids only) and the note is dropped, never shown.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from anchor_tui.db import models as m
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.policy import (
    ConsentFacts,
    Decision,
    DecisionContext,
    MembershipFacts,
    NoteFacts,
    Policy,
    TaskFacts,
    calendar_day,
)
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend

log = logging.getLogger("anchor_tui.disclosure")


def load_context(session: Session, case_ids: Iterable[int], now: dt.datetime) -> DecisionContext:
    """Memberships of the cases and consents of their persons, as facts."""
    ids = sorted(set(case_ids))
    members = session.execute(
        select(m.CaseMember.case_id, m.CaseMember.user_id, m.CaseMember.valid_from,
               m.CaseMember.valid_to).where(m.CaseMember.case_id.in_(ids))
    ).all()
    persons = select(m.Case.person_id).where(m.Case.id.in_(ids))
    consents = session.scalars(select(m.Consent).where(m.Consent.person_id.in_(persons))).all()
    return DecisionContext(
        now, calendar_day(now),
        tuple(MembershipFacts(*row) for row in members),
        tuple(ConsentFacts(c.person_id, c.grantor, c.decision, c.category,
                           c.receiving_profession, c.valid_from, c.valid_to, c.withdrawn_at,
                           c.id) for c in consents),
    )


def note_facts(note: m.Note, person_id: int) -> NoteFacts:
    return NoteFacts(note.id, note.case_id, person_id, note.category, note.author_id,
                     note.author_profession)


def task_facts(session: Session, task: m.Task) -> TaskFacts:
    """The facts the task rules decide on: the note it was made from, and for a task
    typed in a huddle what the room saw, notes and reasons (read in ``session``: a
    viewer who may see the task may see each of them)."""
    person_id = session.scalar(select(m.Case.person_id).where(m.Case.id == task.case_id))
    assert person_id is not None, "a task's case is there while the task is"

    def facts(note_id: int) -> NoteFacts:
        note = session.get(m.Note, note_id)
        if note is None:  # not there, or hidden: never shown by its facts
            return NoteFacts(note_id, task.case_id, person_id, "", 0, "")
        return note_facts(note, person_id)

    def told(reason_id: int) -> NoteFacts:
        reason = session.get(m.CaseEventReason, reason_id)
        if reason is None:  # hidden: never shown by its facts
            return NoteFacts(reason_id, task.case_id, person_id, "", 0, "")
        return reason_facts(reason, person_id)

    sources = session.execute(select(m.TaskSource.note_id, m.TaskSource.field)
                              .where(m.TaskSource.task_id == task.id)).all()
    reasons = session.scalars(select(m.TaskSourceReason.reason_id)
                              .where(m.TaskSourceReason.task_id == task.id)).all()
    return TaskFacts(
        task.id, task.case_id, task.assignee_id, task.created_by_id,
        from_note=facts(task.from_note_id) if task.from_note_id is not None else None,
        source_notes=tuple(facts(n) for n, _ in sources if n is not None),
        source_fields=frozenset(f for _, f in sources if f is not None),
        source_reasons=tuple(told(r) for r in reasons))


def blind_assignee(backend: Backend, session: Session, user_id: int, task: TaskFacts,
                   now: dt.datetime) -> m.User | None:
    """The user ``task`` would be given to, if they could not see it (a task made from a
    note, or a huddle action's, is seen only where what it was made from is): given to
    them it would vanish from their queue in silence. None: they would see it."""
    user = session.get(m.User, user_id)
    if user is None:
        raise AnchorError("That person is no longer a user.", "Choose someone else.")
    facts = dataclasses.replace(task, assignee_id=user_id)
    ctx = load_context(session, [task.case_id], now)
    return None if backend.policy.decide_task(viewer_for(user), facts, ctx).allowed else user


def recheck(policy: Policy, viewer: Viewer, notes: list[tuple[m.Note, int]],
            ctx: DecisionContext) -> list[m.Note]:
    """Keep the notes ``decide()`` also allows; log and drop any the SQL filter let through."""
    kept = []
    for note, person_id in notes:
        if policy.decide(viewer, note_facts(note, person_id), ctx).allowed:
            kept.append(note)
        else:
            log.error("disclosure mismatch: note %s loaded for user %s (%s) but decide() "
                      "denies it; dropped", note.id, viewer.user_id, viewer.purpose)
    return kept


def reason_category(backend: Backend, profession: str) -> str:
    """The note category a reason written by ``profession`` is disclosed as: the one the
    note editor starts that profession with (a reason is that profession's words about
    the young person, as a note of theirs would be)."""
    from anchor_tui.services.note_form import default_category

    return default_category(backend.team, backend.policy, profession)


def write_reason(session: Session, backend: Backend, viewer: Viewer, event: m.CaseEvent,
                 text: str | None) -> None:
    """Give ``event`` (added to ``session``) the reason ``viewer`` typed, as a protected
    row disclosed like a note of the viewer's profession. Nothing for no reason."""
    if not text:
        return
    session.add(m.CaseEventReason(
        event=event, case_id=event.case_id, author_id=viewer.user_id,
        author_profession=viewer.profession,
        category=reason_category(backend, viewer.profession), text=text))


def reason_facts(reason: m.CaseEventReason, person_id: int) -> NoteFacts:
    """A reason's facts: those of a note of its writer's profession."""
    return NoteFacts(reason.id, reason.case_id, person_id, reason.category, reason.author_id,
                     reason.author_profession)


def recheck_reasons(policy: Policy, viewer: Viewer,
                    reasons: list[tuple[m.CaseEventReason, int]], ctx: DecisionContext
                    ) -> set[int]:
    """The ids of the reasons ``decide()`` also allows (as :func:`recheck` for notes)."""
    kept = set()
    for reason, person_id in reasons:
        if policy.decide(viewer, reason_facts(reason, person_id), ctx).allowed:
            kept.add(reason.id)
        else:
            log.error("disclosure mismatch: case event reason %s loaded for user %s (%s) "
                      "but decide() denies it; dropped", reason.id, viewer.user_id,
                      viewer.purpose)
    return kept


def visible_notes(backend: Backend, viewer: Viewer, note_ids: Iterable[int],
                  now: dt.datetime | None = None) -> frozenset[int]:
    """Which of ``note_ids`` the viewer may see now (the central filter, then
    ``decide()``): what a screen that lists notes keeps after a change, such as a
    consent withdrawn on another terminal."""
    ids = sorted(set(note_ids))
    if not ids or not viewer.audience:
        return frozenset()
    now = now or utcnow()
    with backend.sessions.read(viewer, now) as session:
        rows = session.execute(select(m.Note, m.Case.person_id)
                               .join(m.Case, m.Case.id == m.Note.case_id)
                               .where(m.Note.id.in_(ids))).all()
        ctx = load_context(session, {note.case_id for note, _ in rows}, now)
        return frozenset(note.id for note in recheck(
            backend.policy, viewer, [(note, person) for note, person in rows], ctx))


def visible_revision(corrected: Mapping[int, int | None], note_id: int) -> int:
    """Which revision ``note_id`` is among the revisions the viewer may see: 1 and one
    more for each visible revision it corrects in a row. ``corrected``: each note the
    viewer may see (at least the note and those before it), with the note it corrects.

    The stored revision counts every revision, so it would say that an earlier one
    exists where that one is hidden (a correction may change a note's category): a
    note whose earlier revision the viewer may not see is, for them, a first revision.
    """
    revision, previous = 1, corrected.get(note_id)
    while previous is not None and previous in corrected:
        revision += 1
        previous = corrected[previous]
    return revision


@dataclass(frozen=True)
class Explanation:
    """Why a user sees a note or not (ids and categories only, never the text)."""

    username: str
    profession: str
    note_id: int
    case_id: int
    category: str
    author_profession: str
    is_member: bool
    has_consent: bool
    consent_ids: tuple[int, ...]
    decision: Decision


def explain(backend: Backend, username: str, note_id: int,
            now: dt.datetime | None = None) -> Explanation:
    """Explain the decision for ``username`` and note ``note_id`` (an administrative read)."""
    now = now or utcnow()
    with backend.sessions.system("policy explain") as session:
        user = session.scalars(select(m.User).where(m.User.username == username)).first()
        if user is None:
            raise AnchorError(f"There is no user '{username}'.", "See: anchor-tui user list")
        note = session.get(m.Note, note_id)
        if note is None:
            raise AnchorError(f"There is no note {note_id}.", "Check the note id.")
        person_id = session.scalar(select(m.Case.person_id).where(m.Case.id == note.case_id))
        assert person_id is not None
        ctx = load_context(session, [note.case_id], now)
        viewer = viewer_for(user)
        facts = note_facts(note, person_id)
        return Explanation(
            username=user.username, profession=user.profession, note_id=note.id,
            case_id=note.case_id, category=note.category,
            author_profession=note.author_profession,
            is_member=ctx.is_member(note.case_id, user.id),
            has_consent=ctx.has_consent(person_id, note.category, user.profession),
            consent_ids=tuple(ctx.consent_basis(person_id, note.category, user.profession)),
            decision=backend.policy.decide(viewer, facts, ctx),
        )
