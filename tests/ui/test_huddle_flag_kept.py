"""``!`` on the board (flag a case for the huddle) goes through the app's save queue.

It was written by a worker of its own: with the server away (the service made to find
it gone once, as ``test_lock_holds_screens.fails_once`` does; the test plays the change
watcher and says when it is back) the flag was an error and gone; after a commit whose
answer was lost (``answer_lost_once``) nothing made it again, and a toggle made again
would have taken the flag away it had just set. It is kept, said so, and set when the
server is back; made again after a lost answer, it stays set, said as it was.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.domain import CaseCard
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.services import huddle_flags
from anchor_tui.services.backend import Backend
from tests.ui.conftest import AppFactory, board_for, focused_card, settle
from tests.ui.test_lock_holds_screens import answer_lost_once, fails_once
from tests.ui.test_note_editor import until
from tests.ui.test_task_done_kept import saves_running


def open_flags(backend: Backend, case_id: int) -> int:
    with backend.sessions.system("test: the flags") as s:
        return len(s.scalars(select(m.HuddleFlag.id).where(
            m.HuddleFlag.case_id == case_id, m.HuddleFlag.cleared_at.is_(None))).all())


def said(app: Any) -> list[str]:
    return [str(n.message) for n in app._notifications]


async def flag_while_away(app: AnchorApp, pilot: Any, backend: Backend) -> CaseCard:
    """The social worker presses ``!`` on the focused card (not flagged), the change
    watcher stopped (the test says when the server is back)."""
    await board_for(app, pilot, "social")
    card = focused_card(app)
    assert open_flags(backend, card.case_id) == 0
    app.live.stop()
    await pilot.press("exclamation_mark")
    await settle(pilot)
    return card


async def test_a_flag_set_while_away_is_kept_and_set(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huddle_flags, "set_flag", fails_once(huddle_flags.set_flag))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        card = await flag_while_away(app, pilot, demo_backend)
        assert not isinstance(app.screen, ErrorScreen), "the flag was an error, not kept"
        assert save_queue(app).waiting == (
            f"flag case {card.case_id} for the huddle, or take its flag away",), (
            "the flag set while the database was away was not kept")
        assert any(f"The huddle flag on {card.person_label} is kept" in text
                   for text in said(app))
        assert open_flags(demo_backend, card.case_id) == 0

        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert open_flags(demo_backend, card.case_id) == 1
        assert f"{card.person_label} is on the next huddle's agenda." in said(app)


async def test_a_flag_whose_answer_was_lost_is_set_once_and_stays(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first attempt reached the server, its answer did not: made again, the case is
    found flagged already and stays so (a toggle took the flag away again)."""
    calls: list[int] = []
    monkeypatch.setattr(huddle_flags, "set_flag",
                        answer_lost_once(huddle_flags.set_flag, calls))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        card = await flag_while_away(app, pilot, demo_backend)
        assert not isinstance(app.screen, ErrorScreen), "the lost answer was an error"
        assert len(save_queue(app).waiting) == 1, "the flag whose answer was lost was not kept"
        assert open_flags(demo_backend, card.case_id) == 1  # written, its answer lost

        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == () and not saves_running(app))
        await settle(pilot)
        assert calls == [1, 1]
        assert not isinstance(app.screen, ErrorScreen)
        assert open_flags(demo_backend, card.case_id) == 1, "the flag made again undid itself"
        assert f"{card.person_label} is on the next huddle's agenda." in said(app)
        assert not any("no longer flagged" in text for text in said(app))


async def test_two_presses_while_away_flag_and_take_away_in_order(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """``!`` twice while away: both kept, made in the order pressed, each from the flag
    as the one before left it: the case ends as it began, unflagged."""
    monkeypatch.setattr(huddle_flags, "set_flag", fails_once(huddle_flags.set_flag))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        card = await flag_while_away(app, pilot, demo_backend)
        await pilot.press("exclamation_mark")
        await settle(pilot)
        assert len(save_queue(app).waiting) == 2
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert open_flags(demo_backend, card.case_id) == 0
        words = [t for t in said(app) if card.person_label in t and "huddle" in t
                 and "kept" not in t]
        assert words[-2:] == [f"{card.person_label} is on the next huddle's agenda.",
                              f"{card.person_label} is no longer flagged for the huddle."]
