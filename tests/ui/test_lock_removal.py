"""A question asked while a closed context's screens are being removed (a takeover at the
lock, a huddle's roster change behind the lock, ctrl+o out of a huddle): Textual first
runs the app's pending callbacks in the asking worker, among them that removal, which
then cancelled the worker and itself: the app stopped. It must not stop, show nothing of
the closed context, and finish the switch."""

from __future__ import annotations

import asyncio
import threading
import time
from typing import Any

import pytest
from textual.widgets import Input

from anchor_tui.screens import case_work
from anchor_tui.screens import huddle as huddle_screen
from anchor_tui.screens.note_editor import NoteEditorScreen
from tests.ui.conftest import DEMO_PASSPHRASE, AppFactory
from tests.ui.test_huddle import huddle_of, join
from tests.ui.test_lock_holds_screens import lock_now, open_case
from tests.ui.test_lock_races import returns_when
from tests.ui.test_note_editor import asked, until


def asking(app: Any) -> list[Any]:
    """The huddle's workers that ask a question (its own, and a decision's or action's)."""
    return [w for w in app.workers if w.group in ("huddle-ask", "huddle-typed")]


async def still_running(app: Any, ok: Any, seconds: float = 5.0) -> None:
    """Wait (in real time, not through the pilot, which waits 30 s on a dead app) until
    ``ok`` holds; fail at once if the app's message loop has ended."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        assert app.is_running, "the app's message loop ended (the app stopped)"
        if ok():
            return
        await asyncio.sleep(0.02)
    assert app.is_running, "the app's message loop ended (the app stopped)"
    raise AssertionError(f"never settled; on top: {app.screen!r}")


async def test_a_question_asked_while_the_first_persons_screens_are_removed(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """Social asks for her own notes (`e`, read slow) and opens the note editor over the
    case; locks; police signs in at the lock. The read returns while social's stack is
    being removed: the case screen's worker asks its question (Textual's push_screen_wait
    first awaits the app's pending call_next: the removal of that very stack); the case
    screen's unmount cancels the worker, the cancellation spreads to the shared removal
    future, and the app's open_context gets CancelledError: the app's loop ends."""
    app = make_app()
    entered = threading.Event()
    social_mode: list[str] = []

    def removing_social() -> bool:
        return bool(social_mode) and social_mode[0] not in app._screen_stacks

    monkeypatch.setattr(case_work, "own_notes",
                        returns_when(removing_social, case_work.own_notes, entered))
    async with app.run_test(size=(100, 32)) as pilot:
        from tests.ui.conftest import sign_in

        await sign_in(pilot, "social")
        await open_case(app, pilot)
        await pilot.press("e")
        await until(pilot, entered.is_set)
        await pilot.press("n")  # the note editor over the case (removed first)
        await asked(app, pilot, NoteEditorScreen)
        social_mode.append(str(app._viewer_mode))
        lock = await lock_now(app, pilot)
        lock.query_one("#username", Input).value = "police"
        lock.query_one("#passphrase", Input).value = DEMO_PASSPHRASE
        lock.action_submit()
        await still_running(app, lambda: app.viewer is not None
                            and app.viewer.username == "police"
                            and app._lock_mode is None
                            and not [w for w in app.workers if w.group == "case-work-ask"])


async def test_a_huddle_question_asked_as_a_roster_change_finishes_behind_the_lock(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """A huddle of social and the nurse: `a` (an action) reads the case's members (slow),
    `o` opens the case over the huddle screen, the terminal locks, the nurse's leaving
    finishes behind the lock. The members read returns while the old roster's stack is
    being removed; the action form is asked for: the app goes on, locked."""
    from anchor_tui.screens.case import CaseScreen
    from anchor_tui.screens.terminal_messages import RosterChanged
    from anchor_tui.services.huddle import leave_huddle

    app = make_app()
    entered = threading.Event()
    old_mode: list[str] = []

    def removing_old_roster() -> bool:
        return bool(old_mode) and old_mode[0] not in app._screen_stacks

    monkeypatch.setattr(huddle_screen, "case_members",
                        returns_when(removing_old_roster, huddle_screen.case_members, entered))
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        screen = await join(pilot, "nurse")
        await pilot.press("a")
        await until(pilot, entered.is_set)
        await pilot.press("o")
        await asked(app, pilot, CaseScreen)
        old_mode.append(str(app._viewer_mode))
        lock = await lock_now(app, pilot)
        nurse = next(p for p in screen.roster.present if p.username == "nurse")
        roster = leave_huddle(app.backend, screen.viewer, nurse.user_id)
        app.post_message(RosterChanged(roster, None))
        await still_running(app, lambda: app._viewer_mode != old_mode[0]
                            and not asking(app))
        assert app.screen is lock and app.session.locked


async def test_a_huddle_question_asked_as_the_huddle_is_left_with_ctrl_o(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """No lock at all: `a` in a huddle (members read slow), `o` opens the case over it,
    ctrl+o ends the huddle. The read returns while the huddle's stack is being removed."""
    from anchor_tui.screens.case import CaseScreen
    from anchor_tui.screens.sign_in import SignInScreen

    app = make_app()
    entered = threading.Event()
    old_mode: list[str] = []

    def removing_huddle() -> bool:
        return bool(old_mode) and old_mode[0] not in app._screen_stacks

    monkeypatch.setattr(huddle_screen, "case_members",
                        returns_when(removing_huddle, huddle_screen.case_members, entered))
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        await join(pilot, "nurse")
        await pilot.press("a")
        await until(pilot, entered.is_set)
        await pilot.press("o")
        await asked(app, pilot, CaseScreen)
        old_mode.append(str(app._viewer_mode))
        app.call_later(app.switch_user_now)  # ctrl+o, "end" chosen (the pilot's press
        # would wait 30 s on the app stopping under it)
        await still_running(app, lambda: isinstance(app.screen_stack[0], SignInScreen)
                            and not asking(app))
