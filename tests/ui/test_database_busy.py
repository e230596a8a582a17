"""The SQLite file locked by another program while a note is saved: the note is kept
and saved once the lock is gone, and the status line says the database is busy (not
that it cannot be reached)."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest
from sqlalchemy import select

from anchor_tui.app import AnchorApp
from anchor_tui.db.models import Note, User
from anchor_tui.saving import save_queue
from anchor_tui.screens import BoardScreen
from anchor_tui.screens.note_editor import NoteEditorScreen, open_note_editor
from anchor_tui.services.backend import Backend
from anchor_tui.settings import Settings
from anchor_tui.widgets.connection_status import ConnectionStatus
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import TODAY, focused_card, settle, sign_in, wait_until


async def test_a_note_saved_while_another_program_locks_the_file_is_kept_and_saved(
    demo_settings: Settings, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("anchor_tui.db.engine.SQLITE_BUSY_TIMEOUT_MS", 100)
    backend = Backend.open(demo_settings)
    app = AnchorApp(backend, demo_settings, today=lambda: TODAY)
    words = "Phoned the school nurse; the young person was in class all week."
    path = Path(demo_settings.db_url.removeprefix("sqlite:///"))
    holder = sqlite3.connect(path, isolation_level=None)
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await sign_in(pilot, "social")
            assert isinstance(app.screen, BoardScreen)
            case_id = focused_card(app).case_id
            open_note_editor(app, case_id)
            await settle(pilot)
            editor = app.screen
            assert isinstance(editor, NoteEditorScreen)
            editor.query_one(NoteTextArea).insert(words)
            line = editor.query_one(ConnectionStatus)

            holder.execute("BEGIN EXCLUSIVE")  # another program writes to the file
            await pilot.press("ctrl+s")
            assert await wait_until(pilot, lambda: save_queue(app).waiting, 15)
            assert app.screen is editor and editor.query_one(NoteTextArea).text == words
            assert await wait_until(pilot, lambda: line.display, 15), "no status line"
            assert await wait_until(pilot, lambda: "busy" in str(line.render()), 15)
            assert "locked by another program" in str(line.render())
            assert "cannot be reached" not in str(line.render())

            holder.execute("ROLLBACK")  # it is done
            assert await wait_until(pilot, lambda: not save_queue(app).waiting, 30)
            assert await wait_until(pilot, lambda: app.screen is not editor, 15)
            await settle(pilot)
            with backend.sessions.system("test: the note as saved") as session:
                author = session.scalars(select(User.id).where(User.username == "social")
                                         ).one()
                bodies = session.scalars(select(Note.body).where(
                    Note.case_id == case_id, Note.author_id == author)).all()
            assert bodies.count(words) == 1  # saved once, whole
    finally:
        holder.close()
        backend.close()
