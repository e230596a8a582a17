"""Snapshots of the triage queue and the case view at 80x24 and 160x48 (the board's are in
``test_screens``). The demo data and the app's calendar are fixed to one day, and the
case view's times are shown in UTC here, so nothing depends on when or where the tests
run. Update with ``--snapshot-update`` after a deliberate change, and look at the diff.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from textual.pilot import Pilot

from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.queue import QueueScreen
from tests.ui.conftest import AppFactory, settle, sign_in

SIZES = [pytest.param((80, 24), id="80x24"), pytest.param((160, 48), id="160x48")]
SnapCompare = Callable[..., bool]
CASE = 2
"""A demo case that every profession works."""


@pytest.fixture(autouse=True)
def utc(monkeypatch: pytest.MonkeyPatch) -> Iterator[None]:
    """Times on screen are local: make "local" the same everywhere."""
    monkeypatch.setenv("TZ", "UTC")
    time.tzset()
    yield
    monkeypatch.undo()
    time.tzset()


@pytest.mark.parametrize("size", SIZES)
def test_queue_for_the_nurse(snap_compare: SnapCompare, make_app: AppFactory,
                             size: tuple[int, int]) -> None:
    async def in_queue(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, "nurse")
        await pilot.press("t")
        await settle(pilot)
        assert isinstance(pilot.app.screen, QueueScreen)
        await pilot.press("3", "j")  # input asked of health, the second item
        await settle(pilot)

    assert snap_compare(make_app(), terminal_size=size, run_before=in_queue)


@pytest.mark.parametrize("size", SIZES)
def test_case_view_for_social_work(snap_compare: SnapCompare, make_app: AppFactory,
                                   size: tuple[int, int]) -> None:
    async def in_case(pilot: Pilot[Any]) -> None:
        await sign_in(pilot, "social")
        await pilot.app.push_screen(CaseScreen(CASE))
        await settle(pilot)
        assert isinstance(pilot.app.screen, CaseScreen)

    assert snap_compare(make_app(), terminal_size=size, run_before=in_case)
