"""The note editor keeps every word while a save runs: a draft save that fails under
ctrl+s, a save kept while the database is away and the app quitting or closing."""

from __future__ import annotations

import threading
from typing import Any

from anchor_tui.errors import DatabaseError
from anchor_tui.screens import note_drafts
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.services.backend import Backend
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.test_note_editor import notes_by, open_editor

WORDS = "Met the young person at school; agreed to meet on Friday."


async def test_ctrl_s_while_a_draft_save_fails_still_saves_the_note(
    make_app: AppFactory, demo_backend: Backend, monkeypatch: Any
) -> None:
    """ctrl+s waits for the autosave in flight; that draft save fails (the server away
    for a moment). The note is saved all the same, and the editor closes."""
    real = note_drafts.save_draft
    gate = threading.Event()
    calls = {"n": 0}

    def flaky(*args: Any, **kwargs: Any) -> Any:
        calls["n"] += 1
        if calls["n"] == 1:
            gate.wait(10)
            raise DatabaseError("The connection to the database server was lost.", "")
        return real(*args, **kwargs)

    monkeypatch.setattr(note_drafts, "save_draft", flaky)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "social")
        editor = await open_editor(app, pilot)
        editor.query_one(NoteTextArea).insert(WORDS)
        await pilot.pause()
        editor.save_draft_now()  # the autosave's tick: in flight
        await pilot.press("ctrl+s")  # waits for the draft first
        gate.set()
        await settle(pilot)
        assert not isinstance(app.screen, NoteEditorScreen)
    assert [n.body for n in notes_by(demo_backend, "social")] == [WORDS]
