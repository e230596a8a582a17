"""Someone leaving the huddle (``-``, confirmed) goes through the app's save queue.

It was written by a worker of its own: with the server away (the service made to find
it gone once, as ``test_lock_holds_screens.fails_once`` does; the test plays the change
watcher and says when it is back) the leave was an error and gone; after a commit whose
answer was lost (``answer_lost_once``) nothing made it again, and made again it was
refused as "not in the huddle". It is kept, said so, and made when the server is back
(the screen shows the new roster then, and until then what everyone still counted
present may see); made again after a lost answer it is found done, audited once.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.huddle import HuddleScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services import huddle as huddle_service
from anchor_tui.services.backend import Backend
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_huddle import shown
from tests.ui.test_kept_huddle import huddle_away, said
from tests.ui.test_lock_holds_screens import answer_lost_once, fails_once
from tests.ui.test_note_editor import until
from tests.ui.test_task_done_kept import saves_running


def leaves(backend: Backend, huddle_id: int) -> int:
    with backend.sessions.system("test: leaves") as s:
        return s.scalar(select(func.count()).select_from(m.AuditEvent).where(
            m.AuditEvent.action == "huddle.leave", m.AuditEvent.huddle_id == huddle_id)) or 0


async def remove_the_nurse(app: AnchorApp, pilot: Any) -> tuple[HuddleScreen, str]:
    """The social worker's and the nurse's huddle, the change watcher stopped: ``-``
    removes the nurse (chosen, confirmed). The screen and the nurse's name."""
    screen, _case_id = await huddle_away(app, pilot)
    assert [p.username for p in screen.roster.present] == ["social", "nurse"]
    name = screen.roster.present[1].display_name
    await pilot.press("minus")
    await shown(pilot, ChoiceScreen)
    await pilot.press("down", "enter")
    await shown(pilot, ConfirmScreen)
    await pilot.press("y")
    await settle(pilot)
    return screen, name


async def test_a_leave_while_away_is_kept_and_made(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huddle_service, "leave_huddle",
                        fails_once(huddle_service.leave_huddle))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen, name = await remove_the_nurse(app, pilot)
        assert not isinstance(app.screen, ErrorScreen), "the leave was an error, not kept"
        assert save_queue(app).waiting == (f"remove {name} from the huddle",), (
            "the leave asked for while the database was away was not kept")
        assert any(f"The removal of {name} from the huddle is kept" in text
                   for text in said(app))
        assert app.screen is screen and len(screen.roster.present) == 2  # narrower, still
        assert leaves(demo_backend, screen.roster.huddle_id) == 0

        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        wider = app.screen
        assert isinstance(wider, HuddleScreen) and wider is not screen
        assert [p.username for p in wider.roster.present] == ["social"]
        assert leaves(demo_backend, screen.roster.huddle_id) == 1


async def test_a_leave_whose_answer_was_lost_is_made_once_without_an_error(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(huddle_service, "leave_huddle",
                        answer_lost_once(huddle_service.leave_huddle, calls))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen, _name = await remove_the_nurse(app, pilot)
        assert not isinstance(app.screen, ErrorScreen), "the lost answer was an error"
        assert len(save_queue(app).waiting) == 1, "the leave whose answer was lost was not kept"
        assert leaves(demo_backend, screen.roster.huddle_id) == 1  # written, answer lost

        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == () and not saves_running(app))
        await settle(pilot)
        assert calls == [1], "made again though the first attempt had written it"
        assert not isinstance(app.screen, ErrorScreen), "refused though it was made"
        wider = app.screen
        assert isinstance(wider, HuddleScreen) and wider is not screen
        assert [p.username for p in wider.roster.present] == ["social"]
        assert leaves(demo_backend, screen.roster.huddle_id) == 1
