"""Quitting while changes kept for the database (it was away) still wait to be saved.

They live in the app's process only: quitting used to lose them without a word (a kept
move of a case was simply gone). Now ctrl+q asks first, names them (never at the lock,
where whoever stands there may not see whose case moved), and waits by default.
"""

from __future__ import annotations

import pytest

from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import board_moves
from anchor_tui.screens.board import BoardScreen
from anchor_tui.screens.quit_kept import QuitWithKeptSaves
from anchor_tui.services.backend import Backend
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.screen_reading import screen_text
from tests.ui.test_lock_holds_screens import fails_once, keep_a_move, lock_now, stage_of
from tests.ui.test_note_editor import asked, choose


async def test_quitting_with_a_kept_move_asks_and_waits_by_default(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_moves, "move_stage", fails_once(board_moves.move_stage))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        card = await keep_a_move(app, pilot)
        await pilot.press("ctrl+q")
        question = await asked(app, pilot, QuitWithKeptSaves)
        shown = screen_text(app)
        assert "1 change waits for the database" in shown
        assert f"move {card.person_label} to Screening" in shown
        await pilot.press("ctrl+q")  # again: the same question, not a second one
        await pilot.pause()
        assert app.screen is question and len(app.screen_stack) == 2
        await pilot.press("enter")  # the default: keep the app open
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, BoardScreen)
        assert save_queue(app).waiting != ()

        app.post_message(ConnectionRestored())  # the server is back: the move is saved
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert stage_of(demo_backend, card.case_id) != card.stage
        await pilot.press("ctrl+q")  # nothing waits: quits at once
        await settle(pilot)
    assert app.return_code == 0 and not app.is_running


async def test_quitting_anyway_is_a_deliberate_choice(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_moves, "move_stage", fails_once(board_moves.move_stage))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        card = await keep_a_move(app, pilot)
        await pilot.press("ctrl+q")
        await asked(app, pilot, QuitWithKeptSaves)
        await pilot.press("escape")  # Escape waits too
        await settle(pilot)
        assert app.is_running and isinstance(app.screen, BoardScreen)
        await pilot.press("ctrl+q")
        await choose(app, pilot, "quit")
    assert app.return_code == 0 and not app.is_running
    assert stage_of(demo_backend, card.case_id) == card.stage  # lost, as the person chose


async def test_at_the_lock_the_question_does_not_name_the_changes(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(board_moves, "move_stage", fails_once(board_moves.move_stage))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        card = await keep_a_move(app, pilot)
        await lock_now(app, pilot)
        await pilot.press("ctrl+q")
        await asked(app, pilot, QuitWithKeptSaves)
        shown = screen_text(app)
        assert "1 change waits for the database" in shown
        assert card.person_label not in shown and "move" not in shown.lower().split()
        await pilot.press("escape")
        await pilot.pause()
        assert app.is_running and app.session.locked


async def test_the_question_names_only_the_changes_of_whoever_is_signed_in(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    """The social worker's kept move, then the police sign in at the same terminal: the
    question counts her move but does not name it (her label names the young person as
    she may see them)."""
    monkeypatch.setattr(board_moves, "move_stage", fails_once(board_moves.move_stage))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        card = await keep_a_move(app, pilot)
        await pilot.press("ctrl+o")
        await settle(pilot)
        await sign_in(pilot, "police")
        await pilot.press("ctrl+q")
        question = await asked(app, pilot, QuitWithKeptSaves)
        assert isinstance(question, QuitWithKeptSaves)
        said = f"{question.title_text}\n{question.note}"  # (the board behind names cases)
        assert "1 change waits for the database" in said
        assert card.person_label not in said and "Screening" not in said
