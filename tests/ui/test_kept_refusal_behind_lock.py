"""A change kept while the database was away, refused once it is back while the
terminal is locked, is never shown over the lock screen.

The queue's snooze or screening decision keeps its reason when it is refused (someone
else changed the case meanwhile): the error modal quotes the reason, the person's words
about the young person. Refused after its maker has locked the terminal (or the idle
lock has), the modal waits behind the lock for them, as every other error of theirs
does: whoever stands at the locked terminal reads nothing of it.
"""

from __future__ import annotations

import pytest

from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import ErrorScreen, queue_actions
from anchor_tui.services.backend import Backend
from tests.ui.asking import choose, give_reason, settle_asking
from tests.ui.conftest import AppFactory, settle
from tests.ui.screen_reading import screen_text
from tests.ui.test_lock_holds_screens import fails_once, lock_now, unlock
from tests.ui.test_queue import highlighted, open_queue

REASON = "Seen at the psychiatric outpatient clinic"


async def test_a_kept_screening_refused_while_locked_waits_behind_the_lock(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(queue_actions, "mark_screened", fails_once(queue_actions.mark_screened))
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        screen = await open_queue(app, pilot, "social")
        app.live.stop()  # the test says when the server is back
        item = highlighted(screen)
        await pilot.press("s")
        await settle_asking(pilot)
        await choose(pilot, "take")
        await give_reason(pilot, REASON)
        await settle(pilot)
        assert len(save_queue(app).waiting) == 1, "the screening was not kept"
        with demo_backend.sessions.system("test: another terminal") as s:
            case = s.get(m.Case, item.case_id)
            assert case is not None
            case.priority = 3  # the kept screening is refused when it is made
        lock = await lock_now(app, pilot)
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert app.screen is lock, f"{type(app.screen).__name__} is over the lock"
        shown = screen_text(app)
        assert REASON not in shown and "changed by someone else" not in shown, shown
        await unlock(app, pilot, "social")
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ErrorScreen), type(modal)
        assert REASON in modal.error_fix, "the person was not told their reason is kept"
        assert isinstance(screen, queue_actions.QueueActions)


@pytest.mark.parametrize("case_view_open", [True, False], ids=["case-view-open",
                                                                 "case-view-closed"])
async def test_a_kept_error_mark_refused_while_locked_waits_behind_the_lock(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch,
        case_view_open: bool) -> None:
    """An entered-in-error mark kept while the database was away and refused after the
    terminal was locked: its reason (asked again in the case view, or given back in an
    error once the case view has closed) waits for its maker behind the lock."""
    from anchor_tui.screens import case_work
    from anchor_tui.screens.lock import LockScreen
    from anchor_tui.screens.prompt import ReasonScreen
    from tests.ui.test_kept_case import away_then_refused, mark_kept_while_away
    from tests.ui.test_note_editor import until

    mark = "Written about the wrong young person"
    calls: list[int] = []
    monkeypatch.setattr(case_work, "mark_entered_in_error",
                        away_then_refused(case_work.mark_entered_in_error, calls))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        case_view = await mark_kept_while_away(app, pilot, demo_backend, mark)
        if not case_view_open:
            await app.pop_screen()
            await until(pilot, lambda: not case_view.is_attached)
        lock = await lock_now(app, pilot)
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: len(calls) == 2)
        for _ in range(10):  # not settle: a reason asked again waits for its answer
            await pilot.pause()
        assert app.screen is lock, f"{type(app.screen).__name__} is over the lock"
        assert isinstance(app.screen, LockScreen)
        shown = screen_text(app)
        assert mark not in shown and "changed meanwhile" not in shown, shown
        await unlock(app, pilot, "social")
        await until(pilot, lambda: isinstance(app.screen, ReasonScreen | ErrorScreen))
        if case_view_open:
            again = app.screen
            assert isinstance(again, ReasonScreen), type(again)
            assert again.value == mark
        else:
            modal = app.screen
            assert isinstance(modal, ErrorScreen), type(modal)
            assert mark in modal.error_fix
