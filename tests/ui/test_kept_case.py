"""Changes made in the case view while the database is away are kept, not lost.

The entered-in-error mark (its reason typed) and the case edits (s/p/d/w) were written
by a plain worker: with the server away (the service made to find it gone once, as
``test_lock_holds_screens.fails_once`` does; the test says when it is back) the change
and its reason were gone with an error. They are kept and saved when it is back.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widgets import OptionList

from anchor_tui.app import AnchorApp
from anchor_tui.errors import AnchorError, ConnectionLostError
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import case_work
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.screens.prompt import ChoiceScreen, ReasonScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_edits import case_state
from tests.ui.conftest import TODAY, AppFactory, settle, sign_in
from tests.ui.test_case_work import open_case
from tests.ui.test_lock_holds_screens import answer_lost_once, fails_once
from tests.ui.test_note_editor import CASE, asked, choose, notes_by, until

MARK = "Wrong young person"


async def mark_kept_while_away(app: AnchorApp, pilot: Pilot[Any], backend: Backend,
                               reason: str = MARK) -> Screen[Any]:
    """Signed in as the social worker, a note written on the case, the server away (the
    test says when it is back): ``x`` marks the note entered in error with ``reason``,
    and the mark is kept. The case view is returned."""
    await sign_in(pilot, "social")
    case_view = await open_case(app, pilot)
    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, NoteEditorScreen))
    await settle(pilot)
    await pilot.press(*"Met at ten.", "ctrl+s")
    await settle(pilot)
    [note] = notes_by(backend, "social")
    app.live.stop()
    await pilot.press("x")
    await choose(app, pilot, str(note.id), then_settle=False)
    await asked(app, pilot, ReasonScreen)
    await pilot.press(*reason, "enter")
    await settle(pilot)
    assert not isinstance(app.screen, ErrorScreen)
    assert len(save_queue(app).waiting) == 1, "the entered-in-error mark was not kept"
    return case_view


def away_then_refused(real: Callable[..., Any], calls: list[int]) -> Callable[..., Any]:
    """The first call finds the server gone, the second is refused (the note changed
    meanwhile), later ones go through; each call is counted in ``calls``."""
    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionLostError("The connection to the database server was lost.")
        if len(calls) == 2:
            raise AnchorError("The note changed meanwhile.", "Check the reason still holds.")
        return real(*args, **kwargs)

    return flaky


async def test_an_entered_in_error_reason_typed_while_away_is_kept_and_saved(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_work, "mark_entered_in_error",
                        fails_once(case_work.mark_entered_in_error))
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        case_view = await mark_kept_while_away(app, pilot, demo_backend)
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        [marked] = notes_by(demo_backend, "social")
        assert marked.entered_in_error and marked.error_reason == "Wrong young person"
        assert app.screen is case_view


async def test_a_case_edit_made_while_away_is_kept_and_saved(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(case_work, "apply_change", fails_once(case_work.apply_change))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        case_view = await open_case(app, pilot)
        viewer = app.viewer
        assert viewer is not None
        before = case_state(demo_backend, viewer, CASE, TODAY)
        app.live.stop()
        await pilot.press("p")
        question = await asked(app, pilot)
        assert isinstance(question, ChoiceScreen)
        wanted = "3" if before.priority != 3 else "1"
        question.query_one(OptionList).highlighted = [
            v for v, _ in question.choices].index(wanted)
        await pilot.press("enter")
        await settle(pilot)
        assert not isinstance(app.screen, ErrorScreen)
        assert len(save_queue(app).waiting) == 1, "the case edit was not kept"
        assert case_state(demo_backend, viewer, CASE, TODAY).priority == before.priority
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert case_state(demo_backend, viewer, CASE, TODAY).priority == int(wanted)
        assert app.screen is case_view


async def test_an_error_mark_whose_commit_answer_was_lost_is_not_refused_as_done_twice(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first attempt reached the server, its answer did not (the connection cut just
    then): kept and made again, the mark was refused as "already marked" and its reason
    asked again under "Not saved", though it was saved. Made again with the same reason,
    it is done."""
    calls: list[int] = []
    monkeypatch.setattr(case_work, "mark_entered_in_error",
                        answer_lost_once(case_work.mark_entered_in_error, calls))
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        case_view = await mark_kept_while_away(app, pilot, demo_backend)
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: len(calls) == 2 and save_queue(app).waiting == () and not [
            w for w in app.workers if w.group == "save" and not w.is_finished])
        for _ in range(5):  # (not settle: a reason asked again would wait for ever)
            await pilot.pause()
        assert not isinstance(app.screen, ReasonScreen), "asked again though it was saved"
        assert app.screen is case_view
        [marked] = notes_by(demo_backend, "social")
        assert marked.entered_in_error and marked.error_reason == "Wrong young person"
