"""The time a huddle spends on each case of its agenda (``huddle_case.seconds_spent``).

The huddle screen saves the time on a case as it moves on (and the end of the huddle
adds the last case's, in its own unit of work: ``services.minutes``), through the app's
save queue, which makes a save again when its answer was lost: so the time is set from
the value it was read at (:func:`time_recorder`), never added twice.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from anchor_tui.db import models as m
from anchor_tui.db.retry import retry_transient
from anchor_tui.domain import Viewer
from anchor_tui.services.backend import Backend
from anchor_tui.services.huddle import huddle_id_of


def add_time(session: Session, huddle_id: int, case_id: int, seconds: int) -> None:
    """Add ``seconds`` to the huddle's time on a case, in ``session``'s unit of work (the
    end of the huddle adds the last case's time in its own, so it is added once)."""
    if seconds <= 0:
        return
    row = session.scalars(select(m.HuddleCase).where(
        m.HuddleCase.huddle_id == huddle_id, m.HuddleCase.case_id == case_id)).first()
    if row is not None:
        row.seconds_spent += seconds


def time_on(backend: Backend, viewer: Viewer, case_id: int,
            now: dt.datetime | None = None) -> int | None:
    """The seconds the viewer's huddle has spent on a case of its agenda (None: the
    case is not on it)."""
    huddle_id = huddle_id_of(viewer)
    with backend.sessions.read(viewer, now) as session:
        return session.scalar(select(m.HuddleCase.seconds_spent).where(
            m.HuddleCase.huddle_id == huddle_id, m.HuddleCase.case_id == case_id))


@retry_transient
def set_time(backend: Backend, viewer: Viewer, case_id: int, before: int, after: int,
             now: dt.datetime | None = None) -> int | None:
    """Make the huddle's time on a case ``after`` seconds where it is still ``before``;
    the seconds stored now (None: the case is not on the agenda).

    Found ``after`` already, it was made so before (a save made again after its commit's
    answer was lost): nothing is written. Found anything else, it is left as it is: the
    time was changed meanwhile by something other than this save, and adding to it
    could count the same seconds twice."""
    huddle_id = huddle_id_of(viewer)
    with backend.sessions.write(viewer, now) as session:
        row = session.scalars(select(m.HuddleCase).where(
            m.HuddleCase.huddle_id == huddle_id, m.HuddleCase.case_id == case_id)).first()
        if row is None:
            return None
        if row.seconds_spent == before:
            row.seconds_spent = after
        return row.seconds_spent


def time_recorder(backend: Backend, viewer: Viewer, case_id: int, seconds: int,
                  now: dt.datetime | None = None) -> Callable[[], int | None]:
    """The save of ``seconds`` more on a case of the huddle's agenda, made once.

    Its first attempt that reaches the database reads the time stored (:func:`time_on`)
    and fixes the pair it goes from and to; every attempt then sets it from the one to
    the other (:func:`set_time`). Made again after its commit's answer was lost, it
    finds the time already moved on and adds nothing, where an addition made again
    added the seconds twice. Read in line, just before the write (the app's saves are
    made one at a time, in order): a time the screen remembered could miss seconds of
    an earlier save still waiting to be made, and have this one left out."""
    pair: list[tuple[int, int]] = []

    def save() -> int | None:
        if seconds <= 0:
            return None
        if not pair:
            before = time_on(backend, viewer, case_id, now)
            if before is None:
                return None  # not on the agenda: nothing to add to, as before
            pair.append((before, before + seconds))
        return set_time(backend, viewer, case_id, *pair[0], now)

    return save
