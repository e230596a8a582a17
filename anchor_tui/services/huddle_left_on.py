"""Huddles left on: ended, with their minutes stored, by the app itself.

A huddle ends when someone ends it at its terminal (``services.minutes.end_huddle``).
One whose terminal quit while the database was away, whose process was killed or whose
power went stays on for ever: nothing ended it, and its minutes were never stored,
although its decisions, actions and attendance are all in the database.

**Left on** means: not ended, and nothing has happened in it for longer than the team's
``huddle_left_on_minutes`` (default 240, at least 60): nobody joined or left and no
decision or action was recorded since (the start counts as its first activity). The
time spent on a case is stored without a moment, so it does not count; a huddle's
terminal locks after ``huddle_idle_lock_seconds`` (at most an hour) without a key, so a
room merely talking for that long is already at its lock. A huddle never runs for
hours: one quiet for four has been left.

Such a huddle is ended at its **last activity**, not now (its minutes say when it was
really over, and that the app ended it after it was left on), with the same writes as
any end (``minutes._end``: everyone still present leaves, each audited; the flags of
the cases it discussed are cleared) and minutes built as any end builds them, for the
huddle's own roster (``huddle.read_roster``, ``huddle.huddle_viewer``): they hold only
what everyone who was present may see. Nothing of it reaches the screen of the
terminal that ends it; its minutes file is written to that terminal's minutes folder.

A huddle that records something as it is ended is left alone: its activity is read
again, under a lock on the huddle's row, in the unit of work that ends it; anything
since (a join, a decision) and it is not ended. ``anchor-tui huddle end-left-on`` lists them and,
with ``--apply``, ends them, when a person who knows the room has gone says so. The app
does not do it by itself (it did, at each sign-in and huddle start, until a review
found why not): a room quietly working on one case records nothing of the above (its
reads are audited on the wall clock, its time on the case stored only when it moves
on), and each terminal stamps its huddle with its own clock, so a terminal whose clock
is behind by the limit would have its running huddle ended under it.

**The one case the app does end by itself** is a huddle whose own process is gone
(it quit anyway while the database could not take the end, it was killed, the power
went): a huddle is run only by the process that started it, so that is certain, and
its terminal knows it without a guess (``huddle_marks``: a lock the operating system
lets go when the process ends). The next start of anchor-tui on that machine ends it
at its last activity, however recent, with its minutes in that terminal's minutes
folder (:func:`end_orphaned`); its start is checked with its id.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from anchor_tui.db import models as m
from anchor_tui.domain import Viewer
from anchor_tui.errors import DatabaseError
from anchor_tui.services.backend import Backend
from anchor_tui.services.huddle import huddle_viewer, read_roster
from anchor_tui.services.huddle_marks import HuddleMarks
from anchor_tui.services.minutes import EndedHuddle, _end, _with_file, build_minutes


def last_activity(session: Session, huddle_id: int) -> dt.datetime | None:
    """The moment of the huddle's last activity: its start, a join, a leave, a decision
    or an action (None: no such huddle)."""
    moments = [
        session.scalar(select(m.Huddle.started_at).where(m.Huddle.id == huddle_id)),
        session.scalar(select(func.max(m.HuddleAttendee.joined_at))
                       .where(m.HuddleAttendee.huddle_id == huddle_id)),
        session.scalar(select(func.max(m.HuddleAttendee.left_at))
                       .where(m.HuddleAttendee.huddle_id == huddle_id)),
        session.scalar(select(func.max(m.HuddleItem.created_at))
                       .where(m.HuddleItem.huddle_id == huddle_id)),
    ]
    known = [moment for moment in moments if moment is not None]
    return max(known) if known else None


def left_on_moments(backend: Backend, now: dt.datetime, minutes: int
                    ) -> list[tuple[int, dt.datetime, dt.datetime]]:
    """The huddles left on as of ``now`` (not ended, no activity for ``minutes``), each
    with when it started and its last activity (ids and moments only): what a person
    needs to judge whether its room has really gone (``anchor-tui huddle end-left-on``)."""
    since = now - dt.timedelta(minutes=minutes)
    found: list[tuple[int, dt.datetime, dt.datetime]] = []
    with backend.sessions.system("huddle: find those left on") as session:
        open_ones = session.execute(select(m.Huddle.id, m.Huddle.started_at).where(
            m.Huddle.ended_at.is_(None), m.Huddle.started_at < since)
            .order_by(m.Huddle.id)).all()
        for huddle_id, started in open_ones:
            last = last_activity(session, huddle_id)
            if last is not None and last < since:
                found.append((huddle_id, started, last))
    return found


def huddles_left_on(backend: Backend, now: dt.datetime, minutes: int) -> list[int]:
    """The ids of the huddles left on as of ``now`` (``left_on_moments``)."""
    return [huddle_id for huddle_id, _started, _last in left_on_moments(backend, now, minutes)]


def end_left_on(backend: Backend, now: dt.datetime, minutes: int, directory: Path, *,
                ids: list[int] | None = None) -> list[EndedHuddle]:
    """End every huddle left on as of ``now`` (see the module), or of ``ids`` those
    still left on; those ended."""
    ended: list[EndedHuddle] = []
    for huddle_id in huddles_left_on(backend, now, minutes) if ids is None else ids:
        result = end_one_left_on(backend, huddle_id, now, minutes, directory)
        if result is not None:
            ended.append(result)
    return ended


def end_one_left_on(backend: Backend, huddle_id: int, now: dt.datetime, minutes: int,
                    directory: Path) -> EndedHuddle | None:
    """End the huddle at its last activity, if it is still left on; None if it is not
    (ended meanwhile, or active again: a terminal is running it)."""
    return _end_at_last_activity(backend, huddle_id, directory,
                                 quiet_since=now - dt.timedelta(minutes=minutes))


def _end_at_last_activity(backend: Backend, huddle_id: int, directory: Path, *,
                          quiet_since: dt.datetime | None = None,
                          started_at: dt.datetime | None = None) -> EndedHuddle | None:
    """End the huddle at its last activity; None if it has ended, is active since
    ``quiet_since``, or did not start at ``started_at`` (when given)."""
    with backend.sessions.system("huddle: read one left on") as session:
        huddle = session.get(m.Huddle, huddle_id)
        last = last_activity(session, huddle_id)
        if huddle is None or huddle.ended_at is not None or last is None \
                or (quiet_since is not None and last >= quiet_since) \
                or (started_at is not None and huddle.started_at != started_at):
            return None
        starter = session.get(m.User, huddle.started_by_id)
        assert starter is not None  # (RESTRICT: a user who started a huddle stays)
        viewer = huddle_viewer(read_roster(session, huddle_id), Viewer(
            starter.id, starter.username, starter.display_name, starter.profession,
            starter.role))
    minutes_text = build_minutes(backend, viewer, last.astimezone().date(), last,
                                 left_on=True)
    with backend.sessions.write(viewer, last) as session:
        # Locked, then read again: a join or a decision made meanwhile (another terminal
        # is running it after all) waits for this unit of work, or is seen here.
        huddle = session.get(m.Huddle, huddle_id, with_for_update=True)
        if huddle is None or huddle.ended_at is not None \
                or last_activity(session, huddle_id) != last:
            return None
        _end(session, viewer, huddle, minutes_text, last, signing_out=None, spent=None)
    return _with_file(huddle_id, minutes_text, directory, last)


# --- the huddles whose own process is gone -------------------------------------------

def end_orphaned(backend: Backend, marks: HuddleMarks, minutes_dir: Path
                 ) -> list[EndedHuddle]:
    """End, each at its last activity, the huddles marked on this machine whose process
    is gone (``huddle_marks``); those ended. A mark is forgotten once its huddle is
    ended, or has ended elsewhere, or is not the huddle marked (its start differs); one
    the database cannot take now (``DatabaseError``) is kept for the next start. Off the
    UI thread."""
    ended: list[EndedHuddle] = []
    for orphan in marks.orphans():
        try:
            result = _end_at_last_activity(backend, orphan.huddle_id, minutes_dir,
                                           started_at=orphan.started_at)
        except DatabaseError:
            orphan.keep()
            continue
        except BaseException:
            orphan.keep()
            raise
        orphan.done()
        if result is not None:
            ended.append(result)
    return ended
