"""Races between a change and what the shared screen shows.

A join written as another roster change closed its form must still narrow the
screen to what everyone present may see (the terminal reads the roster again from the
database at every change); a save refused as the person switches user must not open
its error over the next person's sign-in (decided on the UI thread, as it is shown).
"""

from __future__ import annotations

import time
from typing import Any

import pytest
from textual.widgets import Input

from anchor_tui.messages import ConnectionRestored
from anchor_tui.screens import huddle_modals
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.huddle import HuddleScreen
from anchor_tui.screens.huddle_modals import JoinScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services import huddle as huddle_service
from anchor_tui.services.backend import Backend
from anchor_tui.settings import DEMO_PASSPHRASE
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_huddle import allowed_to_each, shown
from tests.ui.test_kept_huddle import huddle_away
from tests.ui.test_lock_holds_screens import fails_once


def present_in_db(backend: Backend, huddle_id: int) -> list[str]:
    with backend.sessions.system("test: roster") as s:
        return [p.username for p in huddle_service.read_roster(s, huddle_id).present]


async def test_a_join_made_while_a_kept_leave_lands_is_never_dropped_from_the_screen(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The nurse's removal is kept (database away). The police officer then joins (+,
    own passphrase); while their passphrase is checked the database comes back and the
    kept leave is made: its roster change opens a new huddle context, removing the join
    form (and cancelling its worker), but the join itself is written. The police officer
    is recorded present, in the room, and the shared screen shows what the social
    worker alone may see."""
    monkeypatch.setattr(huddle_service, "leave_huddle",
                        fails_once(huddle_service.leave_huddle))
    app = make_app()
    real_join = huddle_modals.join_huddle

    def join_as_the_server_comes_back(*args: Any, **kwargs: Any) -> Any:
        # The watcher sees the server again while the passphrase is being checked.
        app.call_from_thread(app.post_message, ConnectionRestored())
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:  # until the join form's context has gone
            if not any(isinstance(s, JoinScreen) for stack in app._screen_stacks.values()
                       for s in stack):
                break
            time.sleep(0.02)
        return real_join(*args, **kwargs)

    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen, _case = await huddle_away(app, pilot)
        monkeypatch.setattr(huddle_modals, "join_huddle", join_as_the_server_comes_back)
        huddle_id = screen.roster.huddle_id
        await pilot.press("minus")
        await shown(pilot, ChoiceScreen)
        await pilot.press("down", "enter")
        await shown(pilot, ConfirmScreen)
        await pilot.press("y")
        await settle(pilot)
        assert [p.username for p in app.session.roster.present] == ["social", "nurse"]

        await pilot.press("plus")
        await shown(pilot, JoinScreen)
        app.screen.query_one("#username", Input).value = "police"
        app.screen.query_one("#passphrase", Input).value = DEMO_PASSPHRASE
        app.screen.query_one("#passphrase", Input).focus()
        await pilot.press("enter")
        for _ in range(5):
            await settle(pilot)

        recorded = present_in_db(demo_backend, huddle_id)
        on_screen = [p.username for p in app.session.roster.present]
        assert "police" in recorded  # the join was written: they are present
        huddle = app.screen
        assert isinstance(huddle, HuddleScreen) and huddle.view is not None
        with demo_backend.sessions.system("test: roster") as s:
            room = huddle_service.huddle_viewer(huddle_service.read_roster(s, huddle_id),
                                                huddle.viewer)
        shown_notes = {n.note_id for n in huddle.view.record.notes.notes}
        allowed, _bodies = allowed_to_each(demo_backend, room, huddle.view.record.summary.case_id)
        assert on_screen == recorded and shown_notes <= allowed, (
            f"recorded present: {recorded}; the shared screen's audience: {on_screen}; "
            f"notes on screen that not everyone present may see: "
            f"{sorted(shown_notes - allowed)}")


async def test_a_conflict_refused_as_the_person_switches_user_is_not_shown_at_sign_in(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The social worker moves a case (``>``, confirmed) and presses ctrl+o. The move's
    conflict comes back while the sign-in screen is being put up (``show_mode``: made a
    little slow here, as a loaded terminal is). The save queue asks ``alive()`` in its
    thread, before the switch has replaced the context, so the error is raised to the
    app's handler, which handles it after the switch: the conflict, naming the young
    person, opens over the sign-in screen, for whoever signs in next."""
    import asyncio
    import threading

    from anchor_tui.errors import ConflictError
    from anchor_tui.screens import SignInScreen, board_moves
    from anchor_tui.screens.error import ErrorScreen
    from tests.ui.conftest import board_for, focused_card

    go = threading.Event()
    app = make_app()

    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        board = await board_for(app, pilot, "social")
        card = focused_card(board)

        def conflicted(*_args: Any, **_kwargs: Any) -> Any:
            go.wait(10)
            raise ConflictError(f"{card.person_label}'s case was changed by someone else.",
                                "Nothing was changed.")

        monkeypatch.setattr(board_moves, "move_stage", conflicted)
        real_show_mode = app.show_mode

        async def slow_show_mode(mode: str) -> None:
            go.set()
            await asyncio.sleep(0.5)
            await real_show_mode(mode)

        await pilot.press("greater_than_sign")
        await shown(pilot, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        app.show_mode = slow_show_mode  # type: ignore[method-assign]
        await pilot.press("ctrl+o")
        for _ in range(3):
            await settle(pilot)
        on_show = [type(s).__name__ for s in app.screen_stack]
        assert isinstance(app.screen_stack[0], SignInScreen), on_show
        errors = [s for s in app.screen_stack if isinstance(s, ErrorScreen)]
        assert not errors, (f"over the sign-in screen: {on_show}: "
                            f"{[e.error_message for e in errors]}")
