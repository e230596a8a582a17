"""A decision or an action typed in the huddle is never lost.

Typed while the database is away (the service made to find the server gone once, as
``test_lock_holds_screens.fails_once`` does; the test plays the change watcher and says
when it is back), it is kept in the app's save queue, said so to the room, and saved
when the server is back: it used to be dropped with an error modal. Refused, its form
comes back with its words. Esc on the decision prompt, or on the action form, with
something written asks first, and keeping the text is the default (Enter).
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import Input

from anchor_tui.db import models as m
from anchor_tui.errors import AnchorError
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.huddle import HuddleScreen
from anchor_tui.screens.huddle_modals import ActionScreen
from anchor_tui.screens.prompt import ReasonScreen
from anchor_tui.services import huddle as huddle_service
from anchor_tui.services.backend import Backend
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_huddle import huddle_of, join, shown
from tests.ui.test_lock_holds_screens import answer_lost_once, fails_once
from tests.ui.test_note_editor import until


def items_on(backend: Backend, case_id: int) -> list[tuple[str, str]]:
    with backend.sessions.system("test: huddle items") as s:
        return [(kind, text) for kind, text in s.execute(
            select(m.HuddleItem.kind, m.HuddleItem.text)
            .where(m.HuddleItem.case_id == case_id).order_by(m.HuddleItem.id)).all()]


async def huddle_away(app: Any, pilot: Any) -> tuple[HuddleScreen, int]:
    """A huddle of the social worker and the nurse on its first case; from now on the
    test says when the server is back (the change watcher is stopped)."""
    await huddle_of(pilot, "social")
    screen = await join(pilot, "nurse")
    app.live.stop()
    app.clock.advance(30)  # (an item is the room's from the moment after it was there)
    entry = screen.entry()
    assert entry is not None
    return screen, entry.case_id


def said(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def test_a_decision_typed_while_the_database_is_away_is_kept_and_saved(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huddle_service, "add_decision",
                        fails_once(huddle_service.add_decision))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen, case_id = await huddle_away(app, pilot)
        await pilot.press("d")
        await shown(pilot, ReasonScreen)
        await pilot.press(*"Meet the family", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert save_queue(app).waiting == (f"record a decision on case {case_id}",), (
            "the decision typed while the database was away was not kept")
        assert any("The decision is kept" in text for text in said(app))
        assert items_on(demo_backend, case_id) == []

        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert items_on(demo_backend, case_id) == [("decision", "Meet the family")]
        assert screen.view is not None
        assert [i.text for i in screen.view.items] == ["Meet the family"]


async def test_an_action_typed_while_the_database_is_away_is_kept_and_saved(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huddle_service, "add_action", fails_once(huddle_service.add_action))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen, case_id = await huddle_away(app, pilot)
        await pilot.press("a")
        await shown(pilot, ActionScreen)
        await pilot.press(*"Call the school", "enter", "enter", "enter")
        await settle(pilot)
        assert app.screen is screen
        assert save_queue(app).waiting == (f"record an action on case {case_id}",), (
            "the action typed while the database was away was not kept")
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert items_on(demo_backend, case_id) == [("action", "Call the school")]


async def test_a_decision_whose_commit_answer_was_lost_is_not_written_twice(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first attempt reached the server, its answer did not: made again, it finds
    the decision it wrote."""
    calls: list[int] = []
    monkeypatch.setattr(huddle_service, "add_decision",
                        answer_lost_once(huddle_service.add_decision, calls))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _screen, case_id = await huddle_away(app, pilot)
        await pilot.press("d")
        await shown(pilot, ReasonScreen)
        await pilot.press(*"Meet the family", "enter")
        await settle(pilot)
        assert save_queue(app).waiting != ()
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert items_on(demo_backend, case_id) == [("decision", "Meet the family")]


async def test_a_refused_action_comes_back_with_its_words(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    real = huddle_service.add_action
    calls: list[int] = []

    def refused_once(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise AnchorError("Only someone who works the case can be given its task.",
                              "Choose one of the case's members, or nobody.")
        return real(*args, **kwargs)

    monkeypatch.setattr(huddle_service, "add_action", refused_once)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen, case_id = await huddle_away(app, pilot)
        await pilot.press("a")
        await shown(pilot, ActionScreen)
        await pilot.press(*"Call the school", "enter", "enter", "plus", "3", "enter")
        await until(pilot, lambda: len(calls) == 1 and isinstance(app.screen, ActionScreen))
        again = app.screen
        assert isinstance(again, ActionScreen)
        assert again.query_one("#action-text", Input).value == "Call the school"
        assert again.query_one("#action-due", Input).value != ""
        assert "Only someone who works the case" in str(again.note)
        await pilot.press("tab", "tab", "enter")  # to the due field; Enter saves
        await settle(pilot)
        assert app.screen is screen
        assert items_on(demo_backend, case_id) == [("action", "Call the school")]


async def test_esc_on_a_written_decision_asks_and_enter_keeps_it(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen, case_id = await huddle_away(app, pilot)
        await pilot.press("d")
        prompt = await shown(pilot, ReasonScreen)
        await pilot.press(*"Meet the family", "escape")
        question = await shown(pilot, ConfirmScreen)
        assert "Discard" in question.title_text, "Esc threw the decision away unasked"
        await pilot.press("enter")  # the default: keep editing
        await until(pilot, lambda: app.screen is prompt)
        assert prompt.query_one("#reason-input", Input).value == "Meet the family"
        await pilot.press("escape")
        await shown(pilot, ConfirmScreen)
        await pilot.press("escape")  # Esc on the question keeps it too
        await until(pilot, lambda: app.screen is prompt)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is screen
        assert items_on(demo_backend, case_id) == [("decision", "Meet the family")]
        await pilot.press("d")
        empty = await shown(pilot, ReasonScreen)
        await pilot.press("escape")  # nothing written: closed at once
        await until(pilot, lambda: not empty.is_attached)


async def test_the_action_forms_esc_question_keeps_editing_by_default(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_away(app, pilot)
        await pilot.press("a")
        form = await shown(pilot, ActionScreen)
        await pilot.press(*"Call the school", "escape")
        await shown(pilot, ConfirmScreen)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is form)
        assert form.query_one("#action-text", Input).value == "Call the school", (
            "Enter on the Esc question discarded the action")
