"""The caseload picture: cases per stage at weekly points over the last 12 weeks.

Computed in SQL from ``case.opened_at``, ``case.closed_at`` and the case history's
stage changes (``case_event`` rows of kind ``stage``), over the cases the viewer sees
(the whole board; nothing for a huddle with nobody present). The last point is now, so
it equals the board's column count.

A case's stage at a moment T is the stage it left in its first stage change after T,
or its stage now if it has not changed since. Counting that per stage needs no query
per case or per week:

    count(stage, T) = cases opened by T that are in the stage now
                    + stage changes after T, of cases opened by T, *from* the stage
                    - stage changes after T, of cases opened by T, *to* the stage

(the changes of one case chain from one stage to the next, so the sum telescopes to its
first change after T). A case that was closed without a recorded stage change (imported
or seeded data) counts as closed from its ``closed_at``; before that its stage is not
known and it is left out rather than guessed.

Each of the three terms is one grouped query over week buckets (12 ``CASE`` branches),
whatever the number of cases.

With a board filter (``spec``) the picture counts the cases the filter matches now (the
board's own SQL conditions, so a word matches only what the viewer may see), at each
point of the last weeks: the board and its picture always count the same set.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from sqlalchemy import ColumnElement, case, func, select
from sqlalchemy.orm import InstrumentedAttribute, Session, aliased

from anchor_tui.db import models as m
from anchor_tui.db.types import utcnow
from anchor_tui.domain import FilterSpec, Viewer
from anchor_tui.policy.engine import calendar_day
from anchor_tui.services.backend import Backend
from anchor_tui.services.board_filter import filter_conditions

WEEKS = 12


@dataclass(frozen=True)
class StageTrend:
    stage: str
    label: str
    counts: tuple[int, ...]
    """Cases in the stage at each weekly point, oldest first; the last one is now."""

    @property
    def now(self) -> int:
        return self.counts[-1] if self.counts else 0


@dataclass(frozen=True)
class Caseload:
    points: tuple[dt.datetime, ...]
    """The weekly moments counted, oldest first (the last one is now)."""
    stages: tuple[StageTrend, ...]


def week_points(now: dt.datetime, weeks: int = WEEKS) -> tuple[dt.datetime, ...]:
    return tuple(now - dt.timedelta(weeks=weeks - 1 - i) for i in range(weeks))


def caseload(backend: Backend, viewer: Viewer, *, now: dt.datetime | None = None,
             weeks: int = WEEKS, spec: FilterSpec | None = None) -> Caseload:
    """Cases per configured stage at each of the last ``weeks`` weekly points (of the
    cases ``spec`` matches, when given)."""
    points = week_points(now or utcnow(), weeks)
    stages = backend.team.stages
    totals = {s.id: [0] * weeks for s in stages}
    if viewer.audience:
        with backend.sessions.read(viewer, points[-1], custom_plans=True) as session:
            where = filter_conditions(backend, viewer, spec or FilterSpec(), session,
                                      calendar_day(points[-1]))
            _add_current(session, points, totals, where)
            _add_changes(session, points, totals, where)
            _remove_unknown(session, points, totals,
                            [s.id for s in stages if s.closed], where)
    return Caseload(points, tuple(
        StageTrend(s.id, s.label, tuple(max(0, n) for n in totals[s.id])) for s in stages
    ))


def _bucket(column: ColumnElement[Any] | InstrumentedAttribute[Any], points: tuple[dt.datetime, ...]
            ) -> ColumnElement[int]:
    """The index of the first point at or after ``column`` (len(points): after them all)."""
    return case(*((column <= point, index) for index, point in enumerate(points)),
                else_=len(points))


Where = list[ColumnElement[bool]]
"""The board filter's conditions on ``Case`` (none: every case)."""


def _add_current(session: Session, points: tuple[dt.datetime, ...],
                 totals: dict[str, list[int]], where: Where) -> None:
    """Cases opened by each point, counted in their stage now."""
    opened = _bucket(m.Case.opened_at, points).label("opened")
    rows = session.execute(
        select(m.Case.stage, opened, func.count()).where(*where)
        .group_by(m.Case.stage, opened)
    ).all()
    for stage, first, count in rows:
        if stage in totals:
            for index in range(first, len(points)):
                totals[stage][index] += count


def _add_changes(session: Session, points: tuple[dt.datetime, ...],
                 totals: dict[str, list[int]], where: Where) -> None:
    """Stage changes after a point move their case back to the stage it came from."""
    opened = _bucket(m.Case.opened_at, points).label("opened")
    changed = _bucket(m.CaseEvent.at, points).label("changed")
    rows = session.execute(
        select(m.CaseEvent.from_value, m.CaseEvent.to_value, opened, changed, func.count())
        .join(m.Case, m.Case.id == m.CaseEvent.case_id)
        .where(m.CaseEvent.kind == "stage", m.CaseEvent.at > points[0], *where)
        .group_by(m.CaseEvent.from_value, m.CaseEvent.to_value, opened, changed)
    ).all()
    for from_stage, to_stage, first, change, count in rows:
        # The change is after point i when changed > i: points first .. changed - 1.
        for index in range(first, min(change, len(points))):
            if from_stage in totals:
                totals[from_stage][index] += count
            if to_stage in totals:
                totals[to_stage][index] -= count


def _remove_unknown(session: Session, points: tuple[dt.datetime, ...],
                    totals: dict[str, list[int]], closed_stages: list[str],
                    where: Where) -> None:
    """Closed cases before their ``closed_at`` with no stage change after the point."""
    if not closed_stages:
        return
    later = aliased(m.CaseEvent)
    last_change = (select(func.max(later.at))
                   .where(later.case_id == m.Case.id, later.kind == "stage")
                   .scalar_subquery())
    opened = _bucket(m.Case.opened_at, points).label("opened")
    closed = _bucket(m.Case.closed_at, points).label("closed")
    changed = _bucket(func.coalesce(last_change, points[0]), points).label("changed")
    rows = session.execute(
        select(m.Case.stage, opened, closed, changed, func.count())
        .where(m.Case.stage.in_(closed_stages), m.Case.closed_at > points[0], *where)
        .group_by(m.Case.stage, opened, closed, changed)
    ).all()
    for stage, first, close, change, count in rows:
        # Unknown at point i when opened by it, not yet closed (closed > i) and no stage
        # change after it (the last change at or before it: changed <= i).
        for index in range(max(first, change), min(close, len(points))):
            totals[stage][index] -= count

