"""A huddle ended while its last decision is still on its way keeps that decision.

The end of the huddle (its minutes stored) goes through the app's save queue, after
every save asked for before it. It used to wait only behind saves kept for a lost
connection: a decision still on its way (a slow server, a busy statement) was
overtaken by the end, then refused as the huddle had ended, for a context already
closed: the decision was in no minutes, and its words were lost. One save at a time,
the end waits for the decision, and the minutes hold it.
"""

from __future__ import annotations

import threading

import pytest
from sqlalchemy import select

from anchor_tui.db import models as m
from anchor_tui.saving import save_queue
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.services import huddle as huddle_service
from anchor_tui.services.backend import Backend
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_huddle import shown
from tests.ui.test_kept_huddle import huddle_away, items_on
from tests.ui.test_kept_order import decide, first_held
from tests.ui.test_note_editor import until

WORDS = "Ask the school for a meeting"


async def test_the_huddle_ended_behind_a_decision_on_its_way_has_it_in_its_minutes(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []
    monkeypatch.setattr(huddle_service, "add_decision", first_held(
        huddle_service.add_decision, entered, release, False, calls))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _screen, case_id = await huddle_away(app, pilot)
        await decide(pilot, WORDS)
        await until(pilot, entered.is_set)  # on its way (slow), when the huddle ends
        await pilot.press("e")
        await shown(pilot, ConfirmScreen)
        await pilot.press("y")
        queue = save_queue(app)
        await until(pilot, lambda: app.viewer is None and (
            queue.waiting != () or ended(demo_backend)))
        assert not ended(demo_backend), "the huddle ended before its decision was saved"
        release.set()
        await until(pilot, lambda: queue.waiting == () and ended(demo_backend))
        await settle(pilot)
    assert items_on(demo_backend, case_id) == [("decision", WORDS)], "the decision was lost"
    with demo_backend.sessions.system("test: the minutes") as session:
        minutes = session.scalars(select(m.Huddle.minutes)).one()
    assert minutes is not None and WORDS in minutes, "the decision is not in the minutes"


def ended(backend: Backend) -> bool:
    with backend.sessions.system("test: the huddle's end") as session:
        return session.scalars(select(m.Huddle.ended_at)).one() is not None
