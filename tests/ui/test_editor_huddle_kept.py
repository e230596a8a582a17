"""A huddle note (the chair has a draft of their own of the case, so the huddle note is
kept apart) whose save is kept while the server is away; the huddle's screens close
(ctrl+o, as a roster change or a takeover would); the server comes back and the note is
saved. The chair's draft must not still hold the saved note's text: it would be offered
back as unsaved work, and "Continue the draft" and a save would write it a second time."""

from __future__ import annotations

from typing import Any

import pytest

from anchor_tui.errors import ConnectionLostError
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import note_editor
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_editor_huddle_drafts import HUDDLE, PRIVATE, drafts_on, huddle_editor, notes_on
from tests.ui.test_huddle_ending_asks_first import end_huddle_by


async def test_a_kept_huddle_note_saved_later_is_not_left_in_the_chairs_draft(
        make_app: AppFactory, monkeypatch: pytest.MonkeyPatch) -> None:
    real = note_editor.save_note
    away = [True]

    def server(*args: Any, **kwargs: Any) -> Any:
        if away[0]:
            raise ConnectionLostError("The connection to the database server was lost.")
        return real(*args, **kwargs)

    monkeypatch.setattr(note_editor, "save_note", server)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.live.stop()
        _editor, case_id = await huddle_editor(app, pilot, private=True)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert len(save_queue(app).waiting) == 1
        await end_huddle_by(pilot, "ctrl+o")  # the huddle's context closes
        await settle(pilot)
        away[0] = False
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == ()
        assert notes_on(app.backend, case_id) == [HUDDLE]
        assert drafts_on(app.backend, case_id) == [PRIVATE], (
            "the saved huddle note is still in the chair's draft: "
            f"{drafts_on(app.backend, case_id)}")


async def test_control_without_own_draft(make_app: AppFactory,
                                         monkeypatch: pytest.MonkeyPatch) -> None:
    real = note_editor.save_note
    away = [True]

    def server(*args: Any, **kwargs: Any) -> Any:
        if away[0]:
            raise ConnectionLostError("The connection to the database server was lost.")
        return real(*args, **kwargs)

    monkeypatch.setattr(note_editor, "save_note", server)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        app.live.stop()
        _editor, case_id = await huddle_editor(app, pilot, private=False)
        await pilot.press("ctrl+s")
        await settle(pilot)
        await end_huddle_by(pilot, "ctrl+o")
        await settle(pilot)
        away[0] = False
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert notes_on(app.backend, case_id) == [HUDDLE]
        assert drafts_on(app.backend, case_id) == []
