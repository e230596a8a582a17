"""The statutory child-welfare notification (Child Welfare Act).

Police, youth work and health (``child_welfare.professions`` in ``anchor.yaml``) must
notify child welfare of a concern about a minor, whatever their secrecy. A note raises
such a concern when its template says so (``child_welfare_concern``) or its category is
listed (``child_welfare.categories``).

Saving such a note on a minor's case (younger than ``adult_age``; an unknown birth date
counts as a minor) records a *pending* notification and a task for the author, in the
note's own unit of work: the duty is on record even if the terminal dies a moment
later. The editor then asks the author to record how and to whom the notification was
made; "later" leaves the task in their queue, and marking that task done asks again.

A notification is read and recorded by its notifier only; it holds no note text.

Recording carries the moment the person recorded it (``now``, taken once when they asked
for it), written as the time it was notified, the time its task was done and the time
the follow-up task was made: the same for every attempt of one save, so a recording
made again after its commit's answer was lost finds what the first attempt wrote
(:func:`recorded_at`) and says recorded, instead of "already recorded" or a second
follow-up task. A recording made at another moment (from another terminal) is never
taken for it.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from sqlalchemy import select
from sqlalchemy.orm import Session

from anchor_tui.db.models import Case, ChildWelfareNotification, Task
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import person_label
from anchor_tui.services.note_text import clean_text
from anchor_tui.services.tasks import is_member, new_task
from anchor_tui.settings import TeamConfig

METHODS = {
    "phone": "By phone",
    "electronic": "Electronic notification",
    "letter": "In writing",
    "in_person": "In person",
}
"""How a notification may be made (the record keeps the id)."""

PENDING_TITLE = "Make the statutory child-welfare notification and record it"
FOLLOW_UP_TITLE = "Check child welfare's response to the notification"


@dataclass(frozen=True)
class NotificationDue:
    """A notification waiting to be recorded by the viewer."""

    notification_id: int
    case_id: int
    person_label: str
    created_at: dt.datetime


@dataclass(frozen=True)
class NotificationRecorded:
    notification_id: int
    case_id: int
    follow_up_due: dt.date | None


def comes_of_age(birth_date: dt.date, adult_age: int) -> dt.date:
    """The day one reaches ``adult_age``; born on 29 February, the 28th in other years
    (a term ends on the month's last day when it has no such day)."""
    try:
        return birth_date.replace(year=birth_date.year + adult_age)
    except ValueError:
        return birth_date.replace(year=birth_date.year + adult_age, day=28)


def is_minor(birth_date: dt.date | None, today: dt.date, adult_age: int = 18) -> bool:
    """Younger than ``adult_age`` today; an unknown birth date counts as a minor."""
    if birth_date is None:
        return True
    return today < comes_of_age(birth_date, adult_age)


def raises_concern(team: TeamConfig, profession: str, category: str,
                   template_id: str | None) -> bool:
    """Whether a note of this profession, category and template calls for the prompt
    (before the young person's age is considered)."""
    rules = team.child_welfare
    if profession not in rules.professions:
        return False
    template = next((t for t in team.note_templates if t.id == template_id), None)
    return category in rules.categories or (template is not None
                                            and template.child_welfare_concern)


def open_pending(session: Session, team: TeamConfig, viewer: Viewer, case: Case,
                 note_id: int, today: dt.date) -> int | None:
    """Inside a note's save: the pending notification (and its task) the note calls for.

    None when it calls for none. When the author already has one pending on the case,
    that one stands (one notification covers the concern until it is recorded).
    """
    if not is_minor(case.person.birth_date, today, team.child_welfare.adult_age):
        return None
    existing = session.scalar(select(ChildWelfareNotification.id).where(
        ChildWelfareNotification.case_id == case.id,
        ChildWelfareNotification.notifier_id == viewer.user_id,
        ChildWelfareNotification.status == "pending").limit(1))
    if existing is not None:
        return existing
    assignee = viewer.user_id if is_member(session, case.id, viewer.user_id, today) else None
    task = new_task(session, viewer, case.id, PENDING_TITLE, today, assignee, today,
                    from_note_id=note_id)
    record = ChildWelfareNotification(case_id=case.id, note_id=note_id,
                                      notifier_id=viewer.user_id,
                                      notifier_profession=viewer.profession,
                                      status="pending", task_id=task.id)
    session.add(record)
    session.flush()
    return record.id


def pending_for(backend: Backend, viewer: Viewer, notification_id: int) -> NotificationDue:
    """One of the viewer's pending notifications (for the recording form)."""
    with backend.sessions.read(viewer) as session:
        record = _own(session, viewer, notification_id)
        case = session.get(Case, record.case_id)
        assert case is not None
        label = person_label(case.person.first_name, case.person.last_name,
                             backend.policy.case_fields(viewer))
        return NotificationDue(record.id, record.case_id, label, record.created_at)


def _own(session: Session, viewer: Viewer, notification_id: int) -> ChildWelfareNotification:
    record = session.get(ChildWelfareNotification, notification_id)
    if record is None or record.notifier_id != viewer.user_id:
        raise AnchorError("That child-welfare notification is not yours to record.",
                          "Only the professional who raised the concern records it.")
    return record


def record_notification(backend: Backend, viewer: Viewer, notification_id: int, *,
                        method: str, recipient: str, reference: str = "",
                        today: dt.date, now: dt.datetime | None = None
                        ) -> NotificationRecorded:
    """The notification was made: how, to whom, with which reference. Its task is done
    and, with ``follow_up_days``, a task to check the response is added.

    ``now`` is the moment the person recorded it (the time of the save if not given),
    written as the notification's time, its task's completion and the follow-up's
    creation: the same for every attempt of one save, so :func:`recorded_at` finds what
    a first attempt wrote when its commit's answer was lost."""
    now = now or utcnow()
    if method not in METHODS:
        raise AnchorError("Choose how the notification was made.",
                          "By phone, electronically, in writing or in person.")
    recipient = " ".join(clean_text(recipient).split())
    if not recipient:
        raise AnchorError("Write to whom the notification was made.",
                          "For example: Espoo child welfare services, emergency social "
                          "services.")
    with backend.sessions.write(viewer) as session:
        record = _own(session, viewer, notification_id)
        if record.status == "notified":
            raise AnchorError("This notification is already recorded.", "Nothing to do.")
        record.status = "notified"
        record.notified_at = now
        record.method = method
        record.recipient = recipient[:500]
        record.reference = " ".join(clean_text(reference).split())[:200]
        if record.task_id is not None:
            task = session.get(Task, record.task_id)
            if task is not None and task.done_at is None:
                task.done_at = now
        follow_up_due = None
        days = backend.team.child_welfare.follow_up_days
        if days:
            follow_up_due = today + dt.timedelta(days=days)
            assignee = viewer.user_id if is_member(session, record.case_id, viewer.user_id,
                                                   today) else None
            follow_up = new_task(session, viewer, record.case_id, FOLLOW_UP_TITLE,
                                 follow_up_due, assignee, today, from_note_id=record.note_id,
                                 at=now)
            record.task_id = follow_up.id
        return NotificationRecorded(record.id, record.case_id, follow_up_due)


def recorded_at(backend: Backend, viewer: Viewer, notification_id: int,
                now: dt.datetime) -> NotificationRecorded | None:
    """What :func:`record_notification` wrote for this person at the moment ``now`` (a
    first attempt whose answer was lost, the connection cut as it committed), so the
    attempt made again says recorded instead of "already recorded" or adding a second
    follow-up. None if it was not recorded at that moment: not recorded yet, or recorded
    at another moment (from another terminal), which is never taken for it. Read as the
    recording reads it, the notifier's own only; the follow-up task through the
    disclosure filter, as any read of a task."""
    with backend.sessions.read(viewer) as session:
        record = session.scalar(select(ChildWelfareNotification).where(
            ChildWelfareNotification.id == notification_id,
            ChildWelfareNotification.notifier_id == viewer.user_id,
            ChildWelfareNotification.status == "notified",
            ChildWelfareNotification.notified_at == now).limit(1))
        if record is None:
            return None
        follow_up = session.get(Task, record.task_id) if record.task_id is not None else None
        # The follow-up is the task this recording made (at its moment); without
        # ``follow_up_days`` the notification still points at the task it closed.
        due = follow_up.due if follow_up is not None and follow_up.created_at == now \
            else None
        return NotificationRecorded(record.id, record.case_id, due)
