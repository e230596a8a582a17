"""A huddle ended as left on is ended once, whatever else ends it at that moment."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest
from sqlalchemy import Engine

from anchor_tui.services import huddle as service
from tests.integration.huddle_world import HuddleWorld, build, make_backend
from tests.integration.test_huddle_left_on import huddle_row

LIMIT = 60


@pytest.fixture
def world(engine: Engine) -> HuddleWorld:
    return build(make_backend(engine))


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
