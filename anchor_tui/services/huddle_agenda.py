"""The huddle's agenda, the case on screen, and which decisions the people present may see.

The agenda is built from the queue's sections for the team in the room: new
notifications (cases in the first stage that nobody has screened), reviews due within a
week on cases someone present works or leads, and cases flagged for the huddle. It is
stored (``huddle_case``) when the huddle starts and extended when someone joins, so the
order stays put while the team works down it; each read labels the cases for the viewer
of the moment (initials where not every attendee may see names) and an empty roster reads
nothing at all.

Decisions and actions are typed in front of the people present. Later, after a roster
change or in the minutes, an item is shown only if the audience then could see all that
was on screen for its case when it was typed (the young person's name, the notes and the
tasks the roster of that moment saw): a decision taken while a youth worker was out of
the room is not shown to them if it was taken over a note they may not see.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from sqlalchemy import exists, func, or_, select, true
from sqlalchemy.orm import Session

from anchor_tui.db import models as m
from anchor_tui.domain import Attendee, Viewer
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import person_label
from anchor_tui.services.board_filter import worked_by
from anchor_tui.services.case_view import CaseRecord, names_workers, open_case, worker_label
from anchor_tui.settings import TeamConfig

REVIEW_DAYS = 7
"""Reviews due within this many days (overdue ones too) come onto the agenda."""
MOST_NOTIFICATIONS = 40
MOST_REVIEWS = 60
"""A huddle works down a list it can finish: the most urgent new notifications (by
priority, then the oldest) and reviews (the most overdue first), at most this many each
time the agenda grows; the rest stay in each person's queue. Flagged cases all come."""

SOURCE_LABELS = {"notification": "New notification", "review": "Review due",
                 "flagged": "Flagged for the huddle"}


def _open_stage(team: TeamConfig) -> object:
    closed = [s.id for s in team.stages if s.closed]
    return m.Case.stage.not_in(closed) if closed else m.Case.id.is_not(None)


def _unscreened(team: TeamConfig) -> list[object]:
    screened = select(m.CaseEvent.case_id).where(m.CaseEvent.kind == "screened")
    return [m.Case.stage == team.stages[0].id, m.Case.id.not_in(screened)]


def extend_agenda(session: Session, team: TeamConfig, huddle_id: int,
                  attendee_ids: Sequence[int] | None, today: dt.date) -> int:
    """Add the cases now due for this huddle that are not on its agenda yet; how many.
    Reviews due come from the cases ``attendee_ids`` lead or work, or (None) from every
    open case."""
    on_agenda = select(m.HuddleCase.case_id).where(m.HuddleCase.huddle_id == huddle_id)
    fresh = m.Case.id.not_in(on_agenda)
    found: list[tuple[int, str]] = []
    found += [(cid, "notification") for cid in session.scalars(
        select(m.Case.id).where(*_unscreened(team), fresh)  # type: ignore[arg-type]
        .order_by(m.Case.priority, m.Case.opened_at, m.Case.id).limit(MOST_NOTIFICATIONS))]
    if attendee_ids is None or attendee_ids:
        mine = true() if attendee_ids is None else or_(
            m.Case.lead_user_id.in_(attendee_ids), worked_by(attendee_ids, today))
        found += [(cid, "review") for cid in session.scalars(
            select(m.Case.id).where(
                m.Case.next_review <= today + dt.timedelta(days=REVIEW_DAYS),
                _open_stage(team), mine, fresh)  # type: ignore[arg-type]
            .order_by(m.Case.next_review, m.Case.priority, m.Case.id).limit(MOST_REVIEWS))]
    found += [(cid, "flagged") for cid in session.scalars(
        select(m.HuddleFlag.case_id).join(m.Case, m.Case.id == m.HuddleFlag.case_id)
        .where(m.HuddleFlag.cleared_at.is_(None), fresh)
        .order_by(m.HuddleFlag.flagged_at, m.HuddleFlag.id))]
    position = session.scalar(select(func.max(m.HuddleCase.position)).where(
        m.HuddleCase.huddle_id == huddle_id)) or 0
    added: set[int] = set()
    for case_id, source in found:
        if case_id in added:
            continue
        added.add(case_id)
        position += 1
        session.add(m.HuddleCase(huddle_id=huddle_id, case_id=case_id, position=position,
                                 source=source, seconds_spent=0))
    return len(added)


@dataclass(frozen=True)
class AgendaEntry:
    """One case on the agenda, as the people present may see it."""

    case_id: int
    position: int
    person_label: str
    category: str
    stage: str
    reasons: tuple[str, ...]
    """Why it is on the agenda now, in words ("New notification", "Review overdue ...")."""
    seconds_spent: int


def read_agenda(backend: Backend, viewer: Viewer, today: dt.date
                ) -> tuple[AgendaEntry, ...]:
    """The huddle's agenda for ``viewer``; nothing for a huddle with nobody present."""
    if viewer.huddle_id is None or not viewer.audience:
        return ()
    team = backend.team
    fields = backend.policy.case_fields(viewer)
    flagged = exists(select(m.HuddleFlag.id).where(m.HuddleFlag.case_id == m.Case.id,
                                                   m.HuddleFlag.cleared_at.is_(None)))
    screened = exists(select(m.CaseEvent.id).where(m.CaseEvent.case_id == m.Case.id,
                                                   m.CaseEvent.kind == "screened"))
    with backend.sessions.read(viewer) as session:
        rows = session.execute(
            select(m.HuddleCase.case_id, m.HuddleCase.position, m.HuddleCase.source,
                   m.HuddleCase.seconds_spent, m.Case.category, m.Case.stage,
                   m.Case.next_review, m.Person.first_name, m.Person.last_name,
                   flagged.label("flagged"), screened.label("screened"))
            .join(m.Case, m.Case.id == m.HuddleCase.case_id)
            .join(m.Person, m.Person.id == m.Case.person_id)
            .where(m.HuddleCase.huddle_id == viewer.huddle_id)
            .order_by(m.HuddleCase.position)
        ).all()
    entries = []
    for row in rows:
        reasons: list[str] = []
        if row.stage == team.stages[0].id and not row.screened:
            reasons.append(SOURCE_LABELS["notification"])
        if row.next_review is not None and row.next_review <= today + dt.timedelta(
                days=REVIEW_DAYS):
            reasons.append(f"Review overdue since {row.next_review.isoformat()}"
                           if row.next_review < today
                           else f"Review on {row.next_review.isoformat()}")
        if row.flagged:
            reasons.append(SOURCE_LABELS["flagged"])
        entries.append(AgendaEntry(
            row.case_id, row.position, person_label(row.first_name, row.last_name, fields),
            team.category_label(row.category), team.stage_label(row.stage),
            tuple(reasons) or (SOURCE_LABELS[row.source],), row.seconds_spent))
    return tuple(entries)


# --- decisions and actions, and who may see them -----------------------------------------

@dataclass(frozen=True)
class ItemEntry:
    """A decision or action of this huddle, as shown to the people present."""

    item_id: int
    case_id: int
    kind: str
    text: str
    created_at: dt.datetime
    assignee: str | None = None
    due: dt.date | None = None


@dataclass(frozen=True)
class _Stay:
    user_id: int
    profession: str
    joined_at: dt.datetime
    left_at: dt.datetime | None


def _stays(session: Session, huddle_id: int) -> list[_Stay]:
    rows = session.execute(
        select(m.HuddleAttendee.user_id, m.User.profession, m.HuddleAttendee.joined_at,
               m.HuddleAttendee.left_at)
        .join(m.User, m.User.id == m.HuddleAttendee.user_id)
        .where(m.HuddleAttendee.huddle_id == huddle_id)
        .order_by(m.HuddleAttendee.joined_at, m.HuddleAttendee.id)).all()
    return [_Stay(*row) for row in rows]


def roster_at(stays: Iterable[_Stay], moment: dt.datetime) -> tuple[Attendee, ...]:
    """Who was present at ``moment``. Someone who joined at that very moment counts as
    not yet present (their arrival may narrow what an item may be shown to: the safe
    reading of a tie)."""
    found: dict[int, Attendee] = {}
    for stay in stays:
        if stay.joined_at < moment and (stay.left_at is None or stay.left_at > moment):
            found.setdefault(stay.user_id, Attendee(stay.user_id, stay.profession))
    return tuple(found.values())


def everyone(stays: Iterable[_Stay]) -> tuple[Attendee, ...]:
    """Everyone who was present at some time during the huddle."""
    found: dict[int, Attendee] = {}
    for stay in stays:
        found.setdefault(stay.user_id, Attendee(stay.user_id, stay.profession))
    return tuple(found.values())


def audience_viewer(viewer: Viewer, audience: tuple[Attendee, ...]) -> Viewer:
    """``viewer``'s huddle, seen by ``audience`` (everyone of the day, for the minutes)."""
    return Viewer(viewer.user_id, viewer.username, viewer.display_name, viewer.profession,
                  viewer.role, purpose="huddle", huddle_id=viewer.huddle_id,
                  attendees=audience)


class CaseSight:
    """What an audience sees of a case: the name, note, task and reason ids (memoised)."""

    def __init__(self, backend: Backend, viewer: Viewer, now: dt.datetime) -> None:
        self._backend = backend
        self._viewer = viewer
        self._now = now
        self._seen: dict[tuple[int, frozenset[Attendee], dt.datetime], frozenset[str]] = {}

    def of(self, case_id: int, audience: tuple[Attendee, ...],
           at: dt.datetime | None = None) -> frozenset[str]:
        """What ``audience`` sees of the case at ``at`` (default: now)."""
        moment = at or self._now
        key = (case_id, frozenset(audience), moment)
        if key not in self._seen:
            viewer = audience_viewer(self._viewer, audience)
            # The young person's name, the notes and the tasks: what a decision typed over
            # the case could repeat. (The other case fields, such as the birth date, are
            # shown to each audience as the policy says and rarely find their way into a
            # decision: comparing them would hide every decision from a late joiner.)
            fields = self._backend.policy.case_fields(viewer) & {"person_name"}
            tokens = {f"field:{f}" for f in fields}
            if audience:
                with self._backend.sessions.read(viewer, moment) as session:
                    tokens |= {f"note:{i}" for i in session.scalars(
                        select(m.Note.id).where(m.Note.case_id == case_id))}
                    tokens |= {f"task:{i}" for i in session.scalars(
                        select(m.Task.id).where(m.Task.case_id == case_id))}
                    # The reasons given for its changes, read in the case view's history
                    # on the shared screen (each disclosed as a note of its writer's).
                    tokens |= {f"reason:{i}" for i in session.scalars(
                        select(m.CaseEventReason.id).where(
                            m.CaseEventReason.case_id == case_id))}
            self._seen[key] = frozenset(tokens)
        return self._seen[key]

    def allows(self, case_id: int, typed_before: tuple[Attendee, ...],
               audience: tuple[Attendee, ...], typed_at: dt.datetime) -> bool:
        """Could ``audience`` see now all that ``typed_before`` saw of the case when the
        item was typed? (As of then: a consent withdrawn since narrows what the room saw
        no more than it did then, and must not let a decision over a note it no longer
        shows reach someone who may not see that note.)"""
        if not audience or not typed_before:
            return False
        if set(audience) <= set(typed_before):
            return True  # a narrower audience sees less: unless told, it was present
        return self.of(case_id, typed_before, typed_at) <= self.of(case_id, audience)


def visible_items(backend: Backend, viewer: Viewer, case_ids: Sequence[int] | None,
                  audience: tuple[Attendee, ...], now: dt.datetime
                  ) -> tuple[ItemEntry, ...]:
    """This huddle's items (on ``case_ids``, or all) that ``audience`` may be shown."""
    if viewer.huddle_id is None or not audience:
        return ()
    with backend.sessions.read(viewer, now) as session:
        stays = _stays(session, viewer.huddle_id)
        query = (select(m.HuddleItem.id, m.HuddleItem.case_id, m.HuddleItem.kind,
                        m.HuddleItem.text, m.HuddleItem.created_at, m.User.display_name,
                        m.Task.due)
                 .outerjoin(m.Task, m.Task.id == m.HuddleItem.task_id)
                 .outerjoin(m.User, m.User.id == m.Task.assignee_id)
                 .where(m.HuddleItem.huddle_id == viewer.huddle_id)
                 .order_by(m.HuddleItem.created_at, m.HuddleItem.id))
        if case_ids is not None:
            query = query.where(m.HuddleItem.case_id.in_(list(case_ids)))
        # The task join goes through the central filter: a task the audience may not see
        # contributes neither its due date nor its assignee.
        rows = session.execute(query).all()
    sight = CaseSight(backend, viewer, now)
    # The assignee works the case: named only to an audience that may be told who does.
    named = names_workers(backend.policy.case_fields(audience_viewer(viewer, audience)))
    return tuple(ItemEntry(item_id, case_id, kind, text, at, worker_label(assignee, named), due)
                 for item_id, case_id, kind, text, at, assignee, due in rows
                 if sight.allows(case_id, roster_at(stays, at), audience, at))


def stays_of(backend: Backend, viewer: Viewer) -> list[_Stay]:
    """Every join and leave of the viewer's huddle."""
    if viewer.huddle_id is None:
        return []
    with backend.sessions.read(viewer) as session:
        return _stays(session, viewer.huddle_id)


@dataclass(frozen=True)
class HuddleCaseView:
    """The case on the shared screen: its record for the people present and the items."""

    record: CaseRecord
    items: tuple[ItemEntry, ...]


def huddle_case(backend: Backend, viewer: Viewer, case_id: int, now: dt.datetime
                ) -> HuddleCaseView:
    """The case as every attendee present may see it (notes, tasks: the intersection)."""
    record = open_case(backend, viewer, case_id, now=now)
    items = visible_items(backend, viewer, [case_id], viewer.audience, now)
    return HuddleCaseView(record, items)
