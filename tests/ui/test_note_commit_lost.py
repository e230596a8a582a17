"""The connection is cut after the server committed a note and before its answer came.

To the terminal that looks like a lost connection: the save is kept and made again
when the server is back. The first attempt here really writes the note and then fails
as a cut connection would; the second finds the note it wrote (same author, case,
moment and text: the editor gives every attempt of one save the same moment) and the
note is saved once.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import func, select

from anchor_tui.db import models as m
from anchor_tui.errors import ConnectionLostError
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import note_editor
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.services.backend import Backend
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.test_note_editor import open_editor

WORDS = "Home visit done; the young person agreed to the referral."


async def test_a_note_whose_commit_answer_is_lost_is_saved_once(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    real = note_editor.save_note
    calls: list[Any] = []

    def committed_then_cut(*args: Any, **kwargs: Any) -> Any:
        calls.append(kwargs.get("now"))
        saved = real(*args, **kwargs)
        if len(calls) == 1:  # written; the answer never reached the terminal
            raise ConnectionLostError("The connection to the database server was lost.")
        return saved

    monkeypatch.setattr(note_editor, "save_note", committed_then_cut)
    ticks: list[int] = []

    def moving_clock(today: dt.date) -> dt.datetime:  # the real clock moves on, too
        ticks.append(1)
        return dt.datetime.combine(today, dt.time(12), dt.UTC) + dt.timedelta(
            microseconds=len(ticks))

    monkeypatch.setattr(note_editor, "moment_on", moving_clock)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        app.live.stop()  # the test says when the server is back
        editor = await open_editor(app, pilot)
        await pilot.press(*WORDS, "ctrl+s")
        await settle(pilot)
        assert len(save_queue(app).waiting) == 1  # kept, as nothing seemed written
        app.post_message(ConnectionRestored())
        await settle(pilot)
        assert save_queue(app).waiting == () and not isinstance(app.screen, NoteEditorScreen)
        assert not editor.is_attached
    assert len(calls) == 2 and calls[0] == calls[1] is not None  # one moment for both
    with demo_backend.sessions.system("test: the note as saved") as session:
        count = session.scalar(select(func.count()).select_from(m.Note).where(
            m.Note.body == WORDS))
    assert count == 1, f"the note was saved {count} times"
