"""The time the room spent on a case goes through the app's save queue.

It was added by a worker of its own as the room moved on (``n``) or the roster changed:
with the server away (the service made to find it gone once, as
``test_lock_holds_screens.fails_once`` does; the test plays the change watcher and says
when it is back) the seconds were an error and gone; after a commit whose answer was
lost (``answer_lost_once``) nothing made it again, and an addition made again would have
added them twice. They are kept and added when the server is back, and once.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.huddle import HuddleScreen
from anchor_tui.services import huddle_time
from anchor_tui.services.backend import Backend
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_huddle import join
from tests.ui.test_kept_huddle import huddle_away
from tests.ui.test_lock_holds_screens import answer_lost_once, fails_once
from tests.ui.test_note_editor import until
from tests.ui.test_task_done_kept import saves_running


def seconds_on(app: Any, backend: Backend, case_id: int) -> int | None:
    screen = app.screen
    huddle_id = screen.roster.huddle_id if isinstance(screen, HuddleScreen) else None
    with backend.sessions.system("test: the time spent") as s:
        return s.scalar(select(m.HuddleCase.seconds_spent).where(
            m.HuddleCase.huddle_id == huddle_id, m.HuddleCase.case_id == case_id))


async def test_time_on_a_case_left_while_away_is_kept_and_added(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huddle_time, "set_time", fails_once(huddle_time.set_time))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen, case_id = await huddle_away(app, pilot)  # 30 s on the first case
        before = seconds_on(app, demo_backend, case_id)
        assert before is not None
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, ErrorScreen), "the time was an error, not kept"
        assert save_queue(app).waiting == (f"record the time spent on case {case_id}",), (
            "the time spent while the database was away was not kept")
        assert seconds_on(app, demo_backend, case_id) == before

        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert app.screen is screen
        assert seconds_on(app, demo_backend, case_id) == before + 30


async def test_time_whose_answer_was_lost_is_added_once(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(huddle_time, "set_time",
                        answer_lost_once(huddle_time.set_time, calls))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _screen, case_id = await huddle_away(app, pilot)
        before = seconds_on(app, demo_backend, case_id)
        assert before is not None
        await pilot.press("n")
        await settle(pilot)
        assert len(save_queue(app).waiting) == 1, "the time whose answer was lost was not kept"
        assert seconds_on(app, demo_backend, case_id) == before + 30  # written, answer lost

        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == () and not saves_running(app))
        await settle(pilot)
        assert calls == [1, 1]
        assert not isinstance(app.screen, ErrorScreen)
        assert seconds_on(app, demo_backend, case_id) == before + 30, (
            "the time made again was added twice")


async def test_time_taken_as_someone_joins_while_away_is_kept_and_added(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The roster changes (someone joins): the time on the case on screen is saved by
    the terminal, through the same queue."""
    monkeypatch.setattr(huddle_time, "set_time", fails_once(huddle_time.set_time))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _screen, case_id = await huddle_away(app, pilot)
        before = seconds_on(app, demo_backend, case_id)
        assert before is not None
        await join(pilot, "youth")
        await settle(pilot)
        assert save_queue(app).waiting == (f"record the time spent on case {case_id}",)
        assert seconds_on(app, demo_backend, case_id) == before
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert seconds_on(app, demo_backend, case_id) == before + 30
