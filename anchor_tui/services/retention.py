"""Retention: erase the content of closed cases whose retention period has passed.

Periods come from ``anchor.yaml`` (``retention``): per closing reason (the case's
outcome), with a default, counted in days from the day the case closed; notes of a
category listed under ``note_categories`` keep their own period instead.

Erasing keeps every id, every row and the audit trail (which holds no content, so it
still verifies): a note's body becomes '' with ``erased_at`` set (the one change the
note guard of migration 0004 allows); when the case's own period has passed its drafts
(and the forms about it kept for their authors) are deleted, task titles, the summary
and the reasons in its history are blanked; and when every case of the young person
has passed its period, the person's name becomes a placeholder and their birth date,
municipality and consent evidence are erased. Each erased case is one unit of work
with its ``retention.erase`` audit event.

:func:`plan` changes nothing (the dry run); :func:`apply` acts on a plan.
"""

from __future__ import annotations

import datetime as dt
from collections import defaultdict
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from sqlalchemy import delete, select, update

from anchor_tui.db.models import (
    Case,
    CaseEventReason,
    CaseSnooze,
    ChildWelfareNotification,
    Consent,
    Draft,
    FormDraft,
    HuddleItem,
    InputRequest,
    Note,
    Person,
    Task,
)
from anchor_tui.db.search_tables import compact_search_tables
from anchor_tui.db.types import utcnow
from anchor_tui.services import audit
from anchor_tui.services.backend import Backend
from anchor_tui.services.form_drafts import base_target, case_target

ERASED_FIRST_NAME = "Erased"
ERASED_LAST_NAME = "person"
ERASED_TASK_TITLE = "(erased)"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class CaseErasure:
    """What retention erases of one closed case (ids and counts only)."""

    case_id: int
    person_id: int
    closed_reason: str | None
    closed_at: dt.datetime
    kept_until: dt.date
    """The case's own period ends on this day."""
    note_ids: tuple[int, ...]
    case_content: bool
    """The case's own period has passed: drafts, task titles, summary, history reasons."""
    tasks: int
    drafts: int
    person: bool
    """Every case of the young person has passed its period: name and details too."""


@dataclass(frozen=True)
class RetentionReport:
    cases: int
    notes: int
    tasks: int
    drafts: int
    persons: int


def _check_categories(backend: Backend) -> None:
    # Also checked when the policy is loaded for the team (the app refuses to start);
    # here for a backend built from parts.
    for category in backend.team.retention.note_categories:
        if category not in backend.policy.categories:
            raise backend.team.error(f"retention.note_categories.{category}",
                                     "is not a note category of the disclosure policy",
                                     "use a category id from disclosure.yaml")


def plan(backend: Backend, now: dt.datetime | None = None) -> list[CaseErasure]:
    """What :func:`apply` would erase at ``now``. Reads only."""
    _check_categories(backend)
    now = now or utcnow()
    rules = backend.team.retention
    with backend.sessions.system("retention: plan") as session:
        closed: list[tuple[int, int, str | None, dt.datetime, dt.datetime | None]] = [
            (case_id, person_id, reason, closed_at, erased_at)
            for case_id, person_id, reason, closed_at, erased_at in session.execute(
                select(Case.id, Case.person_id, Case.closed_reason, Case.closed_at,
                       Case.erased_at).where(Case.closed_at.is_not(None)).order_by(Case.id))
            if closed_at is not None
        ]
        open_persons = set(session.scalars(
            select(Case.person_id).where(Case.closed_at.is_(None))))
        erased_persons = set(session.scalars(
            select(Person.id).where(Person.erased_at.is_not(None))))
        due: dict[int, bool] = {}
        for case_id, _person, reason, closed_at, _erased in closed:
            due[case_id] = closed_at + dt.timedelta(days=rules.case_days(reason)) <= now
        by_person: dict[int, list[int]] = defaultdict(list)
        for case_id, person_id, *_ in closed:
            by_person[person_id].append(case_id)
        notes: dict[int, list[int]] = defaultdict(list)
        closed_at_of = {row[0]: (row[3], rules.case_days(row[2])) for row in closed}
        ids = list(closed_at_of)
        for start in range(0, len(ids), 500):
            chunk = ids[start:start + 500]
            for note_id, case_id, category in session.execute(
                    select(Note.id, Note.case_id, Note.category)
                    .where(Note.case_id.in_(chunk), Note.erased_at.is_(None))
                    .order_by(Note.id)):
                closed_at, days = closed_at_of[case_id]
                days = rules.note_categories.get(category, days)
                if closed_at + dt.timedelta(days=days) <= now:
                    notes[case_id].append(note_id)
        plans = []
        for case_id, person_id, reason, closed_at, erased_at in closed:
            content = due[case_id] and erased_at is None
            person = (content and person_id not in open_persons
                      and person_id not in erased_persons
                      and all(due[c] for c in by_person[person_id]))
            if not (content or notes[case_id]):
                continue
            tasks = drafts = 0
            if content:
                tasks = len(session.scalars(select(Task.id).where(Task.case_id == case_id))
                            .all())
                drafts = len(session.scalars(select(Draft.id).where(Draft.case_id == case_id))
                             .all())
                # A form kept for its author (``form_draft``) is a draft of a form.
                drafts += len(session.scalars(select(FormDraft.id)
                                              .where(FormDraft.case_id == case_id)).all())
            kept_until = (closed_at + dt.timedelta(days=rules.case_days(reason))).date()
            plans.append(CaseErasure(case_id, person_id, reason, closed_at, kept_until,
                                     tuple(notes[case_id]), content, tasks, drafts, person))
    return plans


def _erase_case(backend: Backend, item: CaseErasure, now: dt.datetime) -> None:
    with backend.sessions.system(f"retention: erase case {item.case_id}") as session:
        if item.note_ids:
            session.execute(
                update(Note).where(Note.id.in_(item.note_ids), Note.erased_at.is_(None))
                .values(body="", error_reason=None, erased_at=now)
                .execution_options(synchronize_session=False))
            # A statutory notification made over an erased note keeps that it was made,
            # when and how, not to whom or under which reference (text about the child).
            session.execute(
                update(ChildWelfareNotification)
                .where(ChildWelfareNotification.note_id.in_(item.note_ids))
                .values(recipient="", reference="")
                .execution_options(synchronize_session=False))
            # A note erased by its category's own period, its case kept: the draft of a
            # correction started from the note's text, and a reason typed to mark it
            # entered in error and kept for its author, hold words of it: they go too.
            session.execute(delete(Draft).where(Draft.supersedes_id.in_(item.note_ids))
                            .execution_options(synchronize_session=False))
            about = {case_target(item.case_id, ("note", n)) for n in item.note_ids}
            kept = [row_id for row_id, target in session.execute(
                select(FormDraft.id, FormDraft.target).where(
                    FormDraft.case_id == item.case_id)) if base_target(target) in about]
            if kept:
                session.execute(delete(FormDraft).where(FormDraft.id.in_(kept))
                                .execution_options(synchronize_session=False))
        if item.case_content:
            case_id = item.case_id
            session.execute(delete(Draft).where(Draft.case_id == case_id)
                            .execution_options(synchronize_session=False))
            # What was typed into a form about the case and kept for its author goes
            # with its drafts (consent evidence, a reason: words about the child).
            session.execute(delete(FormDraft).where(FormDraft.case_id == case_id)
                            .execution_options(synchronize_session=False))
            session.execute(update(Task).where(Task.case_id == case_id)
                            .values(title=ERASED_TASK_TITLE, version=Task.version + 1)
                            .execution_options(synchronize_session=False))
            session.execute(update(Case).where(Case.id == case_id)
                            .values(summary="", erased_at=now, version=Case.version + 1)
                            .execution_options(synchronize_session=False))
            # The reasons in its history are rows of their own: they go, the changes stay.
            session.execute(delete(CaseEventReason).where(CaseEventReason.case_id == case_id)
                            .execution_options(synchronize_session=False))
            for table, values in ((CaseSnooze, {"reason": ""}),
                                  (InputRequest, {"question": ""}),
                                  (HuddleItem, {"text": ""})):
                session.execute(update(table).where(table.case_id == case_id)
                                .values(**values)
                                .execution_options(synchronize_session=False))
        if item.person:
            session.execute(update(Person).where(Person.id == item.person_id).values(
                first_name=ERASED_FIRST_NAME, last_name=ERASED_LAST_NAME, birth_date=None,
                municipality=None, erased_at=now))
            session.execute(update(Consent).where(Consent.person_id == item.person_id)
                            .values(evidence=""))
        audit.record(session, None, "retention.erase", object_type="case",
                     object_id=item.case_id, person_id=item.person_id,
                     policy_hash=backend.policy.hash)


def apply(backend: Backend, plans: Sequence[CaseErasure], now: dt.datetime | None = None,
          progress: Progress | None = None, minutes_dir: Path | None = None
          ) -> RetentionReport:
    """Erase what ``plans`` name, one case per unit of work (recorded in the audit trail).

    The stored minutes of huddles that discussed an erased case are rebuilt without it
    (and this terminal's minutes file in ``minutes_dir`` rewritten, if there is one).
    """
    from anchor_tui.services.minutes import rebuild_after_retention

    now = now or utcnow()
    for done, item in enumerate(plans, start=1):
        _erase_case(backend, item, now)
        if item.case_content:
            rebuild_after_retention(backend, item.case_id, now, minutes_dir)
        if progress is not None:
            progress(done, len(plans))
    if plans:
        compact_search_tables(backend.engine)  # (SQLite: no erased word stays in the file)
    return summarise(plans)


def summarise(plans: Sequence[CaseErasure]) -> RetentionReport:
    return RetentionReport(
        cases=sum(1 for p in plans if p.case_content),
        notes=sum(len(p.note_ids) for p in plans),
        tasks=sum(p.tasks for p in plans),
        drafts=sum(p.drafts for p in plans),
        # A young person with several expired cases is named once, not once per case.
        persons=len({p.person_id for p in plans if p.person}),
    )
