"""ctrl+q over the note editor's own question never makes that question's answer vain.

The category (F4) and template (F3) pickers and the leave question were asked by
exclusive workers of one group: ctrl+q with a picker open asked "Quit with an unsaved
note?" over it and cancelled the worker awaiting the picker. "Go on writing" went back
to the picker, and the category chosen there went nowhere: the note stayed in the
category it had (and would be saved to that category's readers). ctrl+q pressed twice
put a second question over the first, the first's answer lost the same way.
"""

from __future__ import annotations

from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import AppFactory, sign_in
from tests.ui.test_note_editor import asked, choose, open_editor, until


async def test_a_category_chosen_after_ctrl_q_was_answered_is_taken(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "social")
        editor = await open_editor(app, pilot)
        editor.query_one(NoteTextArea).insert("Met the family at home.")
        await pilot.press("f4")
        picker = await asked(app, pilot, ChoiceScreen)
        assert isinstance(picker, ChoiceScreen)
        other = next(value for value, _ in picker.choices if value != editor.category)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: app.screen is not picker)
        await choose(app, pilot, "stay", then_settle=False)
        await until(pilot, lambda: app.screen is picker)
        await choose(app, pilot, other)
        assert app.screen is editor
        assert editor.category == other, "the category chosen after ctrl+q went nowhere"


async def test_ctrl_q_twice_asks_one_question(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "social")
        editor = await open_editor(app, pilot)
        editor.query_one(NoteTextArea).insert("Met the family at home.")
        await pilot.press("ctrl+q")
        question = await asked(app, pilot, ChoiceScreen)
        await pilot.press("ctrl+q")
        await pilot.pause()
        assert app.screen is question and app.screen_stack[-2] is editor
        await choose(app, pilot, "stay")
        assert app.screen is editor and app.is_running
