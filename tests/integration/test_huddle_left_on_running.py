"""A huddle a room is running is never ended as left on.

The sweep reads a huddle's activity as its start, joins, leaves, decisions and actions.
A room working on one case (reading it, its notes: audited for the huddle, its time on
the case stored only when it moves on) records none of these: past
``huddle_left_on_minutes`` (60 at the least, the longest idle lock) another terminal's
sign-in ended it under the room, whose next decision was refused as "ended".
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine

from anchor_tui.db.types import utcnow
from anchor_tui.services import audit
from anchor_tui.services import huddle as service
from anchor_tui.services.huddle_left_on import end_left_on
from tests.integration.huddle_world import PASSPHRASE, HuddleWorld, build, make_backend
from tests.integration.test_huddle_left_on import huddle_row

LIMIT = 60


@pytest.fixture
def world(engine: Engine) -> HuddleWorld:
    return build(make_backend(engine))


@pytest.mark.xfail(strict=True, reason="activity read from the huddle's own rows only: "
                   "a room reading a case for longer than the limit is ended")
def test_a_room_reading_a_case_is_not_taken_for_left_on(world: HuddleWorld,
                                                       tmp_path: Path) -> None:
    # (The audit trail stamps its events with the wall clock: the huddle runs on it too.)
    now = utcnow()
    started = now - dt.timedelta(minutes=LIMIT + 30)
    today = started.astimezone().date()
    roster = service.start_huddle(world.backend, world.viewers["social"], today, started)
    roster = service.join_huddle(
        world.backend, service.huddle_viewer(roster, world.viewers["social"]), "nurse",
        PASSPHRASE, today, started + dt.timedelta(minutes=1))
    room = service.huddle_viewer(roster, world.viewers["social"])
    # The room has been on one case since, reading it (audited for the huddle) a moment ago.
    audit.record_now(world.backend, room, "case.view", object_type="case",
                     object_id=world.case_a)

    ended = end_left_on(world.backend, now + dt.timedelta(seconds=5), LIMIT,
                        tmp_path / "minutes")

    assert ended == []
    assert huddle_row(world, roster.huddle_id) == (None, None)


@pytest.mark.xfail(strict=True, reason="activity is read on each terminal's clock against "
                   "the sweeping terminal's: a clock behind by the limit is taken as gone")
def test_a_huddle_just_started_on_a_terminal_whose_clock_is_behind_is_not_ended(
        world: HuddleWorld, tmp_path: Path) -> None:
    now = utcnow()
    behind = now - dt.timedelta(minutes=LIMIT + 30)  # that terminal's clock (set as local)
    roster = service.start_huddle(world.backend, world.viewers["social"],
                                  behind.astimezone().date(), behind)
    ended = end_left_on(world.backend, now, LIMIT, tmp_path / "minutes")
    assert ended == []
    assert huddle_row(world, roster.huddle_id) == (None, None)


@pytest.mark.parametrize("db_kind", [pytest.param("postgres", marks=pytest.mark.postgres)],
                         indirect=True)
def test_an_end_at_the_terminal_as_the_app_ends_the_huddle_as_left_on_is_refused(
        world: HuddleWorld, tmp_path: Path) -> None:
    """On PostgreSQL the terminal's own end (a kept end made as the database came back)
    read the huddle unlocked while the app's end of it as left on held its row: it then
    ended it a second time, over the first (everyone left twice, audited twice, the
    minutes replaced, two minutes files). It waits for that end and is refused."""
    import threading

    from sqlalchemy import func, select, text

    from anchor_tui.db import models as m
    from anchor_tui.errors import AnchorError
    from anchor_tui.services.minutes import end_huddle
    from tests.integration.test_huddle_left_on import DECIDED, leaves, left_on_huddle

    huddle_id = left_on_huddle(world)
    with world.backend.sessions.system("test: roster") as s:
        viewer = service.huddle_viewer(service.read_roster(s, huddle_id),
                                       world.viewers["social"])
    outcome: list[str] = []
    late = DECIDED + dt.timedelta(minutes=300)

    def end_here() -> None:
        try:
            end_huddle(world.backend, viewer, tmp_path / "here", late.date(), late)
            outcome.append("ended")
        except AnchorError as error:
            outcome.append(error.message)

    engine = world.backend.engine
    with engine.connect() as sweep:
        sweep.execute(text("SELECT id FROM huddle WHERE id = :id FOR UPDATE"),
                      {"id": huddle_id})
        sweep.execute(text("UPDATE huddle_attendee SET left_at = :at WHERE huddle_id = :id"),
                      {"at": DECIDED, "id": huddle_id})
        ending = threading.Thread(target=end_here)
        ending.start()
        with engine.connect() as watch:
            for _ in range(10_000):  # until the terminal's end waits for the sweep
                if watch.execute(text("SELECT count(*) FROM pg_locks WHERE NOT granted")
                                 ).scalar():
                    break
                watch.rollback()
            else:
                pytest.fail("the terminal's end never waited")
        sweep.execute(text("UPDATE huddle SET ended_at = :at, minutes = 'swept' "
                           "WHERE id = :id"), {"at": DECIDED, "id": huddle_id})
        sweep.commit()
        ending.join(30)
    assert outcome == ["This huddle has ended already."]
    assert huddle_row(world, huddle_id) == (DECIDED, "swept")
    assert leaves(world, huddle_id) == 0
    with world.backend.sessions.system("test: attendance") as s:
        assert s.scalar(select(func.count()).select_from(m.HuddleAttendee).where(
            m.HuddleAttendee.huddle_id == huddle_id,
            m.HuddleAttendee.left_at != DECIDED)) == 0
