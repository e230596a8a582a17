"""A note written in a huddle never replaces, nor drops, the chair's own unfinished
draft of that case (one draft row per author and case holds both)."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from anchor_tui.db import models as m
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.services.backend import Backend
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_huddle import huddle_of, join
from tests.ui.test_note_editor import choose, user_id

PRIVATE = "My own unfinished note: mother phoned, worried about the weekend."
HUDDLE = "Agreed in the huddle: a joint home visit on Thursday."


def drafts_on(backend: Backend, case_id: int) -> list[str]:
    with backend.sessions.system("test: drafts") as s:
        return list(s.scalars(select(m.Draft.body).where(
            m.Draft.author_id == user_id(backend, "social"), m.Draft.case_id == case_id)))


def notes_on(backend: Backend, case_id: int) -> list[str]:
    with backend.sessions.system("test: notes") as s:
        return list(s.scalars(select(m.Note.body).where(m.Note.case_id == case_id,
                                                        m.Note.body == HUDDLE)))


async def huddle_editor(app: Any, pilot: Any, *, private: bool) -> tuple[NoteEditorScreen, int]:
    """social chairs a huddle with nurse; `w` on the first case opens the editor, with
    or without social's own draft of that case from earlier; the note is typed and the
    autosave runs."""
    await huddle_of(pilot, "social")
    screen = await join(pilot, "nurse")
    entry = screen.entry()
    assert entry is not None
    if private:
        with app.backend.sessions.system("test: a draft from earlier") as s:
            s.add(m.Draft(author_id=user_id(app.backend, "social"), case_id=entry.case_id,
                          supersedes_id=None, category="general", template=None,
                          body=PRIVATE))
    await pilot.press("w")
    await settle(pilot)
    editor = app.screen
    assert isinstance(editor, NoteEditorScreen)
    editor.query_one(NoteTextArea).insert(HUDDLE)
    await pilot.pause()
    editor.save_draft_now()  # as the autosave does a second later
    await settle(pilot)
    return editor, entry.case_id


async def test_a_huddle_note_saved_leaves_the_chairs_own_draft(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _editor, case_id = await huddle_editor(app, pilot, private=True)
        assert drafts_on(app.backend, case_id) == [PRIVATE]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, NoteEditorScreen)
        assert notes_on(app.backend, case_id) == [HUDDLE]
        assert drafts_on(app.backend, case_id) == [PRIVATE]


async def test_a_huddle_note_kept_as_a_draft_joins_the_chairs_own_draft(
    make_app: AppFactory,
) -> None:
    """Esc, "Keep it as a draft": both texts are kept, the chair's first; the huddle
    closing afterwards adds nothing twice."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _editor, case_id = await huddle_editor(app, pilot, private=True)
        await pilot.press("escape")
        await choose(app, pilot, "draft")
        assert not isinstance(app.screen, NoteEditorScreen)
        assert drafts_on(app.backend, case_id) == [f"{PRIVATE}\n\n{HUDDLE}"]
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert drafts_on(app.backend, case_id) == [f"{PRIVATE}\n\n{HUDDLE}"]


async def test_a_huddle_note_discarded_leaves_the_chairs_own_draft(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _editor, case_id = await huddle_editor(app, pilot, private=True)
        await pilot.press("escape")
        await choose(app, pilot, "discard")
        assert not isinstance(app.screen, NoteEditorScreen)
        assert drafts_on(app.backend, case_id) == [PRIVATE]


async def test_the_huddle_closing_under_the_editor_keeps_both_texts(
    make_app: AppFactory,
) -> None:
    """ctrl+o (or a takeover at the lock) while the huddle's note is being written."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _editor, case_id = await huddle_editor(app, pilot, private=True)
        await pilot.press("ctrl+o")
        await settle(pilot)
        assert drafts_on(app.backend, case_id) == [f"{PRIVATE}\n\n{HUDDLE}"]


async def test_without_a_draft_of_its_own_the_huddle_note_is_autosaved_and_dropped_on_saving(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _editor, case_id = await huddle_editor(app, pilot, private=False)
        assert drafts_on(app.backend, case_id) == [HUDDLE]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert notes_on(app.backend, case_id) == [HUDDLE]
        assert drafts_on(app.backend, case_id) == []
