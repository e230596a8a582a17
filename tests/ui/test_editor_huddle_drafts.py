"""A note written in a huddle never replaces, nor drops, the chair's own unfinished
draft of that case, and is autosaved all the same (in a draft of its own): the app
stopping in the meeting loses at most its last two seconds."""

from __future__ import annotations

from typing import Any

from sqlalchemy import select

from anchor_tui.db import models as m
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.drafts import load_draft
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.test_huddle import huddle_of, join
from tests.ui.test_huddle_ending_asks_first import end_huddle_by
from tests.ui.test_note_editor import asked, choose, until, user_id
from tests.ui.test_sparkline_panel import viewer

PRIVATE = "My own unfinished note: mother phoned, worried about the weekend."
HUDDLE = "Agreed in the huddle: a joint home visit on Thursday."


def drafts_on(backend: Backend, case_id: int) -> list[str]:
    """social's drafts of the case, their own (no huddle key) first."""
    with backend.sessions.system("test: drafts") as s:
        rows = s.execute(select(m.Draft.body, m.Draft.huddle_key).where(
            m.Draft.author_id == user_id(backend, "social"), m.Draft.case_id == case_id))
        return [body for body, _key in sorted(rows, key=lambda row: row[1] is not None)]


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


async def test_a_huddle_note_is_autosaved_apart_from_the_chairs_own_draft(
    make_app: AppFactory,
) -> None:
    """Before, with a draft of the chair's own on the case, the huddle's note was not
    autosaved at all (it would have written over it): it lived in memory only."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _editor, case_id = await huddle_editor(app, pilot, private=True)
        assert drafts_on(app.backend, case_id) == [PRIVATE, HUDDLE]


async def test_a_huddle_note_saved_leaves_the_chairs_own_draft(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _editor, case_id = await huddle_editor(app, pilot, private=True)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, NoteEditorScreen)
        assert notes_on(app.backend, case_id) == [HUDDLE]
        assert drafts_on(app.backend, case_id) == [PRIVATE]


async def test_a_huddle_note_kept_as_a_draft_joins_the_chairs_own_draft_when_alone(
    make_app: AppFactory,
) -> None:
    """Esc, "Keep it as a draft": both texts are kept, apart; the huddle closing
    afterwards adds nothing twice; the chair writing on the case alone is offered both,
    theirs first, in one draft."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _editor, case_id = await huddle_editor(app, pilot, private=True)
        await pilot.press("escape")
        await choose(app, pilot, "draft")
        assert not isinstance(app.screen, NoteEditorScreen)
        assert drafts_on(app.backend, case_id) == [PRIVATE, HUDDLE]
        await end_huddle_by(pilot, "ctrl+o")
        await settle(pilot)
        assert drafts_on(app.backend, case_id) == [PRIVATE, HUDDLE]
        draft = load_draft(app.backend, viewer(app.backend, "social"), case_id)
        assert draft is not None and draft.body == f"{PRIVATE}\n\n{HUDDLE}"
        assert drafts_on(app.backend, case_id) == [f"{PRIVATE}\n\n{HUDDLE}"]


async def test_the_offer_says_a_huddle_note_joined_the_draft_before_it_is_discarded(
    make_app: AppFactory,
) -> None:
    """Kept as a draft in the huddle, the note joins the chair's own draft when they
    next write on the case alone. The offer says so, and that discarding takes the
    huddle's note with it: before, it showed the first lines of the chair's own text,
    and "Discard the draft" threw the huddle's words away unseen."""
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        _editor, case_id = await huddle_editor(app, pilot, private=True)
        await pilot.press("escape")
        await choose(app, pilot, "draft")
        await end_huddle_by(pilot, "ctrl+o")
        await settle(pilot)
        await pilot.press("escape")  # the minutes' notice, over the sign-in
        await settle(pilot)
        await sign_in(pilot, "social")
        await app.push_screen(CaseScreen(case_id))
        await settle(pilot)
        await pilot.press("n")
        offer = await asked(app, pilot, ChoiceScreen)
        assert isinstance(offer, ChoiceScreen)
        assert "note you left unsaved in a huddle" in offer.note, offer.note
        labels = dict(offer.choices)
        assert "with the huddle's note" in labels["discard"], labels
        await choose(app, pilot, "discard")
        await until(pilot, lambda: drafts_on(app.backend, case_id) == [])


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
        editor, case_id = await huddle_editor(app, pilot, private=True)
        editor.query_one(NoteTextArea).insert(" And a call to the school.")
        await pilot.pause()
        await end_huddle_by(pilot, "ctrl+o")
        await settle(pilot)
        assert drafts_on(app.backend, case_id) == [
            PRIVATE, f"{HUDDLE} And a call to the school."]


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
