"""Working a case from its view: tasks with natural due dates, corrections, "entered in
error", note history, case edits that conflict with another terminal, and the statutory
child-welfare notification."""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import select
from textual.widgets import Input, OptionList, Static

from anchor_tui.db import models as m
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.child_welfare import ChildWelfareScreen
from anchor_tui.screens.conflict import ConflictScreen
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.screens.note_history import NoteHistoryScreen
from anchor_tui.screens.prompt import ChoiceScreen, ReasonScreen
from anchor_tui.screens.task_form import TaskFormScreen
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_edits import CaseChange, apply_change, case_state
from anchor_tui.services.child_welfare import FOLLOW_UP_TITLE
from anchor_tui.widgets.case_record import NotesTimeline, note_content
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import TODAY, AppFactory, settle, sign_in
from tests.ui.screen_reading import screen_lines
from tests.ui.test_note_editor import CASE, asked, choose, notes_by, until, user_id


def tasks_of(backend: Backend, case_id: int = CASE) -> dict[str, m.Task]:
    with backend.sessions.system("test: tasks") as s:
        rows = s.scalars(select(m.Task).where(m.Task.case_id == case_id)).all()
        for row in rows:
            s.expunge(row)
        return {row.title: row for row in rows}


async def open_case(app: object, pilot: object) -> CaseScreen:
    screen = CaseScreen(CASE)
    await app.push_screen(screen)  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    return screen



def shown_notes_text(screen: object) -> dict[int, str]:
    """Each note the timeline shows, by id, as drawn (checked to be on screen)."""
    assert isinstance(screen, CaseScreen)
    timeline = screen.query_one(NotesTimeline)
    drawn = timeline.text
    texts = {note.note_id: str(note_content(note)) for note in timeline.notes}
    assert all(text in drawn for text in texts.values())
    return texts

async def test_a_task_with_a_natural_due_day_is_added_and_marked_done(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "social")
        await open_case(app, pilot)
        await pilot.press("t")
        form = await asked(app, pilot, TaskFormScreen)
        assert isinstance(form, TaskFormScreen)
        await settle(pilot)
        await pilot.press(*"Call the school [bold]now[/bold]", "enter")
        await pilot.press(*"someday")
        said = form.query_one("#task-due-said", Static)
        assert "not a day anchor-tui understands" in str(said.render())
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert app.screen is form and "Call the school [bold]now[/bold]" not in tasks_of(
            demo_backend)  # refused, and nothing typed is lost
        assert form.query_one("#task-title", Input).value == "Call the school [bold]now[/bold]"
        form.query_one("#task-due", Input).value = ""
        await pilot.press(*"fri")
        assert str(said.render()) == "Fri 2026-11-20 (in 4 days)"
        await pilot.press("enter")  # on to the assignee: the viewer, a member, is chosen
        await pilot.press("enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        task = tasks_of(demo_backend)["Call the school [bold]now[/bold]"]
        assert task.due == dt.date(2026, 11, 20)
        assert task.assignee_id == user_id(demo_backend, "social")
        assert task.done_at is None
        await pilot.press("3")
        assert "Call the school [bold]now[/bold]" in str(
            app.screen.query_one("#tasks-text", Static).render())
        await pilot.press("T")
        picker = await asked(app, pilot)
        assert isinstance(picker, ChoiceScreen)
        await choose(app, pilot, str(task.id))
        assert tasks_of(demo_backend)["Call the school [bold]now[/bold]"].done_at is not None


async def test_a_note_is_corrected_marked_in_error_and_its_history_shown(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "social")
        await open_case(app, pilot)
        await pilot.press("n")
        await until(pilot, lambda: isinstance(app.screen, NoteEditorScreen))
        await settle(pilot)
        await pilot.press(*"Met at ten.", "ctrl+s")
        await settle(pilot)
        [first] = notes_by(demo_backend, "social")
        await pilot.press("e")
        await choose(app, pilot, str(first.id))
        editor = await asked(app, pilot, NoteEditorScreen)
        assert isinstance(editor, NoteEditorScreen)
        await settle(pilot)
        assert "revision 1 → 2" in str(editor.query_one("#editor-title", Static).render())
        area = editor.query_one(NoteTextArea)
        assert area.text == "Met at ten."
        await pilot.press("ctrl+end", "backspace", *" (corrected: eleven).", "ctrl+s")
        await settle(pilot)
        _, second = notes_by(demo_backend, "social")
        assert (second.revision, second.supersedes_id) == (2, first.id)
        assert second.body == "Met at ten (corrected: eleven)."
        case_view = app.screen
        assert isinstance(case_view, CaseScreen)
        views = shown_notes_text(case_view)
        assert "Superseded by a later revision" in views[first.id]
        assert "Revision 2, corrects an earlier note" in views[second.id]
        await pilot.press("h")
        await choose(app, pilot, str(second.id))
        history = await asked(app, pilot, NoteHistoryScreen)
        assert isinstance(history, NoteHistoryScreen)
        assert [e.note_id for e in history.entries] == [first.id, second.id]
        await pilot.press("escape")
        await pilot.press("x")
        await choose(app, pilot, str(second.id), then_settle=False)
        reason = await asked(app, pilot, ReasonScreen)
        assert isinstance(reason, ReasonScreen)
        await pilot.press(*"Wrong young person", "enter")
        await settle(pilot)
        marked = notes_by(demo_backend, "social")[1]
        assert marked.entered_in_error and marked.error_reason == "Wrong young person"
        views = shown_notes_text(app.screen)
        assert "Entered in error: Wrong young person" in views[second.id]


async def test_an_edit_meeting_another_terminals_change_shows_both_and_loses_nothing(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        await open_case(app, pilot)
        await pilot.press("p")
        question = await asked(app, pilot)
        assert isinstance(question, ChoiceScreen) and "Priority" in question.title_text
        # Meanwhile, on the police terminal, the next review is set.
        with demo_backend.sessions.system("test: the police officer") as s:
            police = viewer_for(s.scalars(select(m.User).where(
                m.User.username == "police")).one())
        review = TODAY + dt.timedelta(days=9)
        seen = case_state(demo_backend, police, CASE, TODAY).next_review
        apply_change(demo_backend, police, case_state(demo_backend, police, CASE, TODAY),
                     CaseChange("next_review", review), today=TODAY)
        before = case_state(demo_backend, police, CASE, TODAY)
        wanted = "3" if before.priority != 3 else "1"
        options = question.query_one(OptionList)
        options.highlighted = [v for v, _ in question.choices].index(wanted)
        await pilot.press("enter")
        conflict = await asked(app, pilot, ConflictScreen)
        assert isinstance(conflict, ConflictScreen)
        table = str(conflict.query_one("#conflict-table", Static).render())
        assert "Next review" in table and review.isoformat() in table and "changed" in table
        # As drawn: each field on one row, both versions side by side, however long the
        # members' names (a long list wraps within its column).
        lines = screen_lines(app)
        assert "Now" in next(line for line in lines if "You saw" in line)
        row = next(line for line in lines if "Next review" in line)
        assert row.count(review.isoformat()) == 1 and "← changed" in row
        assert (seen.isoformat() if seen else "none") in row
        assert "Priority →" in str(conflict.query_one("#conflict-mine", Static).render())
        await pilot.press("a")
        await settle(pilot)
        after = case_state(demo_backend, police, CASE, TODAY)
        assert (after.next_review, after.priority) == (review, int(wanted))
        assert after.version == before.version + 1


async def test_a_concern_about_a_minor_prompts_the_statutory_notification(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "police")
        await open_case(app, pilot)
        await pilot.press("n")
        editor = await asked(app, pilot, NoteEditorScreen)
        await settle(pilot)
        await pilot.press("f3")
        await choose(app, pilot, "welfare_concern")
        assert "Category: Child welfare" in str(editor.query_one(  # type: ignore[attr-defined]
            "#editor-settings", Static).render())
        await pilot.press("ctrl+end", *"Bruises seen at the station.", "ctrl+s")
        prompt = await asked(app, pilot, ChildWelfareScreen)
        assert isinstance(prompt, ChildWelfareScreen)
        await settle(pilot)
        [note] = notes_by(demo_backend, "police")  # the note is already safe
        assert note.template == "welfare_concern"
        with demo_backend.sessions.system("test: the record") as s:
            record = s.scalars(select(m.ChildWelfareNotification)).one()
            assert (record.status, record.note_id) == ("pending", note.id)
        await pilot.press("enter")  # by phone
        await pilot.press(*"Espoo child welfare services", "enter", *"LS-2026-77", "enter")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        with demo_backend.sessions.system("test: the record") as s:
            record = s.scalars(select(m.ChildWelfareNotification)).one()
            assert (record.status, record.method, record.recipient, record.reference) == (
                "notified", "phone", "Espoo child welfare services", "LS-2026-77")
        follow_up = tasks_of(demo_backend)[FOLLOW_UP_TITLE]
        assert follow_up.due == TODAY + dt.timedelta(days=7)
        assert follow_up.assignee_id == user_id(demo_backend, "police")


async def test_the_statutory_notification_fits_80x24_where_it_is_typed(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    """At 80x24 the form was cut below "To whom": the reference field, a message saying
    what is missing and the keys to record it were off the screen. It scrolls: each
    field and the message show when they matter."""
    from textual.widgets import Input

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "police")
        await open_case(app, pilot)
        await pilot.press("n")
        await asked(app, pilot, NoteEditorScreen)
        await settle(pilot)
        await pilot.press("f3")
        await choose(app, pilot, "welfare_concern")
        await pilot.press("ctrl+end", *"Bruises seen at the station.", "ctrl+s")
        prompt = await asked(app, pilot, ChildWelfareScreen)
        await settle(pilot)

        def shown(widget: Any) -> bool:
            x, y, width, height = widget.region
            middle = (x + width // 2, y + height // 2)
            return bool(width) and prompt.get_widget_at(*middle)[0] in (
                widget, *widget.walk_children())

        await pilot.press("enter", *"Espoo child welfare services", "enter")
        await pilot.pause()
        reference = prompt.query_one("#welfare-reference", Input)
        assert prompt.focused is reference and shown(reference)
        prompt.query_one("#welfare-recipient", Input).value = ""
        await pilot.press("ctrl+s")  # nothing to whom: said, where it can be read
        await pilot.pause()
        message = prompt.query_one("#welfare-message", Static)
        assert "Write to whom" in str(message.render()) and shown(message)


async def test_the_task_form_fits_80x24_where_it_is_typed(make_app: AppFactory) -> None:
    """At 80x24 the task form was cut in the list of who does it: the later people,
    and the keys to save, were off the screen. It scrolls to the field with focus."""
    from textual.widgets import Input, OptionList

    from anchor_tui.screens.task_form import TaskFormScreen

    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "social")
        await open_case(app, pilot)
        await pilot.press("t")
        form = await asked(app, pilot, TaskFormScreen)
        await settle(pilot)

        def shown(widget: Any) -> bool:
            x, y, width, height = widget.region
            return bool(width) and form.get_widget_at(x + width // 2, y + height - 1)[0] in (
                widget, *widget.walk_children())

        await pilot.press(*"Call the school", "enter", "enter")
        people = form.query_one("#task-assignee", OptionList)
        # (Scrolling to the focused field is animated over a few refreshes.)
        await until(pilot, lambda: form.focused is people and shown(people))
        form.query_one("#task-due", Input).value = "someday soon"
        await pilot.press("ctrl+s")
        message = form.query_one("#task-message", Static)
        await until(pilot, lambda: "does not read as a day" in str(message.render())
                    and shown(message))
