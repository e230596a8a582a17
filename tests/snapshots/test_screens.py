"""A small, deterministic set of snapshots: sign-in and the board at 80x24 and 160x48.

The demo data is seeded for a fixed day and the app's calendar is fixed to it, so
nothing on screen depends on when the tests run. Update with ``--snapshot-update`` after
a deliberate change to these screens (or to the demo data), and look at the diff.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.widgets import Input

from anchor_tui.screens import BoardScreen
from tests.ui.conftest import AppFactory, first_context, sign_in

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]
SnapCompare = Callable[..., bool]


@pytest.mark.parametrize("size", SIZES)
def test_sign_in_screen(snap_compare: SnapCompare, make_app: AppFactory,
                        size: tuple[int, int]) -> None:
    async def steady_cursor(pilot: Pilot[Any]) -> None:
        # The cursor blinks on a timer: caught on or off, the snapshot would differ. The
        # sign-in screen opens once Textual's start-up is over: wait for it (on a loaded
        # host this ran while Textual's default screen was current, found no field, and
        # the snapshot caught the cursor off).
        await first_context(pilot)
        fields = list(pilot.app.screen.query(Input))
        assert fields, "the sign-in screen has its fields"
        for field in fields:
            field.cursor_blink = False
        await pilot.pause()

    assert snap_compare(make_app(), terminal_size=size, run_before=steady_cursor)


@pytest.mark.parametrize("size", SIZES)
def test_board_for_the_nurse(snap_compare: SnapCompare, make_app: AppFactory,
                             size: tuple[int, int]) -> None:
    async def signed_in(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, "nurse")
        assert isinstance(pilot.app.screen, BoardScreen)

    assert snap_compare(make_app(), terminal_size=size, run_before=signed_in)
