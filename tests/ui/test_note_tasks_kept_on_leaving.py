"""Leaving a note with a task typed over it (F5) never drops the task on Enter.

A task typed in the note editor is kept with the editor and saved with the note; a
draft holds the text alone. The leave question's default, "Keep it as a draft", closed
the editor: the text was kept, the task typed over it was gone, without a word. With a
task typed, Enter (and Esc) now go on writing, and the question says the draft would
not hold it. A note whose text is only its template, or a correction not changed yet,
left with a task typed asks too: it closed at once.
"""

from __future__ import annotations

from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.test_note_editor import asked, open_editor, until
from tests.ui.test_task_sources_keys import HEALTH, SECRET, type_task


async def typed_with_a_task(app: object, pilot: object, text: str) -> NoteEditorScreen:
    editor = await open_editor(app, pilot)  # type: ignore[arg-type]
    if text:
        editor.query_one(NoteTextArea).insert(text)
    await pilot.press("f5")  # type: ignore[attr-defined]
    await type_task(app, pilot)
    await pilot.press("enter")  # type: ignore[attr-defined]  # the assignee
    await until(pilot, lambda: app.screen is editor)  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert [t.title for t in editor.note_tasks] == [SECRET]
    return editor


async def test_enter_on_the_leave_question_keeps_a_typed_task(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "nurse")
        editor = await typed_with_a_task(app, pilot, HEALTH)
        await pilot.press("escape")
        question = await asked(app, pilot, ChoiceScreen)
        assert "task" in question.note, "the question does not say the task is not kept"
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is editor, "Enter closed the note and its task was lost"
        assert [t.title for t in editor.note_tasks] == [SECRET]


async def test_a_task_typed_over_an_unchanged_text_asks_before_leaving(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "nurse")
        editor = await typed_with_a_task(app, pilot, "")
        await pilot.press("escape")
        await asked(app, pilot, ChoiceScreen)
        await pilot.press("enter")
        await settle(pilot)
        assert app.screen is editor and editor.note_tasks
        assert isinstance(app.screen, NoteEditorScreen)
