"""A huddle that looks left on is not ended by the app behind anyone's back.

For a while a sign-in and the start of a huddle each ended every huddle without a
join, leave, decision or action for ``huddle_left_on_minutes``. A review found a room
quietly working on one case records none of those, and a terminal whose clock is
behind stamps its huddle in the past: that sweep ended huddles rooms were still
running, and refused their next decisions. A person ends huddles left on
(``anchor-tui huddle end-left-on``); a sign-in and a huddle start leave them alone.
"""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.screens.board import BoardScreen
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.huddle import HuddleScreen
from anchor_tui.services import huddle as huddle_service
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
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


async def test_a_sign_in_and_a_huddle_start_leave_a_quiet_huddle_alone(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    quiet = app.clock.now() - limit(app) - dt.timedelta(minutes=5)
    other_room = huddle_elsewhere(demo_backend, "police", quiet)
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        await settle(pilot)
        assert isinstance(app.screen, BoardScreen)
        await pilot.press("ctrl+t")
        await shown(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen, HuddleScreen))
        await settle(pilot)
        await app.workers.wait_for_complete()
    assert end_of(demo_backend, other_room) == (None, None), (
        "a huddle that may still be running elsewhere was ended by this terminal")
    assert app.settings.minutes_dir is not None
    assert not app.settings.minutes_dir.exists() or not any(
        app.settings.minutes_dir.iterdir())
