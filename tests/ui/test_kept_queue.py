"""A reason typed in the queue is never lost.

A snooze typed while the database is away (``snooze_case`` made to find the server gone
once; the test says when it is back) is kept and saved when the server is back: it used
to be dropped with an error modal. A screening decision refused because someone else
changed the case meanwhile keeps its reason: the error shows it, and it is filled in
when the person decides on the case again.
"""

from __future__ import annotations

import pytest
from sqlalchemy import select
from textual.widgets import Input

from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import ErrorScreen, queue_actions
from anchor_tui.screens.prompt import ChoiceScreen, ReasonScreen
from anchor_tui.services.backend import Backend
from tests.ui.asking import choose, give_reason, settle_asking
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_lock_holds_screens import fails_once
from tests.ui.test_queue import case_row, go_to, highlighted, open_queue


def snoozes_of(backend: Backend, case_id: int) -> list[str]:
    with backend.sessions.system("test: snoozes") as s:
        return list(s.scalars(select(m.CaseSnooze.reason)
                              .where(m.CaseSnooze.case_id == case_id)))


async def test_a_snooze_typed_while_the_database_is_away_is_kept_and_saved(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_actions, "snooze_case", fails_once(queue_actions.snooze_case))
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        app.live.stop()  # the test says when the server is back
        await go_to(pilot, screen, "reviews_due", 1)
        item = highlighted(screen)
        await pilot.press("z")
        await choose(pilot, "3")
        await give_reason(pilot, "Waiting for the school's reply")
        await settle(pilot)
        assert not isinstance(app.screen, ErrorScreen)
        assert len(save_queue(app).waiting) == 1, "the snooze was not kept"
        assert snoozes_of(demo_backend, item.case_id) == []
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert snoozes_of(demo_backend, item.case_id) == ["Waiting for the school's reply"]
        assert app.screen is screen and screen.changed


async def test_a_screening_reason_refused_by_a_conflict_is_kept_and_filled_in_again(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        item = highlighted(screen)
        await pilot.press("s")
        await settle_asking(pilot)
        assert isinstance(app.screen, ChoiceScreen)
        with demo_backend.sessions.system("test: another terminal") as s:
            case = s.get(m.Case, item.case_id)
            assert case is not None
            case.priority = 3
        stage_before = case_row(demo_backend, item.case_id)[0]
        await choose(pilot, "take")
        await give_reason(pilot, "Seen with the school nurse on Monday")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ErrorScreen)
        assert "changed by someone else" in modal.error_message
        assert "Seen with the school nurse on Monday" in modal.error_fix, (
            "the refused screening's reason was not shown back")
        assert case_row(demo_backend, item.case_id)[0] == stage_before
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is screen
        assert highlighted(screen).case_id == item.case_id
        await pilot.press("s")
        await settle_asking(pilot)
        await choose(pilot, "take")
        prompt = app.screen
        assert isinstance(prompt, ReasonScreen)
        assert prompt.query_one("#reason-input", Input).value == (
            "Seen with the school nurse on Monday"), "the reason was not kept"
        await pilot.press("enter")
        await settle(pilot)
        assert case_row(demo_backend, item.case_id)[0] != stage_before


async def test_a_kept_snooze_refused_after_the_queue_closed_promises_nothing_it_cannot_do(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The refusal comes once the queue that kept the reason is closed: its reason is
    given back in the error, and the error no longer says it is filled in again (the
    queue opened next is another, which never had it)."""
    from typing import Any

    from anchor_tui.errors import AnchorError, ConnectionLostError

    calls: list[int] = []

    def away_then_refused(*_args: Any, **_kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionLostError("The connection to the database server was lost.")
        raise AnchorError("The case changed.", "Look at it again.")

    monkeypatch.setattr(queue_actions, "snooze_case", away_then_refused)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        screen = await open_queue(app, pilot, "social")
        app.live.stop()
        await go_to(pilot, screen, "reviews_due", 1)
        await pilot.press("z")
        await choose(pilot, "3")
        await give_reason(pilot, "Waiting for the school's reply")
        await settle(pilot)
        assert len(save_queue(app).waiting) == 1
        await app.pop_screen()
        await settle(pilot)
        app.post_message(ConnectionRestored())
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ErrorScreen)
        assert "Waiting for the school's reply" in modal.error_fix
        assert "filled in" not in modal.error_fix, (
            "the error promised to fill in a reason no queue holds any more")
