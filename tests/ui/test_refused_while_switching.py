"""A save refused while the next person's sign-in screen is still mounting never
opens its error there: a context is out of use from the moment its replacement starts
to mount, not only once it has (``context_alive``)."""

from __future__ import annotations

import asyncio
import threading
from typing import Any

import pytest

from anchor_tui.errors import ConflictError
from anchor_tui.screens import SignInScreen, board_moves
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.error import ErrorScreen
from tests.ui.conftest import AppFactory, board_for, focused_card, settle
from tests.ui.test_huddle import shown


async def test_a_conflict_refused_while_the_sign_in_mounts_is_not_shown_over_it(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
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
        real_switch_mode = app.switch_mode

        def slow_mount_switch(mode: str) -> Any:
            mounted = real_switch_mode(mode)  # the new mode is current from here

            async def mount_slowly() -> None:
                go.set()  # the conflict comes back while the sign-in screen mounts
                await asyncio.sleep(0.5)
                await mounted

            return mount_slowly()

        await pilot.press("greater_than_sign")
        await shown(pilot, ConfirmScreen)
        await pilot.press("y")
        await pilot.pause()
        app.switch_mode = slow_mount_switch  # type: ignore[method-assign]
        await pilot.press("ctrl+o")
        for _ in range(3):
            await settle(pilot)
        on_show = [type(s).__name__ for s in app.screen_stack]
        assert isinstance(app.screen_stack[0], SignInScreen), on_show
        errors = [s for s in app.screen_stack if isinstance(s, ErrorScreen)]
        assert not errors, (f"over the sign-in screen: {on_show}: "
                            f"{[e.error_message for e in errors]}")
