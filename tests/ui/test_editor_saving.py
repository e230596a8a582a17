"""The note editor keeps every word while a save runs: a draft save that fails under
ctrl+s, a save kept while the database is away and the app quitting or closing."""

from __future__ import annotations

import threading
from typing import Any

from anchor_tui.errors import ConnectionLostError, DatabaseError
from anchor_tui.saving import save_queue
from anchor_tui.screens import note_drafts, note_editor
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.screens.quit_kept import QuitWithKeptSaves
from anchor_tui.services import drafts
from anchor_tui.services.backend import Backend
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import AppFactory, all_text, settle, sign_in
from tests.ui.test_note_editor import asked, choose, drafts_of, notes_by, open_editor, until

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


def server_away(*_args: Any, **_kwargs: Any) -> Any:
    """The note's unit of work finds the server away (as a stopped PostgreSQL makes it)."""
    raise ConnectionLostError("The connection to the database server was lost.",
                              "The app reconnects by itself.")


async def save_kept(app: Any, pilot: Any, monkeypatch: Any) -> NoteEditorScreen:
    """social writes a note and saves it while the server is away: the save is kept in
    memory, to be run when the server is back (no autosave ran before ctrl+s)."""
    monkeypatch.setattr(note_editor, "save_note", server_away)
    await sign_in(pilot, "social")
    app.live.stop()  # the test says when the server is back: never, here
    editor = await open_editor(app, pilot)
    editor.query_one(NoteTextArea).insert(WORDS)
    await pilot.press("ctrl+s")
    await until(pilot, lambda: save_queue(app).waiting != ())
    assert app.screen is editor and drafts_of(app.backend, "social") == []
    return editor


async def test_quit_keeping_the_draft_while_the_save_waits_writes_it_and_asks_again(
    make_app: AppFactory, demo_backend: Backend, monkeypatch: Any
) -> None:
    """ctrl+q, "Keep it as a draft" while the note's save waits for the server: the
    draft holds the text, and the app still asks about the change kept for the server
    instead of quitting at once."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await save_kept(app, pilot, monkeypatch)
        await pilot.press("ctrl+q")
        question = await asked(app, pilot)
        assert "Quit" in question.title_text  # type: ignore[attr-defined]
        await choose(app, pilot, "draft", then_settle=False)
        await asked(app, pilot, QuitWithKeptSaves)
        assert app.is_running
        assert drafts_of(demo_backend, "social") == [WORDS]


async def test_quit_keeping_the_draft_with_the_database_away_does_not_quit(
    make_app: AppFactory, demo_backend: Backend, monkeypatch: Any
) -> None:
    """The draft cannot be written either: the app says so and stays, text and all."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await save_kept(app, pilot, monkeypatch)

        def away(*_args: Any, **_kwargs: Any) -> Any:
            raise DatabaseError("The connection to the database server was lost.", "")

        monkeypatch.setattr(note_drafts, "save_draft", away)
        await pilot.press("ctrl+q")
        await asked(app, pilot)
        await choose(app, pilot, "draft")
        assert app.is_running and app.screen is editor
        assert editor.query_one(NoteTextArea).text == WORDS
        assert "has not quit" in all_text(app) or any(
            "has not quit" in str(n.message) for n in app._notifications)
        monkeypatch.setattr(note_drafts, "save_draft", drafts.save_draft)
        await pilot.press("ctrl+q")  # asked again, as nothing was kept
        await asked(app, pilot)
        await choose(app, pilot, "draft", then_settle=False)
        await asked(app, pilot, QuitWithKeptSaves)
    assert drafts_of(demo_backend, "social") == [WORDS]


async def test_switching_user_while_the_save_waits_keeps_the_draft(
    make_app: AppFactory, demo_backend: Backend, monkeypatch: Any
) -> None:
    """ctrl+o (or a takeover at the lock) while the note's save waits for the server:
    the text is kept as the author's draft, not only in this process's memory."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await save_kept(app, pilot, monkeypatch)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert not isinstance(app.screen, NoteEditorScreen)
        assert drafts_of(demo_backend, "social") == [WORDS]


async def test_staying_at_the_apps_quit_question_goes_on_autosaving(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    """Another change waits for the server; ctrl+q, "Keep it as a draft", then the app
    asks about that change and the person stays: the editor goes on keeping the draft."""
    from anchor_tui.screens.quit_kept import WAIT

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "social")
        app.live.stop()
        save_queue(app).submit("move a case", server_away)
        await until(pilot, lambda: save_queue(app).waiting != ())
        editor = await open_editor(app, pilot)
        editor.query_one(NoteTextArea).insert(WORDS)
        await pilot.press("ctrl+q")
        await asked(app, pilot)
        await choose(app, pilot, "draft", then_settle=False)
        await asked(app, pilot, QuitWithKeptSaves)
        assert drafts_of(demo_backend, "social") == [WORDS]
        await choose(app, pilot, WAIT)
        assert app.screen is editor
        editor.query_one(NoteTextArea).insert(" And more.")
        await pilot.pause()
        editor.save_draft_now()  # the autosave's tick
        await settle(pilot)
        assert drafts_of(demo_backend, "social") == [WORDS + " And more."]
