"""A kept change refused later never takes the form open at that moment with it.

A decision typed while the database was away is kept and made when it is back; by then
the room may be typing an action. The refusal asks the decision again with its words,
over the action's form; the action typed there, once saved, must be saved too. The
re-ask used to start as an exclusive worker of the screen's asking group: it cancelled
the worker awaiting the action's form, whose answer then went nowhere.
"""

from __future__ import annotations

from typing import Any

import pytest

from anchor_tui.errors import AnchorError, ConnectionLostError
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens.huddle_modals import ActionScreen
from anchor_tui.screens.prompt import ReasonScreen
from anchor_tui.services import huddle as huddle_service
from anchor_tui.services.backend import Backend
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_huddle import shown
from tests.ui.test_kept_case import away_then_refused, mark_kept_while_away
from tests.ui.test_kept_huddle import huddle_away, items_on
from tests.ui.test_note_editor import until


async def test_a_refused_kept_decision_does_not_lose_the_action_being_typed(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    real = huddle_service.add_decision
    calls: list[int] = []

    def away_then_refused(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionLostError("The connection to the database server was lost.")
        if len(calls) == 2:
            raise AnchorError("The huddle changed.", "Check the decision still holds.")
        return real(*args, **kwargs)

    monkeypatch.setattr(huddle_service, "add_decision", away_then_refused)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen, case_id = await huddle_away(app, pilot)
        await pilot.press("d")
        await shown(pilot, ReasonScreen)
        await pilot.press(*"Meet the family", "enter")
        await settle(pilot)
        assert save_queue(app).waiting != ()

        await pilot.press("a")
        form = await shown(pilot, ActionScreen)
        await pilot.press(*"Call the school")
        app.post_message(ConnectionRestored())  # the decision is made again: refused
        await until(pilot, lambda: len(calls) == 2 and isinstance(app.screen, ReasonScreen))
        await pilot.press("enter")  # the decision, with its words, saved this time
        await until(pilot, lambda: app.screen is form)
        await pilot.press("enter", "enter", "enter")  # the action's form, saved
        await settle(pilot)
        assert app.screen is screen
        assert sorted(items_on(demo_backend, case_id)) == [
            ("action", "Call the school"), ("decision", "Meet the family")], (
            "the action typed when the refusal came was lost")


async def test_a_refused_kept_error_mark_does_not_lose_the_review_day_being_typed(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The same in the case view: an entered-in-error mark kept while away, refused when
    made again, asks its reason again over the next review's prompt; the day typed there
    is still written."""
    from anchor_tui.screens import case_work
    from anchor_tui.services.case_edits import case_state
    from tests.ui.conftest import TODAY
    from tests.ui.test_note_editor import CASE, asked, notes_by

    calls: list[int] = []
    monkeypatch.setattr(case_work, "mark_entered_in_error",
                        away_then_refused(case_work.mark_entered_in_error, calls))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        case_view = await mark_kept_while_away(app, pilot, demo_backend)
        viewer = app.viewer
        assert viewer is not None
        await pilot.press("d")
        review = await asked(app, pilot, ReasonScreen)
        await pilot.press(*"2026-12-24")
        app.post_message(ConnectionRestored())  # the mark is made again: refused
        await until(pilot, lambda: len(calls) == 2 and app.screen is not review
                    and isinstance(app.screen, ReasonScreen))
        await pilot.press("enter")  # the reason again, saved this time
        await until(pilot, lambda: app.screen is review)
        await pilot.press("enter")  # the review day
        await settle(pilot)
        assert app.screen is case_view
        [marked] = notes_by(demo_backend, "social")
        assert marked.entered_in_error
        assert str(case_state(demo_backend, viewer, CASE, TODAY).next_review) == \
            "2026-12-24", "the review day typed when the refusal came was lost"


async def test_a_huddle_ended_while_its_decision_is_kept_ends_after_it(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """A decision typed while the database was away waits in the save queue; the room
    ends the huddle. The end used to be written at once, before the decision (the
    server back, the change watcher not yet aware): the decision, made then, was refused
    (the huddle had ended) and went to the error log, its words lost and the minutes
    without it. The end now waits its turn after what the huddle kept."""
    from sqlalchemy import select

    from anchor_tui.db import models as m
    from anchor_tui.screens.confirm import ConfirmScreen
    from anchor_tui.screens.sign_in import SignInScreen
    from tests.ui.test_lock_holds_screens import fails_once

    monkeypatch.setattr(huddle_service, "add_decision",
                        fails_once(huddle_service.add_decision))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        screen, case_id = await huddle_away(app, pilot)
        huddle_id = screen.viewer.huddle_id
        await pilot.press("d")
        await shown(pilot, ReasonScreen)
        await pilot.press(*"Meet the family", "enter")
        await settle(pilot)
        assert save_queue(app).waiting != ()
        await pilot.press("e")
        await shown(pilot, ConfirmScreen)
        await pilot.press("y")
        await until(pilot, lambda: isinstance(app.screen_stack[0], SignInScreen))
        await settle(pilot)
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == ())
        await settle(pilot)
        assert items_on(demo_backend, case_id) == [("decision", "Meet the family")], (
            "the decision kept when the huddle ended was lost")
        with demo_backend.sessions.system("test") as s:
            huddle = s.scalars(select(m.Huddle).where(m.Huddle.id == huddle_id)).one()
            assert huddle.ended_at is not None
            assert "Meet the family" in (huddle.minutes or "")


async def test_a_refused_kept_error_mark_after_its_case_view_closed_gives_its_reason_back(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The case view where the mark was made is closed when the mark, kept while the
    database was away, is refused: its reason was dropped without a word (asked again
    only while the case view is open). The same person is told, with their reason."""
    from textual.widgets import Static

    from anchor_tui.screens import case_work
    from anchor_tui.screens.error import ErrorScreen
    from tests.ui.test_note_editor import asked

    calls: list[int] = []
    monkeypatch.setattr(case_work, "mark_entered_in_error",
                        away_then_refused(case_work.mark_entered_in_error, calls))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        case_view = await mark_kept_while_away(app, pilot, demo_backend)
        await app.pop_screen()
        await until(pilot, lambda: not case_view.is_attached)
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: len(calls) == 2)
        error = await asked(app, pilot, ErrorScreen)
        said = " ".join(str(w.render()) for w in error.query(Static))
        assert "Wrong young person" in said, "the refused mark's reason was dropped"
