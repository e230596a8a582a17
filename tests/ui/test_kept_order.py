"""The huddle's decisions reach its minutes in the order they were typed.

The app's saves run one at a time: a decision typed while the one before is still on
its way (a server that stopped answering takes its time to say so; a busy one, its
statement timeout) waits in line behind it, and is written after it. Both used to be
saved at once, alongside: the second, quick, was written first; or the first found the
server gone, was kept, and was made again after the second had long been written. Two
decisions of the huddle came back in the wrong order, two edits of one field left the
older.

A decision merely in line on a connection that works is not "kept": nothing is wrong,
and nothing is said. Once the one ahead of it finds the server gone, it is kept too,
said so, and both are made first to last when the server is back.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
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
from tests.ui.test_kept_huddle import huddle_away, items_on, said
from tests.ui.test_note_editor import until

FIRST, SECOND = "First the school", "Then the family"


def first_held(real: Callable[..., Any], entered: threading.Event, release: threading.Event,
               then_lost: bool, calls: list[str]) -> Callable[..., Any]:
    """The first decision's save waits (on its way) until the test releases it; then it
    is written, or (``then_lost``) finds the server gone. Later calls go through. Each
    call records the decision's text in ``calls``."""
    lock = threading.Lock()

    def held(*args: Any, **kwargs: Any) -> Any:
        with lock:
            calls.append(args[3])  # (backend, viewer, case_id, text, now)
            first = len(calls) == 1
        if first:
            entered.set()
            assert release.wait(10), "the test never released the first save"
            if then_lost:
                raise ConnectionLostError("The connection to the database server was lost.")
        return real(*args, **kwargs)

    return held


async def decide(pilot: Any, text: str) -> None:
    await pilot.press("d")
    await shown(pilot, ReasonScreen)
    await pilot.press(*text, "enter")


async def test_a_decision_typed_while_the_one_before_is_on_its_way_waits_for_it(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []
    monkeypatch.setattr(huddle_service, "add_decision", first_held(
        huddle_service.add_decision, entered, release, False, calls))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        _screen, case_id = await huddle_away(app, pilot)
        queue = save_queue(app)
        await decide(pilot, FIRST)
        await until(pilot, entered.is_set)
        await decide(pilot, SECOND)  # asked for: in line, or (as it was) on its way too
        await until(pilot, lambda: queue.waiting != () or len(calls) == 2)
        for _ in range(20):  # the app runs on while the first is on its way
            await pilot.pause()
        assert calls == [FIRST], "the second decision was saved alongside the first"
        assert items_on(demo_backend, case_id) == [], "the second was written first"
        assert queue.waiting == (f"record a decision on case {case_id}",)
        # In line on a working connection: not kept, nothing said, nothing counted.
        assert not any("is kept" in text for text in said(app))
        assert app.live.status == ""

        release.set()
        await until(pilot, lambda: queue.waiting == () and len(calls) == 2)
        await settle(pilot)
        assert items_on(demo_backend, case_id) == [("decision", FIRST), ("decision", SECOND)], (
            "the second decision was written before the first")
        assert not any("is kept" in text for text in said(app))


async def test_two_decisions_are_made_in_order_when_the_first_finds_the_server_gone(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    entered, release = threading.Event(), threading.Event()
    calls: list[str] = []
    monkeypatch.setattr(huddle_service, "add_decision", first_held(
        huddle_service.add_decision, entered, release, True, calls))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        _screen, case_id = await huddle_away(app, pilot)
        queue = save_queue(app)
        await decide(pilot, FIRST)
        await until(pilot, entered.is_set)
        await decide(pilot, SECOND)  # asked for: in line, or (as it was) on its way too
        await until(pilot, lambda: queue.waiting != () or len(calls) == 2)
        release.set()  # the first finds the server gone: the second waits behind it
        await settle(pilot)  # (the first's worker ends once the queue has its loss)
        assert calls == [FIRST], "the second decision was made while the first was lost"
        assert items_on(demo_backend, case_id) == []
        label = f"record a decision on case {case_id}"
        assert queue.waiting == (label, label)
        # Both are kept now, and said so (the second too: it waits for the server).
        assert sum("The decision is kept" in text for text in said(app)) == 2
        assert "2 changes are kept" in app.live.status

        app.post_message(ConnectionRestored())
        await until(pilot, lambda: queue.waiting == () and len(calls) == 3)
        await settle(pilot)
        assert calls == [FIRST, FIRST, SECOND]
        assert items_on(demo_backend, case_id) == [("decision", FIRST), ("decision", SECOND)], (
            "the kept decisions were made again out of order")
        assert app.live.status == ""
