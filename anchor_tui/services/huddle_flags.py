"""Flags that put a case on the next huddle's agenda (``!`` on the board).

A flag is set to what is wanted (:func:`set_flag`), never turned over blindly: the
board saves it through the app's save queue, which makes a save again when its answer
was lost, and a toggle made twice would undo itself (:func:`turn_flag`). A huddle
clears the flags of the cases it discussed when it ends (``services.minutes``).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import select
from sqlalchemy.orm import Session

from anchor_tui.db import models as m
from anchor_tui.db.retry import retry_transient
from anchor_tui.db.types import utcnow
from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.services.backend import Backend


def _open_flag(session: Session, case_id: int) -> m.HuddleFlag | None:
    """The case's flag not yet cleared by a huddle (refused if the case is gone)."""
    if session.get(m.Case, case_id) is None:
        raise AnchorError("That case is no longer there.", "Read the board again (r).")
    return session.scalars(select(m.HuddleFlag).where(
        m.HuddleFlag.case_id == case_id, m.HuddleFlag.cleared_at.is_(None))).first()


def flagged_now(backend: Backend, viewer: Viewer, case_id: int,
                now: dt.datetime | None = None) -> bool:
    """Whether the case is flagged for the next huddle now (read as the viewer may)."""
    with backend.sessions.read(viewer, now) as session:
        return _open_flag(session, case_id) is not None


@retry_transient
def set_flag(backend: Backend, viewer: Viewer, case_id: int, flagged: bool,
             now: dt.datetime | None = None) -> bool:
    """Flag a case for the next huddle (``flagged``), or take its flag away; ``flagged``.

    Made so, not turned over: a case already as wanted is left as it is, nothing written
    (a save made again after its commit's answer was lost, or a flag someone else set
    meanwhile), so a save made twice never undoes itself. ``now`` is the moment it was
    flagged, the flag's time."""
    now = now or utcnow()
    with backend.sessions.write(viewer, now) as session:
        flag = _open_flag(session, case_id)
        if flag is not None and not flagged:
            session.delete(flag)
        elif flag is None and flagged:
            session.add(m.HuddleFlag(case_id=case_id, flagged_by_id=viewer.user_id,
                                     flagged_at=now))
        return flagged


def turn_flag(backend: Backend, viewer: Viewer, case_id: int,
              now: dt.datetime) -> Callable[[], bool]:
    """The save of one ``!`` on the board: the flag turned over, made so once.

    Its first attempt that reaches the database reads whether the case is flagged
    (:func:`flagged_now`) and fixes the wanted state, the other one; every attempt then
    sets that (:func:`set_flag`). Made again after its commit's answer was lost, it finds
    the case already as wanted and writes nothing, where a toggle made again took the
    flag away it had just set. Read in line, just before the write (not when ``!`` was
    pressed): an earlier ``!`` on the case still in line would be missed. ``now``, the
    moment ``!`` was pressed, is the flag's time for every attempt."""
    wanted: list[bool] = []

    def save() -> bool:
        if not wanted:
            wanted.append(not flagged_now(backend, viewer, case_id, now))
        return set_flag(backend, viewer, case_id, wanted[0], now)

    return save
