"""A huddle left on elsewhere is ended by the app at a natural moment.

A huddle whose terminal quit while the database was away (or was killed) stayed on for
ever, its minutes never stored. Now a sign-in and the start of a huddle each end, off
the UI thread, every huddle left on (no activity for ``huddle_left_on_minutes``), at its
last activity, its minutes stored and written to this terminal's minutes folder; one
another terminal is running is left alone. Nothing of it is shown at this terminal.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.screens.board import BoardScreen
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.huddle import HuddleScreen
from anchor_tui.services import huddle as huddle_service
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.minutes import LEFT_ON
from tests.ui.conftest import TODAY, AppFactory, settle, sign_in
from tests.ui.test_huddle import shown
from tests.ui.test_note_editor import until


def huddle_elsewhere(backend: Backend, username: str, last: dt.datetime) -> int:
    """A huddle another terminal started and decided in, its last activity at ``last``;
    nobody ended it."""
    with backend.sessions.system("test: the starter") as s:
        starter = viewer_for(s.scalars(select(m.User).where(
            m.User.username == username)).one())
    roster = huddle_service.start_huddle(backend, starter, TODAY,
                                         last - dt.timedelta(minutes=20))
    viewer = huddle_service.huddle_viewer(roster, starter)
    with backend.sessions.system("test: a case") as s:
        case_id = s.scalars(select(m.Case.id).order_by(m.Case.id)).first()
    assert case_id is not None
    huddle_service.add_decision(backend, viewer, case_id, "Call the school", last)
    return roster.huddle_id


def end_of(backend: Backend, huddle_id: int) -> tuple[dt.datetime | None, str | None]:
    with backend.sessions.system("test: the huddle") as s:
        huddle = s.get(m.Huddle, huddle_id)
        assert huddle is not None
        return huddle.ended_at, huddle.minutes


def limit(app: AnchorApp) -> dt.timedelta:
    return dt.timedelta(minutes=app.settings.team.huddle_left_on_minutes)


async def test_a_sign_in_ends_a_huddle_left_on_at_its_last_activity(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    last = app.clock.now() - limit(app) - dt.timedelta(minutes=5)
    left_on = huddle_elsewhere(demo_backend, "police", last)
    running = huddle_elsewhere(demo_backend, "nurse", app.clock.now() - dt.timedelta(
        minutes=10))
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen), "something of it was shown here"
    ended_at, minutes = end_of(demo_backend, left_on)
    assert ended_at == last, "the huddle left on was not ended at its last activity"
    assert minutes is not None and LEFT_ON in minutes and "Call the school" in minutes
    assert app.settings.minutes_dir is not None
    written = list(app.settings.minutes_dir.iterdir())
    assert [path.read_text() for path in written] == [minutes]
    assert end_of(demo_backend, running) == (None, None), "a running huddle was ended"


async def test_starting_a_huddle_ends_one_left_on(make_app: AppFactory,
                                                  demo_backend: Backend) -> None:
    app = make_app()
    # Not left on yet at the sign-in; left on two minutes later, when a huddle starts.
    last = app.clock.now() - limit(app) + dt.timedelta(minutes=1)
    left_on = huddle_elsewhere(demo_backend, "police", last)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        await settle(pilot)
        assert end_of(demo_backend, left_on) == (None, None)
        clock: Any = app.clock
        clock.advance(120)
        await pilot.press("ctrl+t")
        await shown(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, HuddleScreen)
                    and end_of(demo_backend, left_on)[0] is not None)
        await settle(pilot)
        assert isinstance(app.screen, HuddleScreen)
    assert end_of(demo_backend, left_on)[0] == last
