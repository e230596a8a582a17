"""ctrl+q with a form filled in asks first, as Esc does, staying the default.

The consent form, the task form, the child-welfare notification record and the huddle's
action form: ctrl+q quit at once and what was typed into them was lost without a word
(Esc on the consent form asked "Discard this consent?"). Each now asks "Quit and
discard …?", with "go back" highlighted (Enter and Esc stay). Choosing to quit lets the
app go on asking: a note below the form, and changes kept while the database was away.
"""

from __future__ import annotations

from typing import Any

from textual.pilot import Pilot
from textual.widgets import Input, Select

from anchor_tui.app import AnchorApp
from anchor_tui.screens.child_welfare import ChildWelfareScreen
from anchor_tui.screens.consent_form import ConsentFormScreen
from anchor_tui.screens.huddle_modals import ActionScreen
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.screens.task_form import TaskFormScreen
from anchor_tui.widgets.mark_list import MarkList
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.test_consent_screen import open_case, press
from tests.ui.test_huddle import huddle_of, join
from tests.ui.test_note_editor import asked, choose, open_editor, until


async def quit_is_asked(app: AnchorApp, pilot: Pilot[Any], form: object, title: str, *,
                        in_huddle: bool = False) -> None:
    """ctrl+q asks (once, however often it is pressed), Enter stays on the form; ctrl+q
    again and "quit" quits (``in_huddle``: after "end" is chosen for the huddle, which
    quitting ends for everyone, asked last)."""
    await pilot.press("ctrl+q")
    question = await asked(app, pilot)
    assert isinstance(question, ChoiceScreen)
    assert question.title_text == title
    await pilot.press("ctrl+q")  # pressed again while asked: the same one question
    await pilot.pause()
    assert app.screen is question and app.screen_stack[-2] is form
    await pilot.press("enter")  # the default: stay
    await until(pilot, lambda: app.screen is form)
    assert app.is_running
    await pilot.press("ctrl+q")
    await choose(app, pilot, "quit", then_settle=False)
    if in_huddle:
        await until(pilot, lambda: getattr(app.screen, "title_text", "") == "End the huddle?")
        await choose(app, pilot, "end", then_settle=False)
    await until(pilot, lambda: not app.is_running)


async def test_ctrl_q_on_a_filled_in_consent_asks_and_enter_keeps_it(
    make_app: AppFactory,
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "nurse")
        await open_case(app, pilot)
        await press(pilot, "c", "n")
        form = app.screen
        assert isinstance(form, ConsentFormScreen)
        form.query_one("#consent-grantor", Select).value = "self"
        form.query_one("#consent-professions", MarkList).focus()
        await press(pilot, "space")
        form.query_one("#consent-evidence", Input).value = "Signed at the meeting"
        await pilot.press("ctrl+q")
        await asked(app, pilot)
        await pilot.press("escape")  # Esc stays too
        await until(pilot, lambda: app.screen is form)
        assert form.query_one("#consent-evidence", Input).value == "Signed at the meeting"
        assert form.query_one("#consent-grantor", Select).value == "self"
        await quit_is_asked(app, pilot, form, "Quit and discard this consent?")


async def test_esc_on_a_filled_in_consent_asks_and_enter_keeps_it(
    make_app: AppFactory,
) -> None:
    """The question's Enter (pressed at once, before anything else is drawn) keeps
    what was filled in; only y discards it."""
    from anchor_tui.screens.confirm import ConfirmScreen

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "nurse")
        await open_case(app, pilot)
        await press(pilot, "c", "n")
        form = app.screen
        assert isinstance(form, ConsentFormScreen)
        form.query_one("#consent-evidence", Input).value = "Signed at the meeting"
        form.query_one("#consent-evidence", Input).focus()
        await pilot.press("escape", "enter")
        await until(pilot, lambda: app.screen is form)
        assert form.query_one("#consent-evidence", Input).value == "Signed at the meeting"
        await pilot.press("escape")
        question = await asked(app, pilot, ConfirmScreen)
        assert question.title_text == "Discard this consent?"  # type: ignore[attr-defined]
        await pilot.press("ctrl+d")
        await until(pilot, lambda: not form.is_attached)


async def test_ctrl_q_on_an_empty_form_quits_without_asking(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "social")
        await open_case(app, pilot)
        await pilot.press("t")
        await asked(app, pilot, TaskFormScreen)
        await settle(pilot)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running)


async def test_ctrl_q_on_a_task_written_from_a_note_asks_for_both(
    make_app: AppFactory,
) -> None:
    """The task's question first; choosing to quit, the note's question follows (the
    app asks again, the form no longer asks); staying there keeps both, and the next
    ctrl+q asks about the task again."""
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "social")
        editor = await open_editor(app, pilot)
        editor.query_one(NoteTextArea).insert("Met at school.")
        await pilot.press("f5")
        form = await asked(app, pilot, TaskFormScreen)
        await settle(pilot)
        await pilot.press(*"Call the school")
        await pilot.press("ctrl+q")
        question = await asked(app, pilot)
        assert isinstance(question, ChoiceScreen)
        assert question.title_text == "Quit and discard this task?"
        await choose(app, pilot, "quit", then_settle=False)
        note_question = await asked(app, pilot)
        assert isinstance(note_question, ChoiceScreen)
        assert note_question.title_text == "Quit with an unsaved note?"
        await choose(app, pilot, "stay")
        assert app.is_running and app.screen is form
        assert isinstance(app.screen_stack[-2], NoteEditorScreen)
        assert form.query_one("#task-title", Input).value == "Call the school"
        await pilot.press("ctrl+q")
        again = await asked(app, pilot)
        assert again.title_text == "Quit and discard this task?"  # type: ignore[attr-defined]
        await choose(app, pilot, "stay")
        assert app.screen is form


async def test_ctrl_q_on_a_written_child_welfare_record_asks(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "police")
        await open_case(app, pilot)
        await pilot.press("n")
        await asked(app, pilot, NoteEditorScreen)
        await settle(pilot)
        await pilot.press("f3")
        await choose(app, pilot, "welfare_concern")
        await pilot.press("ctrl+end", *"Bruises seen at the station.", "ctrl+s")
        form = await asked(app, pilot, ChildWelfareScreen)
        await settle(pilot)
        await pilot.press("enter", *"Espoo child welfare services")
        assert form.query_one("#welfare-recipient", Input).value == \
            "Espoo child welfare services"  # type: ignore[attr-defined]
        await quit_is_asked(app, pilot, form, "Quit and discard this notification record?")


async def test_ctrl_q_on_a_written_huddle_action_asks(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        await join(pilot, "nurse")
        await pilot.press("a")
        form = await asked(app, pilot, ActionScreen)
        await pilot.press(*"Call the school")
        assert form.query_one("#action-text", Input).value == "Call the school"  # type: ignore[attr-defined]
        await quit_is_asked(app, pilot, form, "Quit and discard this action?", in_huddle=True)


async def test_ctrl_q_as_a_form_opens_quits_without_failing(make_app: AppFactory) -> None:
    """ctrl+q in the moment between a form being opened and being drawn: nothing is
    typed in it yet, so the app quits (asking the form failed: it had no fields yet)."""
    from tests.ui.test_note_editor import CASE

    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "social")
        await open_case(app, pilot)
        app.push_screen(TaskFormScreen(CASE))  # not awaited: not mounted yet
        await app.action_quit()
        await until(pilot, lambda: not app.is_running)


async def test_esc_on_a_written_task_or_action_asks_before_discarding_it(
        make_app: AppFactory) -> None:
    """Esc closes an empty form at once; with something written it asks first, as the
    consent form and the note editor do ("Keep editing" keeps every word)."""
    from anchor_tui.screens.confirm import ConfirmScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        await open_case(app, pilot)
        await pilot.press("t")
        form = await asked(app, pilot, TaskFormScreen)
        await settle(pilot)
        await pilot.press(*"Phone the school nurse")
        await pilot.press("escape")
        question = await asked(app, pilot, ConfirmScreen)
        assert isinstance(question, ConfirmScreen) and question.title_text == "Discard this task?"
        await pilot.press("enter")  # at once: the default keeps editing
        await until(pilot, lambda: app.screen is form)
        assert form.query_one("#task-title", Input).value == "Phone the school nurse"
        await pilot.press("escape")
        await asked(app, pilot, ConfirmScreen)
        await pilot.press("n")  # keep editing
        await until(pilot, lambda: app.screen is form)
        assert form.query_one("#task-title", Input).value == "Phone the school nurse"
        await pilot.press("escape", *"yes")  # a stray Esc, typing on
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is form)
        assert form.query_one("#task-title", Input).value == "Phone the school nurse", (
            "a word typed on into the question threw the task away")
        await pilot.press("escape")
        await asked(app, pilot, ConfirmScreen)
        await pilot.press("ctrl+d")
        await until(pilot, lambda: not form.is_attached)
        await pilot.press("t")
        empty = await asked(app, pilot, TaskFormScreen)
        await settle(pilot)
        await pilot.press("escape")  # nothing written: closed at once
        await until(pilot, lambda: not empty.is_attached)


async def test_esc_on_a_written_huddle_action_asks_too(make_app: AppFactory) -> None:
    from anchor_tui.screens.confirm import ConfirmScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        await join(pilot, "nurse")
        await pilot.press("a")
        form = await asked(app, pilot, ActionScreen)
        await pilot.press(*"Call the school")
        await pilot.press("escape")
        question = await asked(app, pilot, ConfirmScreen)
        assert isinstance(question, ConfirmScreen)
        assert question.title_text == "Discard this action?"
        await pilot.press("n")
        await until(pilot, lambda: app.screen is form)
        assert form.query_one("#action-text", Input).value == "Call the school"  # type: ignore[attr-defined]


async def test_ctrl_q_on_a_written_decision_asks(make_app: AppFactory) -> None:
    """The huddle's decision prompt (a reason prompt, as for a snooze, a screening or an
    entered-in-error mark): ctrl+q quit (once the huddle's end was chosen) and the
    decision typed was gone, though Esc there asks first."""
    from anchor_tui.screens.prompt import ReasonScreen

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        await join(pilot, "nurse")
        await pilot.press("d")
        form = await asked(app, pilot, ReasonScreen)
        await pilot.press(*"Meet the family")
        await quit_is_asked(app, pilot, form, "Quit and discard what was written?",
                            in_huddle=True)


async def test_ctrl_q_on_a_written_reason_asks_and_an_empty_one_quits(
        make_app: AppFactory) -> None:
    from anchor_tui.screens.prompt import ReasonScreen

    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "social")
        await open_case(app, pilot)
        await pilot.press("d")  # the next review: a reason prompt
        form = await asked(app, pilot, ReasonScreen)
        await pilot.press(*"fri")
        await quit_is_asked(app, pilot, form, "Quit and discard what was written?")
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "social")
        await open_case(app, pilot)
        await pilot.press("d")
        await asked(app, pilot, ReasonScreen)
        await pilot.press("ctrl+q")
        await until(pilot, lambda: not app.is_running)


async def test_esc_on_a_written_child_welfare_record_asks_and_enter_keeps_it(
        make_app: AppFactory) -> None:
    """Esc on the statutory notification's record means "later" (its task stays open);
    with to whom or a reference typed, it went at once and what was typed was gone (a
    reference given on the phone, say). It asks first now, keeping it on Enter; an
    empty record still goes at once."""
    from anchor_tui.screens.confirm import ConfirmScreen

    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "police")
        await open_case(app, pilot)
        await pilot.press("n")
        await asked(app, pilot, NoteEditorScreen)
        await settle(pilot)
        await pilot.press("f3")
        await choose(app, pilot, "welfare_concern")
        await pilot.press("ctrl+end", *"Bruises seen at the station.", "ctrl+s")
        form = await asked(app, pilot, ChildWelfareScreen)
        await settle(pilot)
        await pilot.press("enter", *"Espoo child welfare services", "enter", *"LS-2026-77")
        await pilot.press("escape")
        await asked(app, pilot, ConfirmScreen)
        await pilot.press("enter")
        await until(pilot, lambda: app.screen is form)
        assert form.query_one("#welfare-reference", Input).value == "LS-2026-77"  # type: ignore[attr-defined]
        await pilot.press("escape")
        await asked(app, pilot, ConfirmScreen)
        await pilot.press("ctrl+d")  # later, what was typed discarded: the task stays open
        await until(pilot, lambda: not form.is_attached)  # type: ignore[attr-defined]
