"""Races at the lock and at a switch of context: what of a person's work that returns at
the moment the lock screen mounts, or the next person's board mounts, must not reach the
screen or the next person; a save that fails after the person has gone is logged, not
shown; a note saved behind the lock closes its editor there.

A service function is wrapped to return exactly at that moment (its thread waits for
the app's state, with a deadline)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from typing import Any

import pytest

from anchor_tui.app import AnchorApp
from anchor_tui.messages import ConnectionRestored
from anchor_tui.screens import board_moves, case_work
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.lock import LockScreen
from anchor_tui.services import case_actions
from anchor_tui.services.backend import Backend
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.screen_reading import screen_text
from tests.ui.test_lock_holds_screens import (
    ask_note_history,
    fails_once,
    keep_a_move,
    lock_now,
    open_case,
    unlock,
)
from tests.ui.test_note_editor import until


async def test_a_kept_save_that_fails_after_a_takeover_at_the_lock_shows_nothing_to_the_next(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """social's move is kept (server away); the case is changed elsewhere; social locks;
    police signs in at the lock; the server is back, the kept move is tried and conflicts."""
    monkeypatch.setattr(board_moves, "move_stage", fails_once(board_moves.move_stage))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        card = await keep_a_move(app, pilot)
        viewer = app.viewer
        assert viewer is not None
        stages = [s.id for s in demo_backend.team.stages if not s.closed]
        target = stages[stages.index(card.stage) + 1]
        other = next(s for s in stages if s not in (card.stage, target))
        ref = case_actions.case_ref(demo_backend, viewer, card.case_id)  # another terminal
        case_actions.move_stage(demo_backend, viewer, card.case_id, ref.version, other)
        await lock_now(app, pilot)
        await unlock(app, pilot, "police")  # police signs in instead: social's session ends
        await settle(pilot)
        app.post_message(ConnectionRestored())
        await settle(pilot)
        shown = screen_text(app)
        assert not isinstance(app.screen, ErrorScreen), shown
        assert "Yours: move to" not in shown and "Changed by someone else" not in shown


def returns_when(condition: Callable[[], bool], real: Callable[..., Any],
                 entered: threading.Event) -> Callable[..., Any]:
    """Reads for real, then returns the moment ``condition`` holds (a database that
    answers just then)."""

    def held(*args: Any, **kwargs: Any) -> Any:
        entered.set()
        result = real(*args, **kwargs)
        deadline = time.monotonic() + 20
        while not condition() and time.monotonic() < deadline:
            time.sleep(0.0002)
        return result

    return held


def lock_is_mounting(app: AnchorApp) -> bool:
    """The lock's mode is on show, the app's note of it not made yet."""
    return app._current_mode.startswith("lock-") and app._lock_mode is None


async def test_a_read_returning_while_the_lock_screen_mounts_is_not_drawn_over_it(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    entered = threading.Event()

    def lock_mounting() -> bool:
        return lock_is_mounting(app)

    monkeypatch.setattr(case_work, "note_history",
                        returns_when(lock_mounting, case_work.note_history, entered))
    async with app.run_test(size=(100, 32)) as pilot:
        note = await ask_note_history(app, pilot, entered)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: app._lock_mode is not None)
        await settle(pilot)
        assert app.session.locked
        shown = screen_text(app)
        assert isinstance(app.screen, LockScreen), (app.screen_stack, shown)
        assert note.body.splitlines()[0] not in shown


async def test_a_form_saved_while_the_lock_screen_mounts_closes_behind_it(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    from anchor_tui.screens import task_form
    from anchor_tui.screens.task_form import TaskFormScreen
    from tests.ui.test_note_editor import asked

    app = make_app()
    entered = threading.Event()

    def lock_mounting() -> bool:
        return lock_is_mounting(app)

    monkeypatch.setattr(task_form, "add_task",
                        returns_when(lock_mounting, task_form.add_task, entered))
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "social")
        case = await open_case(app, pilot)
        await pilot.press("t")
        await asked(app, pilot, TaskFormScreen)
        await settle(pilot)
        await pilot.press(*"Ring the school", "ctrl+s")
        await until(pilot, entered.is_set)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: app._lock_mode is not None or not app.is_running)
        await settle(pilot)
        assert app.is_running  # the form's dismiss popped the lock's own stack
        assert isinstance(app.screen, LockScreen)
        await unlock(app, pilot, "social")
        assert app.screen is case


async def test_a_read_returning_while_the_next_persons_board_mounts_is_not_shown_to_them(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    app = make_app()
    entered = threading.Event()
    lock_modes: list[str] = []

    def takeover_mounting() -> bool:  # police's board is on show, social's screens still up
        return (app._current_mode.startswith("viewer-") and bool(lock_modes)
                and app._current_mode != app._viewer_mode)

    monkeypatch.setattr(case_work, "note_history",
                        returns_when(takeover_mounting, case_work.note_history, entered))
    async with app.run_test(size=(100, 32)) as pilot:
        note = await ask_note_history(app, pilot, entered)
        await lock_now(app, pilot)
        lock_modes.append(str(app._lock_mode))
        await unlock(app, pilot, "police")  # police signs in at the lock: a takeover
        await settle(pilot)
        assert app.viewer is not None and app.viewer.username == "police"
        shown = screen_text(app)
        assert note.body.splitlines()[0][:40] not in shown, (app.screen_stack, shown)


async def test_a_note_saved_while_locked_closes_its_editor_as_it_would_unlocked(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    from anchor_tui.screens import note_editor
    from anchor_tui.screens.note_editor import NoteEditorScreen
    from tests.ui.test_lock_holds_screens import Gate, workers_done
    from tests.ui.test_note_editor import asked

    gate = Gate()
    monkeypatch.setattr(note_editor, "save_note", gate.hold(note_editor.save_note))
    app = make_app()
    try:
        async with app.run_test(size=(100, 32)) as pilot:
            await sign_in(pilot, "social")
            case = await open_case(app, pilot)
            await pilot.press("n")
            editor = await asked(app, pilot, NoteEditorScreen)
            await settle(pilot)
            await pilot.press(*"Met at the youth centre.", "ctrl+s")
            await until(pilot, gate.entered.is_set)
            await lock_now(app, pilot)
            gate.opened.set()
            await workers_done(app, pilot)
            await unlock(app, pilot, "social")
            await settle(pilot)
            assert app.screen is case and not editor.is_attached, app.screen_stack
    finally:
        gate.opened.set()


async def test_a_question_asked_while_the_next_persons_board_mounts_is_not_put_to_them(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """`e` reads the social worker's own notes, then an async worker asks which to
    correct. Textual runs such a worker in the app's context: the question is routed by
    the worker's own screen, so as another person takes over it is not asked of them
    (nor shown: it lists the notes' first lines), and the worker is cancelled."""
    from anchor_tui.screens.prompt import ChoiceScreen

    app = make_app()
    entered = threading.Event()
    lock_modes: list[str] = []

    def takeover_mounting() -> bool:
        return (app._current_mode.startswith("viewer-") and bool(lock_modes)
                and app._current_mode != app._viewer_mode)

    monkeypatch.setattr(case_work, "own_notes",
                        returns_when(takeover_mounting, case_work.own_notes, entered))
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "social")
        await open_case(app, pilot)
        await pilot.press("e")
        await until(pilot, entered.is_set)
        await lock_now(app, pilot)
        lock_modes.append(str(app._lock_mode))
        await unlock(app, pilot, "police")
        await settle(pilot)  # (would wait for ever for a question left pending)
        assert app.viewer is not None and app.viewer.username == "police"
        assert not any(isinstance(s, ChoiceScreen) for s in app.screen_stack), \
            app.screen_stack
        assert "Correct which note?" not in screen_text(app)
        assert not [w for w in app.workers if w.group == "case-work-ask"]
