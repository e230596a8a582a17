"""A move from the board, or an edit from the case view, whose commit reached the server
while its answer was lost is made once and said done.

To the terminal a cut answer looks like a lost connection: the change is kept and made
again when the server is back. Here the save really writes and then fails as a cut
connection would (``answer_lost_once``); the test says when the server is back. Made
again with the version the person saw, the change used to be refused as someone else's
(the version its own first attempt moved on): the board showed an error and the case
view a conflict with the person's own change. It is found as the first attempt wrote
it: in the history once, said saved, and never shown as a conflict.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import func, select
from textual.pilot import Pilot
from textual.widgets import OptionList

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import board_moves, case_work
from anchor_tui.screens.conflict import ConflictScreen
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_edits import case_state
from tests.ui.asking import confirm
from tests.ui.conftest import TODAY, AppFactory, board_for, focused_card, settle, sign_in
from tests.ui.test_case_work import open_case
from tests.ui.test_lock_holds_screens import answer_lost_once, stage_of
from tests.ui.test_note_editor import CASE, asked, until


def history_count(backend: Backend, case_id: int, kind: str, to_value: str) -> int:
    with backend.sessions.system("test: the case's history") as s:
        return s.scalar(select(func.count()).select_from(m.CaseEvent).where(
            m.CaseEvent.case_id == case_id, m.CaseEvent.kind == kind,
            m.CaseEvent.to_value == to_value)) or 0


async def made_again(app: AnchorApp, pilot: Pilot[Any], calls: list[int]) -> None:
    """The server is back: the kept change (its first attempt written, ``calls``) is
    made again. Waited for by the save queue, not ``settle``: a conflict asked about
    would wait for ever."""
    assert len(calls) == 1
    app.post_message(ConnectionRestored())
    await until(pilot, lambda: save_queue(app).waiting == () and not [
        w for w in app.workers if w.group == "save" and not w.is_finished])
    for _ in range(10):  # what the save's result opens, if anything
        await pilot.pause()


async def test_a_board_move_whose_answer_was_lost_is_not_shown_as_a_conflict(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[int] = []
    monkeypatch.setattr(board_moves, "move_stage",
                        answer_lost_once(board_moves.move_stage, calls))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        board = await board_for(app, pilot, "social")
        app.live.stop()  # the test says when the server is back
        card = focused_card(app)
        before = history_count(demo_backend, card.case_id, "stage", "screening")
        await pilot.press("greater_than_sign")
        await confirm(pilot, yes=True)
        await settle(pilot)
        assert not isinstance(app.screen, ErrorScreen)
        assert len(save_queue(app).waiting) == 1, "the move was not kept"
        await made_again(app, pilot, calls)
        shown = app.screen
        assert not isinstance(shown, ErrorScreen), (
            f"the move made again was refused: {shown.error_message}")
        assert shown is board
        said = [n.message for n in app._notifications]
        assert f"Moved {card.person_label} to Screening." in said
    assert stage_of(demo_backend, card.case_id) == "screening"
    assert history_count(demo_backend, card.case_id, "stage", "screening") == before + 1
    assert len(calls) == 1  # found, not made again


@pytest.mark.parametrize(("key", "kind"), [("p", "priority"), ("s", "stage")])
async def test_a_case_edit_whose_answer_was_lost_is_not_a_conflict_with_itself(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch,
        key: str, kind: str) -> None:
    calls: list[int] = []
    monkeypatch.setattr(case_work, "apply_change",
                        answer_lost_once(case_work.apply_change, calls))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await sign_in(pilot, "social")
        case_view = await open_case(app, pilot)
        viewer = app.viewer
        assert viewer is not None
        before = case_state(demo_backend, viewer, CASE, TODAY)
        app.live.stop()  # the test says when the server is back
        await pilot.press(key)
        question = await asked(app, pilot)
        assert isinstance(question, ChoiceScreen)
        if kind == "priority":
            wanted = "3" if before.priority != 3 else "1"
        else:
            wanted = "follow_up" if before.stage != "follow_up" else "anchor_meeting"
        question.query_one(OptionList).highlighted = [
            v for v, _ in question.choices].index(wanted)
        await pilot.press("enter")
        await until(pilot, lambda: len(calls) == 1 and len(save_queue(app).waiting) == 1)
        written = history_count(demo_backend, CASE, kind, wanted)
        await made_again(app, pilot, calls)
        assert not isinstance(app.screen, ConflictScreen), (
            "the edit made again was shown as a conflict with itself")
        assert app.screen is case_view
        after = case_state(demo_backend, viewer, CASE, TODAY)
        assert str(after.priority if kind == "priority" else after.stage) == wanted
        assert after.version == before.version + 1, "the edit was written twice"
        assert history_count(demo_backend, CASE, kind, wanted) == written
        said = [n.message for n in app._notifications]
        assert any("kept while the database was away, is saved" in text for text in said)
        assert "Case changed." in said
    assert len(calls) == 1  # found, not made again
