"""Changes kept while the database is away are made again in the order they were made.

A change is saved at once while nothing waits; the next one, made while the first is
still on its way (a server that stopped answering takes its time to say so), is saved
alongside. Both then find the server gone: the first is kept, then the second, and
when the server is back they are made first to last. The second used to be put before
the first (each lost save went to the front of the queue, "the oldest"): two decisions
of the huddle came back in the wrong order, two edits of one field left the older.
"""

from __future__ import annotations

import threading
from typing import Any

import pytest

from anchor_tui.errors import ConnectionLostError
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens.prompt import ReasonScreen
from anchor_tui.services import huddle as huddle_service
from anchor_tui.services.backend import Backend
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_huddle import shown
from tests.ui.test_kept_huddle import huddle_away, items_on
from tests.ui.test_note_editor import until


async def test_two_decisions_lost_on_their_way_are_made_again_in_order(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    real = huddle_service.add_decision
    entered = [threading.Event(), threading.Event()]
    release = [threading.Event(), threading.Event()]
    calls: list[int] = []
    lock = threading.Lock()

    def slow_then_gone(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls.append(1)
            call = len(calls) - 1
        if call < 2:
            entered[call].set()
            assert release[call].wait(10), "the test never released the save"
            raise ConnectionLostError("The connection to the database server was lost.")
        return real(*args, **kwargs)

    monkeypatch.setattr(huddle_service, "add_decision", slow_then_gone)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _screen, case_id = await huddle_away(app, pilot)
        for text, call in (("First the school", 0), ("Then the family", 1)):
            await pilot.press("d")
            await shown(pilot, ReasonScreen)
            await pilot.press(*text, "enter")
            await until(pilot, entered[call].is_set)
        queue = save_queue(app)
        release[0].set()  # the first finds the server gone, then the second
        await until(pilot, lambda: len(queue.waiting) == 1)
        release[1].set()
        await until(pilot, lambda: len(queue.waiting) == 2)
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: queue.waiting == () and len(calls) == 4)
        await settle(pilot)
        assert items_on(demo_backend, case_id) == [
            ("decision", "First the school"), ("decision", "Then the family")], (
            "the kept decisions were made again out of order")
