"""Words typed must never vanish without the person being told.

A note kept for the database takes no more words (made later, its save closed the
editor with what was typed since); a draft continued while the note's save waited is
not deleted by that save; forms open behind the lock are kept when someone quits there;
a huddle's decision refused after the roster changed is said to the room (without its
words); an editor that could not open (the database away) keeps its text on screen
and tries again, never closing on "keep it as a draft" with nothing kept; two forms of
the same kind about the same case, kept at once, are both kept."""

from __future__ import annotations

from typing import Any

from anchor_tui.saving import save_queue
from anchor_tui.screens import note_editor
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.services import notes
from anchor_tui.services.backend import Backend
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import AppFactory, settle
from tests.ui.test_editor_saving import WORDS, save_kept
from tests.ui.test_note_editor import drafts_of, notes_by, until

MORE = " Also: her mother called at 17:00, worried about the weekend."


async def test_nothing_more_is_typed_into_a_note_kept_for_the_database(
    make_app: AppFactory, demo_backend: Backend, monkeypatch: Any
) -> None:
    """ctrl+s with the database away: the note is kept as it is, and the editor takes no
    more words (made later, the save closes the editor: words typed meanwhile went
    nowhere). Esc leaves it to be saved; once the server is back it is, and said so."""
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        editor = await save_kept(app, pilot, monkeypatch)
        area = editor.query_one(NoteTextArea)
        assert area.read_only
        area.focus()
        area.move_cursor(area.document.end)
        await pilot.press(*"More")
        assert area.text == WORDS, "words typed into a note already kept"
        await pilot.press("escape")
        await settle(pilot)
        assert not isinstance(app.screen, NoteEditorScreen), "Esc did not leave it"
        monkeypatch.setattr(note_editor, "save_note", notes.save_note)  # the server is back
        save_queue(app).resume()
        await until(pilot, lambda: save_queue(app).waiting == ())
        await settle(pilot)
        saved = [n.body for n in notes_by(demo_backend, "social")]
        told = " ".join(str(n.message) for n in app._notifications)
        assert saved == [WORDS] and drafts_of(demo_backend, "social") == []
        assert "was saved" in told, told


async def test_quitting_at_the_lock_keeps_the_task_form_typed_behind_it(
        make_app: AppFactory, demo_backend: Backend) -> None:
    """social types a task in the case view's task form and steps away; the terminal
    locks. Someone presses ctrl+q at the lock (allowed there). Nothing is asked (the
    question goes to the lock's own screens only) and the app quits: the task's words,
    which a takeover or a switch of user would have kept for her, are gone."""
    from textual.widgets import Input

    from anchor_tui.screens.lock import LockScreen
    from tests.ui.conftest import sign_in
    from tests.ui.test_forms_kept_at_takeover import kept_forms, open_task_form
    from tests.ui.test_task_form_kept import TITLE

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        form = await open_task_form(app, pilot)
        form.query_one("#task-title", Input).value = TITLE
        await pilot.press("ctrl+g")
        await until(pilot, lambda: isinstance(app.screen, LockScreen))
        await pilot.press("ctrl+q")
        await settle(pilot)
        for _ in range(50):
            if not app.is_running:
                break
            await pilot.pause()
        quit_silently = not app.is_running
    kept = [f.get("title") for _k, _t, f in kept_forms(demo_backend, "social")]
    assert not quit_silently or TITLE in kept, (
        f"the app quit at the lock without asking, and kept nothing: {kept!r}")




async def test_a_draft_continued_while_the_note_waits_is_not_deleted_by_its_save(
    make_app: AppFactory, demo_backend: Backend, monkeypatch: Any
) -> None:
    """The note's save is kept (server away); social switches user, signs in again,
    opens the case's editor and continues the draft offered back (the same text), and
    writes on. The server is back: the kept save deletes her draft (its key) with the
    words she has typed since. She leaves the editor keeping the draft: nothing is
    written (the autosave had already saved it), and the words are gone."""
    from tests.ui.conftest import sign_in
    from tests.ui.test_note_editor import asked, choose

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await save_kept(app, pilot, monkeypatch)
        await pilot.press("ctrl+o")
        await settle(pilot)
        await sign_in(pilot, "social")
        from anchor_tui.screens.case import CaseScreen
        await app.push_screen(CaseScreen(2))
        await settle(pilot)
        await pilot.press("n")
        await asked(app, pilot)
        await choose(app, pilot, "continue")
        editor = app.screen
        assert isinstance(editor, NoteEditorScreen)
        area = editor.query_one(NoteTextArea)
        area.move_cursor(area.document.end)
        area.insert(MORE)
        await pilot.pause()
        editor.save_draft_now()  # the autosave's tick
        await settle(pilot)
        assert drafts_of(demo_backend, "social") == [WORDS + MORE]
        monkeypatch.setattr(note_editor, "save_note", notes.save_note)  # the server is back
        save_queue(app).resume()
        await until(pilot, lambda: save_queue(app).waiting == ())
        await settle(pilot)
        await pilot.press("escape")
        await choose(app, pilot, "draft")
        saved = [n.body for n in notes_by(demo_backend, "social")]
        kept = drafts_of(demo_backend, "social")
    assert MORE.strip() in " ".join(saved + kept), (
        f"continued after the kept save and lost: notes={saved!r} drafts={kept!r}")


async def test_a_kept_decision_refused_after_someone_joins_the_huddle_is_not_lost_unsaid(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: Any) -> None:
    """The huddle types a decision while the database is away: kept. The youth worker
    joins (a roster change: a new context). The database is back and refuses the
    decision (the huddle changed). The room, still in the same huddle, is told nothing
    and is never asked again: the decision's words went to the error log (class only),
    and are gone. (``HuddleScreen._again``: "after a roster change the error log has
    it"; ``write_decision`` gives no ``keep_if_refused``.)"""
    from anchor_tui.errors import AnchorError, ConnectionLostError
    from anchor_tui.messages import ConnectionRestored
    from anchor_tui.screens.prompt import ReasonScreen
    from anchor_tui.services import huddle as huddle_service
    from tests.ui.screen_reading import screen_text
    from tests.ui.test_huddle import join, shown
    from tests.ui.test_kept_huddle import huddle_away, items_on

    calls: list[int] = []

    def away_then_refused(*_args: Any, **_kwargs: Any) -> Any:
        calls.append(1)
        if len(calls) == 1:
            raise ConnectionLostError("The connection to the database server was lost.")
        raise AnchorError("The huddle changed.", "Check the decision still holds.")

    monkeypatch.setattr(huddle_service, "add_decision", away_then_refused)
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        _screen, case_id = await huddle_away(app, pilot)
        await pilot.press("d")
        await shown(pilot, ReasonScreen)
        await pilot.press(*"Meet the family", "enter")
        await settle(pilot)
        assert save_queue(app).waiting != ()
        await join(pilot, "youth")
        await settle(pilot)
        before = len(app._notifications)
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: len(calls) == 2)
        await settle(pilot)
        asked_again = isinstance(app.screen, ReasonScreen)
        said_after = [str(n.message) for n in list(app._notifications)[before:]]
        on_screen = screen_text(app) if not asked_again else ""
        recorded = items_on(demo_backend, case_id)
    assert asked_again or any("decision" in s.lower() for s in said_after) or \
        "not recorded" in on_screen or recorded, (
        f"the decision was refused and dropped unsaid: said={said_after!r}")


async def test_text_typed_while_the_editor_could_not_open_is_kept_once_it_opens(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: Any) -> None:
    """The editor opens while the database is away: its start fails; the text area still
    takes keys. "Keep it as a draft" cannot keep anything yet: the editor says so and
    stays, the text on screen. The database is back, the editor opens on its next try,
    and the same choice keeps the text."""
    from anchor_tui.errors import DatabaseError
    from anchor_tui.screens import ErrorScreen
    from anchor_tui.screens.case import CaseScreen
    from tests.ui.conftest import sign_in
    from tests.ui.test_note_editor import asked, choose

    real = note_editor.start_editor

    def away(*_a: Any, **_k: Any) -> Any:
        raise DatabaseError("The connection to the database server was lost.",
                            "The app reconnects by itself.")

    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "social")
        await app.push_screen(CaseScreen(2))
        await settle(pilot)
        monkeypatch.setattr(note_editor, "start_editor", away)
        await pilot.press("n")
        await settle(pilot)
        assert not isinstance(app.screen, ErrorScreen), "a modal for each try"
        editor = app.screen
        assert isinstance(editor, NoteEditorScreen)
        assert "tries again" in str(editor.query_one("#editor-status").render())
        editor.body.focus()
        await pilot.press(*"Seen at school")
        await pilot.press("escape")
        await asked(app, pilot)
        await choose(app, pilot, "draft")
        await settle(pilot)
        assert app.screen is editor and editor.body.text == "Seen at school"
        assert "cannot be kept as a draft yet" in str(
            editor.query_one("#editor-status").render())
        monkeypatch.setattr(note_editor, "start_editor", real)  # the database is back
        editor._start_again()  # (its timer's call)
        await settle(pilot)
        assert editor.start is not None
        await pilot.press("escape")
        await asked(app, pilot)
        await choose(app, pilot, "draft")
        await settle(pilot)
        assert not isinstance(app.screen, NoteEditorScreen)
        assert drafts_of(demo_backend, "social") == ["Seen at school"]


async def test_two_task_forms_open_at_a_takeover_are_both_kept(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: Any) -> None:
    """social adds task T1 while the server is away (kept). She opens the task form on
    the same case again and types T2. The server comes back; T1 is refused (the nurse
    left the case) and its form is given back over the T2 form. The terminal is taken
    over: both forms are kept for her (the one given back replaces its own copy; the
    other is kept beside it)."""
    from sqlalchemy import delete
    from textual.widgets import Input

    from anchor_tui.db import models as m
    from anchor_tui.messages import ConnectionRestored
    from anchor_tui.screens import task_form
    from anchor_tui.screens.task_form import TaskFormScreen
    from tests.ui.test_forms_kept_at_takeover import kept_forms, take_over
    from tests.ui.test_lock_holds_screens import fails_once
    from tests.ui.test_note_editor import CASE, asked, user_id
    from tests.ui.test_task_form_kept import TITLE, add_while_away

    second = "Book the interpreter for the family meeting"
    monkeypatch.setattr(task_form, "add_task", fails_once(task_form.add_task))
    app = make_app()
    nurse = user_id(demo_backend, "nurse")
    async with app.run_test(size=(120, 40)) as pilot:
        await add_while_away(app, pilot, demo_backend, assignee="nurse")
        assert len(save_queue(app).waiting) == 1
        await pilot.press("t")  # the task form again, on the same case
        typing = await asked(app, pilot, TaskFormScreen)
        assert isinstance(typing, TaskFormScreen)
        await settle(pilot)
        typing.query_one("#task-title", Input).value = second
        with demo_backend.sessions.system("test: the nurse leaves the case") as s:
            s.execute(delete(m.CaseMember).where(m.CaseMember.case_id == CASE,
                                                 m.CaseMember.user_id == nurse))
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: isinstance(app.screen, TaskFormScreen)
                    and app.screen is not typing)
        await settle(pilot)
        given_back = app.screen
        assert given_back.query_one("#task-title", Input).value == TITLE
        assert typing.is_attached  # both forms open, one over the other
        await take_over(app, pilot)
        titles = [fields.get("title") for _k, _t, fields in kept_forms(demo_backend, "social")]
    assert TITLE in titles and second in titles, f"kept at the takeover: {titles!r}"


async def test_a_refusal_kept_after_a_takeover_does_not_replace_the_form_kept_there(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: Any) -> None:
    """social adds task T1 while the server is away (kept in the queue), opens the task
    form on the same case again and types T2. The server is back (the watcher has not
    looked yet) and the terminal is taken over: T2 is kept as her task form. Then the
    queue resumes and T1 is refused after she left: kept beside T2, never over it."""
    from sqlalchemy import delete
    from textual.widgets import Input

    from anchor_tui.db import models as m
    from anchor_tui.messages import ConnectionRestored
    from anchor_tui.screens import task_form
    from anchor_tui.screens.task_form import TaskFormScreen
    from tests.ui.test_forms_kept_at_takeover import kept_forms, take_over
    from tests.ui.test_lock_holds_screens import fails_once
    from tests.ui.test_note_editor import CASE, asked, user_id
    from tests.ui.test_task_done_kept import saves_running
    from tests.ui.test_task_form_kept import TITLE, add_while_away

    second = "Book the interpreter for the family meeting"
    monkeypatch.setattr(task_form, "add_task", fails_once(task_form.add_task))
    app = make_app()
    nurse = user_id(demo_backend, "nurse")
    async with app.run_test(size=(120, 40)) as pilot:
        await add_while_away(app, pilot, demo_backend, assignee="nurse")
        await pilot.press("t")
        typing = await asked(app, pilot, TaskFormScreen)
        assert isinstance(typing, TaskFormScreen)
        await settle(pilot)
        typing.query_one("#task-title", Input).value = second
        await take_over(app, pilot)
        assert [f.get("title") for _k, _t, f in kept_forms(demo_backend, "social")] == [second]
        with demo_backend.sessions.system("test: the nurse leaves the case") as s:
            s.execute(delete(m.CaseMember).where(m.CaseMember.case_id == CASE,
                                                 m.CaseMember.user_id == nurse))
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == () and not saves_running(app))
        await settle(pilot)
        titles = [f.get("title") for _k, _t, f in kept_forms(demo_backend, "social")]
    assert TITLE in titles and second in titles, f"kept for social: {titles!r}"
