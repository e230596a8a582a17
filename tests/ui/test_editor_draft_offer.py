"""The draft offered back when the editor opens is never written over before its
author has answered the offer, even with text typed while the case opened slowly."""

from __future__ import annotations

import threading
from typing import Any

from sqlalchemy import select

from anchor_tui.db import models as m
from anchor_tui.screens import note_editor
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services.backend import Backend
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.test_note_editor import CASE, asked, choose, drafts_of, until, user_id

OLD = "Yesterday: long phone call with the guardian, see the details below."


async def offered_after_typing(app: Any, pilot: Any, backend: Backend,
                               monkeypatch: Any) -> NoteEditorScreen:
    """social has yesterday's draft on the case; n, and "Today:" typed while the case
    opens slowly; then the offer comes up, and the autosave runs under it."""
    with backend.sessions.system("test: yesterday's draft") as s:
        s.add(m.Draft(author_id=user_id(backend, "social"), case_id=CASE,
                      supersedes_id=None, category="general", template=None, body=OLD))
    go = threading.Event()
    real = note_editor.start_editor

    def slow(*args: Any, **kwargs: Any) -> Any:
        go.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(note_editor, "start_editor", slow)
    await sign_in(pilot, "social")
    await app.push_screen(CaseScreen(CASE))
    await settle(pilot)
    await pilot.press("n")
    await until(pilot, lambda: isinstance(app.screen, NoteEditorScreen))
    editor = app.screen
    assert isinstance(editor, NoteEditorScreen)
    await pilot.press(*"Today:")
    go.set()
    await asked(app, pilot, ChoiceScreen)
    editor.save_draft_now()  # the autosave's tick (and focus moved to the question)
    await until(pilot, lambda: not [w for w in app.workers if w.group == "note-draft"])
    assert drafts_of(backend, "social") == [OLD]
    return editor


async def test_quitting_before_answering_the_offer_keeps_both_texts(
    make_app: AppFactory, demo_backend: Backend, monkeypatch: Any
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await offered_after_typing(app, pilot, demo_backend, monkeypatch)
        await pilot.press("ctrl+q")  # asked on top of the offer
        question = await asked(app, pilot)
        assert "Quit" in question.title_text  # type: ignore[attr-defined]
        await choose(app, pilot, "draft")
    assert drafts_of(demo_backend, "social") == [OLD + "\nToday:"]


async def test_the_offer_answered_after_typing_keeps_what_was_chosen(
    make_app: AppFactory, demo_backend: Backend, monkeypatch: Any
) -> None:
    """Continue: the draft, then what was typed; the autosave goes on from there."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await offered_after_typing(app, pilot, demo_backend, monkeypatch)
        await choose(app, pilot, "continue")
        assert editor.query_one(NoteTextArea).text == OLD + "\nToday:"
        editor.save_draft_now()
        await settle(pilot)
        assert drafts_of(demo_backend, "social") == [OLD + "\nToday:"]


async def test_discarding_the_offered_draft_keeps_what_was_typed(
    make_app: AppFactory, demo_backend: Backend, monkeypatch: Any
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await offered_after_typing(app, pilot, demo_backend, monkeypatch)
        await choose(app, pilot, "discard")
        assert editor.query_one(NoteTextArea).text == "Today:"
        await settle(pilot)
        with demo_backend.sessions.system("test: drafts") as s:
            kept = list(s.scalars(select(m.Draft.body)))
        assert kept == ["Today:"]


async def test_a_correction_kept_after_a_conflict_is_offered_on_the_newest_revision(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    """social corrects their note N while their other terminal corrects N first; ctrl+s
    says "Your text is kept as a draft. Correct the newest revision instead." The
    editor of the newest revision offers that draft; continued, it moves there."""
    import dataclasses

    from anchor_tui.screens.note_editor import open_note_editor
    from anchor_tui.services.clock import moment_on
    from anchor_tui.services.notes import NoteInput, save_note
    from tests.ui.conftest import TODAY

    correction = "Correction: the meeting was on Thursday, not Friday."
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "social")
        viewer = app.viewer
        assert viewer is not None
        first = save_note(demo_backend, viewer, NoteInput(CASE, "Met on Friday.", "general"),
                          today=TODAY, now=moment_on(TODAY))
        open_note_editor(app, CASE, supersedes_id=first.note_id)
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, NoteEditorScreen)
        editor.query_one(NoteTextArea).load_body(correction)
        await pilot.pause()
        other = save_note(demo_backend, dataclasses.replace(viewer),
                          NoteInput(CASE, "Met on Friday (room 2).", "general",
                                    supersedes_id=first.note_id),
                          today=TODAY, now=moment_on(TODAY))
        await pilot.press("ctrl+s")
        await settle(pilot)
        while not isinstance(app.screen, NoteEditorScreen):  # the conflict's message
            await pilot.press("escape")
            await settle(pilot)
        await pilot.press("escape")
        await choose(app, pilot, "draft")
        assert drafts_of(demo_backend, "social") == [correction]

        open_note_editor(app, CASE, supersedes_id=other.note_id)
        offer = await asked(app, pilot, ChoiceScreen)
        assert correction in offer.note  # type: ignore[attr-defined]
        await choose(app, pilot, "continue")
        editor = app.screen
        assert isinstance(editor, NoteEditorScreen)
        assert editor.query_one(NoteTextArea).text == correction
        with demo_backend.sessions.system("test: drafts") as s:
            kept = s.execute(select(m.Draft.supersedes_id, m.Draft.body).where(
                m.Draft.author_id == user_id(demo_backend, "social"))).all()
        assert [tuple(row) for row in kept] == [(other.note_id, correction)]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert drafts_of(demo_backend, "social") == []


async def test_text_typed_under_another_category_than_the_draft_is_kept_apart(
    make_app: AppFactory, demo_backend: Backend, monkeypatch: Any
) -> None:
    """social's earlier draft is a child-welfare note; "Today:" is typed while the case
    opens, under social's default category. Joined, one text would be saved under the
    other's category and reach its readers: the earlier draft is left as it is (not
    offered now), what was typed is autosaved apart under its own category, and saving
    it leaves the earlier draft, which is offered next."""
    from anchor_tui.services.drafts import load_draft
    from tests.ui.test_sparkline_panel import viewer

    with demo_backend.sessions.system("test: yesterday's draft") as s:
        s.add(m.Draft(author_id=user_id(demo_backend, "social"), case_id=CASE,
                      supersedes_id=None, category="child_welfare", template=None, body=OLD))
    go = threading.Event()
    real = note_editor.start_editor

    def slow(*args: Any, **kwargs: Any) -> Any:
        go.wait(10)
        return real(*args, **kwargs)

    monkeypatch.setattr(note_editor, "start_editor", slow)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "social")
        await app.push_screen(CaseScreen(CASE))
        await settle(pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NoteEditorScreen))
        editor = app.screen
        assert isinstance(editor, NoteEditorScreen)
        await pilot.press(*"Today:")
        go.set()
        await until(pilot, lambda: editor.start is not None)
        await settle(pilot)
        assert app.screen is editor  # no offer: nothing to choose between
        assert editor.category == "general"
        assert editor.query_one(NoteTextArea).text == "Today:"
        editor.save_draft_now()
        await settle(pilot)
        with demo_backend.sessions.system("test: drafts") as s:
            rows = sorted((r.category, r.body, r.huddle_key is None)
                          for r in s.scalars(select(m.Draft)))
        assert rows == [("child_welfare", OLD, True), ("general", "Today:", False)]
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert not isinstance(app.screen, NoteEditorScreen)
        assert drafts_of(demo_backend, "social") == [OLD]
        draft = load_draft(demo_backend, viewer(demo_backend, "social"), CASE)
        assert draft is not None and (draft.category, draft.body) == ("child_welfare", OLD)
