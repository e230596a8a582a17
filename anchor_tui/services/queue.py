"""The triage queue: what waits for the signed-in person, in sections (as gh-dash has).

Sections, each with an SQL count and its first items:

- ``to_screen``: new notifications (cases in the first stage that nobody has screened);
- ``my_tasks``: open tasks assigned to me, overdue first (tasks are a protected entity:
  the disclosure filter decides which I may see, even when assigned to me);
- ``input_asked``: cases where my profession's input is asked and not yet answered;
- ``consents_expiring``: consents ending within 14 days, for young people whose cases I
  work or lead;
- ``reviews_due``: open cases I work or lead whose next review is at most 7 days away.

A case I snoozed is left out of every section until its day comes.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping, Sequence
from typing import Any

from sqlalchemy import ColumnElement, Select, func, literal, or_, select
from sqlalchemy.orm import Session

from anchor_tui.db.models import Case, CaseEvent, CaseSnooze, Consent, InputRequest, Person, Task
from anchor_tui.db.models import User as Member
from anchor_tui.domain import QUEUE_COUNT_AT_MOST, QueueItem, QueueSection, Viewer
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import person_label
from anchor_tui.services.board_filter import worked_by
from anchor_tui.services.case_view import names_workers, worker_label

CONSENT_DAYS = 14
REVIEW_DAYS = 7
PER_SECTION = 50
"""Items read per section (the count says how many there are in all)."""


def section_labels(profession_label: str) -> dict[str, str]:
    return {
        "to_screen": "New notifications to screen",
        "my_tasks": "Tasks assigned to me",
        "input_asked": f"Input asked from {profession_label}",
        "consents_expiring": f"Consents ending within {CONSENT_DAYS} days",
        "reviews_due": f"Reviews due within {REVIEW_DAYS} days",
    }


class _Queue:
    """One reading of one person's queue."""

    def __init__(self, backend: Backend, viewer: Viewer, session: Session, today: dt.date,
                 limit: int) -> None:
        self.backend = backend
        self.viewer = viewer
        self.session = session
        self.today = today
        self.limit = limit
        self.fields = backend.policy.case_fields(viewer)
        self.named = names_workers(self.fields)
        snoozed = select(CaseSnooze.case_id).where(
            CaseSnooze.user_id == viewer.user_id, CaseSnooze.until > today)
        self.awake = Case.id.not_in(snoozed)
        # Asked of each case: the sections walk few cases (in their order, or a
        # fortnight's consents), and a worker may work tens of thousands.
        self.mine = or_(Case.lead_user_id == viewer.user_id,
                        worked_by([viewer.user_id], today, per_case=True))
        closed = [s.id for s in backend.team.stages if s.closed]
        self.open = Case.stage.not_in(closed) if closed else Case.id.is_not(None)

    def _read(self, root: Any, joins: Sequence[tuple[Any, ColumnElement[bool]]],
              columns: Sequence[Any], conditions: Sequence[ColumnElement[bool]],
              order: Sequence[Any], item: Callable[[Any], QueueItem],
              ) -> tuple[int, tuple[QueueItem, ...]]:
        """The section's count (SQL) and its first items, in ``order``."""

        def joined(query: Select[Any]) -> Select[Any]:
            query = query.select_from(root)
            for entity, onclause in joins:
                query = query.join(entity, onclause)
            return query.where(*conditions)

        # Counted up to one more than QUEUE_COUNT_AT_MOST: enough to say "999+".
        counted = joined(select(literal(1))).limit(QUEUE_COUNT_AT_MOST + 1).subquery()
        total = self.session.scalar(select(func.count()).select_from(counted)) or 0
        rows = self.session.execute(
            joined(select(*columns)).join(Person, Person.id == Case.person_id)
            .order_by(*order).limit(self.limit))
        return total, tuple(item(row) for row in rows)

    def _label(self, first: str, last: str) -> str:
        return person_label(first, last, self.fields)

    def to_screen(self) -> tuple[int, tuple[QueueItem, ...]]:
        first_stage = self.backend.team.stages[0].id
        screened = select(CaseEvent.case_id).where(CaseEvent.kind == "screened")
        conditions = [Case.stage == first_stage, Case.id.not_in(screened), self.awake]

        def item(row: Any) -> QueueItem:
            case_id, category, stage, opened, first, last = row
            return QueueItem("to_screen", case_id, self._label(first, last), category, stage,
                             f"Notified {opened.date().isoformat()}")

        return self._read(
            Case, [],
            [Case.id, Case.category, Case.stage, Case.opened_at, Person.first_name,
             Person.last_name],
            conditions, [Case.priority, Case.opened_at, Case.id], item)

    def my_tasks(self) -> tuple[int, tuple[QueueItem, ...]]:
        conditions = [Task.assignee_id == self.viewer.user_id, Task.done_at.is_(None),
                      self.awake]

        def item(row: Any) -> QueueItem:
            task_id, title, due, version, case_id, category, stage, first, last = row
            return QueueItem("my_tasks", case_id, self._label(first, last), category, stage,
                             title, due=due, overdue=due is not None and due < self.today,
                             task_id=task_id, task_version=version)

        return self._read(
            Task, [(Case, Case.id == Task.case_id)],
            [Task.id, Task.title, Task.due, Task.version, Case.id, Case.category, Case.stage,
             Person.first_name, Person.last_name],
            # Overdue first: their days come before today's, so the due day's order (none
            # last) is that order, and the open-tasks index reads it as it is.
            conditions, [Task.due.is_(None), Task.due, Task.id], item)

    def input_asked(self) -> tuple[int, tuple[QueueItem, ...]]:
        conditions = [InputRequest.profession == self.viewer.profession,
                      InputRequest.answered_at.is_(None), self.awake]

        def item(row: Any) -> QueueItem:
            request_id, question, asked_at, asker, case_id, category, stage, first, last = row
            what = question.strip() or "Your profession's view is asked"
            asker = worker_label(asker, self.named)  # who asks works the case
            return QueueItem("input_asked", case_id, self._label(first, last), category,
                             stage, f"{what} (asked by {asker}, {asked_at.date().isoformat()})",
                             input_request_id=request_id)

        return self._read(
            InputRequest, [(Case, Case.id == InputRequest.case_id),
                           (Member, Member.id == InputRequest.asked_by_id)],
            [InputRequest.id, InputRequest.question, InputRequest.asked_at,
             Member.display_name, Case.id, Case.category, Case.stage, Person.first_name,
             Person.last_name],
            conditions, [InputRequest.asked_at, InputRequest.id], item)

    def consents_expiring(self) -> tuple[int, tuple[QueueItem, ...]]:
        horizon = self.today + dt.timedelta(days=CONSENT_DAYS)
        conditions = [Consent.decision == "permit", Consent.withdrawn_at.is_(None),
                      Consent.valid_to >= self.today, Consent.valid_to <= horizon,
                      Consent.valid_from <= self.today, self.mine, self.open, self.awake]
        categories = self.backend.policy.categories
        professions = self.backend.policy.professions

        def item(row: Any) -> QueueItem:
            consent_id, category, receiving, until, case_id, case_category, stage, first, \
                last = row
            label = categories[category].label if category in categories else category
            what = (f"Consent: {label} to {professions.get(receiving, receiving)} "
                    f"ends {until.isoformat()}")
            return QueueItem("consents_expiring", case_id, self._label(first, last),
                             case_category, stage, what, due=until, consent_id=consent_id)

        return self._read(
            Consent, [(Case, Case.person_id == Consent.person_id)],
            [Consent.id, Consent.category, Consent.receiving_profession, Consent.valid_to,
             Case.id, Case.category, Case.stage, Person.first_name, Person.last_name],
            conditions, [Consent.valid_to, Consent.id, Case.id], item)

    def reviews_due(self) -> tuple[int, tuple[QueueItem, ...]]:
        horizon = self.today + dt.timedelta(days=REVIEW_DAYS)
        conditions = [Case.next_review <= horizon, self.mine, self.open, self.awake]

        def item(row: Any) -> QueueItem:
            case_id, category, stage, review, first, last = row
            overdue = review < self.today
            what = f"Review {'overdue since' if overdue else 'on'} {review.isoformat()}"
            return QueueItem("reviews_due", case_id, self._label(first, last), category,
                             stage, what, due=review, overdue=overdue)

        return self._read(
            Case, [],
            [Case.id, Case.category, Case.stage, Case.next_review, Person.first_name,
             Person.last_name],
            conditions, [Case.next_review, Case.priority, Case.id], item)


def queue_sections(backend: Backend, viewer: Viewer, today: dt.date,
                   per_section: int = PER_SECTION,
                   limits: Mapping[str, int] | None = None) -> tuple[QueueSection, ...]:
    """The signed-in person's queue. A huddle has no queue: every section is empty.

    Each section lists its first ``per_section`` items, or as many as ``limits`` asks
    for it (the queue screen asks for more of a section as the person goes down it).
    """
    profession = backend.policy.professions.get(viewer.profession, viewer.profession)
    labels = section_labels(profession)
    if viewer.purpose != "individual" or not viewer.audience:
        return tuple(QueueSection(key, label, 0, ()) for key, label in labels.items())
    sections: list[QueueSection] = []
    with backend.sessions.read(viewer) as session:
        queue = _Queue(backend, viewer, session, today, per_section)
        for key, label in labels.items():
            queue.limit = max(1, (limits or {}).get(key, per_section))
            total, items = getattr(queue, key)()
            sections.append(QueueSection(key, label, total, items))
    return tuple(sections)
