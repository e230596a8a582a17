"""The note editor in the app: a note typed end to end with a template, a category change
and the disclosure preview; saving by ctrl+s and F2; drafts kept on leaving and offered
back; bad input (empty, 1 MB, escape sequences, markup)."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable

from sqlalchemy import delete, func, select
from textual import events
from textual.widgets import OptionList, Static

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.errors import DatabaseError
from anchor_tui.screens import BoardScreen, ErrorScreen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.notes import templates_for
from anchor_tui.widgets.case_record import NotesTimeline
from anchor_tui.widgets.disclosure_preview import DisclosurePreview
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import TODAY, AppFactory, focused_card, settle, sign_in

CASE = 2
"""A demo case that the police, social work, health and youth work all work."""


def user_id(backend: Backend, username: str) -> int:
    with backend.sessions.system("test: who") as s:
        return int(s.scalars(select(m.User.id).where(m.User.username == username)).one())


def only_consent(backend: Backend, case_id: int, category: str, to: str,
                 until: dt.date) -> None:
    """The young person's own consent for one category to one profession, and no other."""
    recorder = user_id(backend, "social")
    with backend.sessions.system("test: consents") as s:
        person = s.scalars(select(m.Case.person_id).where(m.Case.id == case_id)).one()
        s.execute(delete(m.Consent).where(m.Consent.person_id == person))
        s.add(m.Consent(person_id=person, grantor="self", decision="permit", category=category,
                        receiving_profession=to, valid_from=TODAY - dt.timedelta(days=10),
                        valid_to=until, recorded_by_id=recorder))


def notes_by(backend: Backend, username: str, case_id: int = CASE) -> list[m.Note]:
    author = user_id(backend, username)
    with backend.sessions.system("test: notes") as s:
        rows = s.scalars(select(m.Note).where(
            m.Note.case_id == case_id, m.Note.author_id == author,
            m.Note.created_at >= dt.datetime.combine(TODAY, dt.time(0), tzinfo=dt.UTC))
            .order_by(m.Note.id)).all()
        for row in rows:
            s.expunge(row)
        return list(rows)


def drafts_of(backend: Backend, username: str) -> list[str]:
    author = user_id(backend, username)
    with backend.sessions.system("test: drafts") as s:
        return list(s.scalars(select(m.Draft.body).where(m.Draft.author_id == author)))


async def open_editor(app: AnchorApp, pilot: object, case_id: int = CASE) -> NoteEditorScreen:
    await app.push_screen(CaseScreen(case_id))
    await settle(pilot)  # type: ignore[arg-type]
    await pilot.press("n")  # type: ignore[attr-defined]
    await settle(pilot)  # type: ignore[arg-type]
    assert isinstance(app.screen, NoteEditorScreen)
    return app.screen


async def asked(app: AnchorApp, pilot: object, kind: type[object] = ChoiceScreen) -> object:
    """Wait for a question (a modal) to come up. Not ``settle``: the worker that asks
    waits for the answer, so waiting for every worker would wait for ever."""
    for _ in range(200):
        if isinstance(app.screen, kind):
            return app.screen
        await pilot.pause()  # type: ignore[attr-defined]
    raise AssertionError(f"no {kind.__name__} came up; on top: {app.screen!r}")


async def until(pilot: object, condition: Callable[[], bool]) -> None:
    """Let the app run until ``condition`` holds (a worker's result arrived)."""
    for _ in range(300):
        if condition():
            return
        await pilot.pause()  # type: ignore[attr-defined]
    raise AssertionError("the condition never held")


async def choose(app: AnchorApp, pilot: object, value: str, *, then_settle: bool = True
                 ) -> None:
    """Pick ``value`` in the choice modal on top, with the keyboard; then wait for the
    workers (``then_settle=False`` when the choice leads to another question)."""
    screen = await asked(app, pilot)
    assert isinstance(screen, ChoiceScreen), screen
    options = screen.query_one(OptionList)
    target = [v for v, _ in screen.choices].index(value)
    while options.highlighted != target:
        await pilot.press("down" if (options.highlighted or 0) < target else "up")  # type: ignore[attr-defined]
    await pilot.press("enter")  # type: ignore[attr-defined]
    if then_settle:
        await settle(pilot)  # type: ignore[arg-type]
    else:
        await until(pilot, lambda: app.screen is not screen)


def text_of(screen: NoteEditorScreen, selector: str) -> str:
    return str(screen.query_one(selector, Static).render())


async def test_a_note_typed_with_a_template_a_category_change_and_the_preview(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    only_consent(demo_backend, CASE, "health", "social_work", dt.date(2027, 1, 31))
    app = make_app()
    async with app.run_test(size=(100, 32)) as pilot:
        await sign_in(pilot, "nurse")
        editor = await open_editor(app, pilot)
        assert "Category: Health" in text_of(editor, "#editor-settings")  # the profession's
        offered = [t.id for t in templates_for(demo_backend.team, "health")]
        await pilot.press("f3")
        await choose(app, pilot, "health_assessment")
        body = editor.query_one(NoteTextArea)
        assert body.text.startswith("Reason for contact: \nAssessment: ")
        assert "health_assessment" in offered and "intelligence_entry" not in offered
        preview = str(editor.query_one(DisclosurePreview).render())
        assert "Social work: yes, consent until 2027-01-31" in preview
        assert "Police: no, the health record never reaches the police" in preview
        assert "Youth work: no, health notes need consent" in preview
        await pilot.press("ctrl+end", *"Sleeps badly, no medication.")
        await pilot.press("f4")
        await choose(app, pilot, "general")
        preview = str(editor.query_one(DisclosurePreview).render())
        assert "Police: yes, works the case" in preview and "general note" in preview
        assert "Category: General" in text_of(editor, "#editor-settings")
        await pilot.press("ctrl+s")
        await settle(pilot)
        case_view = app.screen
        assert isinstance(case_view, CaseScreen)
        [note] = notes_by(demo_backend, "nurse")
        assert (note.category, note.template, note.revision) == ("general",
                                                                 "health_assessment", 1)
        assert note.body.endswith("Plan:\nSleeps badly, no medication.") or \
            note.body.endswith("Sleeps badly, no medication.")
        assert drafts_of(demo_backend, "nurse") == []
        shown = list(case_view.query_one(NotesTimeline).notes)
        assert shown[0].note_id == note.id  # the case view read itself again
        with demo_backend.sessions.system("test: audit") as s:
            assert s.scalar(select(func.count()).select_from(m.AuditEvent).where(
                m.AuditEvent.action == "note.write", m.AuditEvent.object_id == note.id)) == 1


async def test_f2_saves_and_an_empty_note_is_refused_with_a_message(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "social")
        editor = await open_editor(app, pilot)
        await pilot.press("space", "enter", "space")
        await pilot.press("f2")
        await settle(pilot)
        assert app.screen is editor
        assert "An empty note is not saved" in text_of(editor, "#editor-status")
        assert notes_by(demo_backend, "social") == []
        await pilot.press(*"Called the school.")
        await pilot.press("f2")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        # Blank lines before the text are dropped; the text is kept as typed.
        assert [n.body for n in notes_by(demo_backend, "social")] == [" Called the school."]


async def test_leaving_asks_and_keeps_the_draft_which_is_offered_back(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "youth")
        editor = await open_editor(app, pilot)
        await pilot.press(*"Met him at the youth centre")
        await pilot.press("escape")
        question = await asked(app, pilot)
        assert isinstance(question, ChoiceScreen) and "Leave" in question.title_text
        await choose(app, pilot, "draft")
        assert isinstance(app.screen, CaseScreen)
        assert drafts_of(demo_backend, "youth") == ["Met him at the youth centre"]
        assert notes_by(demo_backend, "youth") == []
        await pilot.press("n")
        assert isinstance(await asked(app, pilot), ChoiceScreen)  # the draft is offered back
        await choose(app, pilot, "continue")
        editor = app.screen
        assert isinstance(editor, NoteEditorScreen)
        assert editor.query_one(NoteTextArea).text == "Met him at the youth centre"
        await pilot.press("escape")
        await choose(app, pilot, "discard")
        assert isinstance(app.screen, CaseScreen)
        assert drafts_of(demo_backend, "youth") == []


async def test_escape_twice_never_discards_and_quitting_asks(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "police")
        editor = await open_editor(app, pilot)
        await pilot.press(*"Half written")
        await pilot.press("escape")
        await asked(app, pilot)
        await pilot.press("escape")
        await settle(pilot)
        assert app.screen is editor and editor.query_one(NoteTextArea).text == "Half written"
        await pilot.press("ctrl+q")
        question = await asked(app, pilot)
        assert isinstance(question, ChoiceScreen) and "Quit" in question.title_text
        await choose(app, pilot, "stay")
        assert app.is_running and app.screen is editor
        await pilot.press("ctrl+q")
        police = app.viewer
        await choose(app, pilot, "draft")
        await settle(pilot)
    assert drafts_of(demo_backend, "police") == ["Half written"]
    assert police is not None and app.return_code == 0
    with demo_backend.sessions.system("test: the trail") as s:
        last = s.scalars(select(m.AuditEvent).order_by(m.AuditEvent.id.desc())).first()
        assert last is not None and (last.action, last.actor_id) == ("sign_out", police.user_id)


async def test_a_draft_is_saved_when_focus_moves_and_a_failure_is_shown_not_fatal(
    make_app: AppFactory, demo_backend: Backend, monkeypatch: object
) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "nurse")
        editor = await open_editor(app, pilot)
        await pilot.press(*"Typed then F3")
        await pilot.press("f3")  # a picker on top: focus leaves the text
        await asked(app, pilot)
        await until(pilot, lambda: drafts_of(demo_backend, "nurse") == ["Typed then F3"])
        await pilot.press("escape")
        await settle(pilot)

        def away(*args: object, **kwargs: object) -> None:
            raise DatabaseError("The connection to the database server was lost.", "")

        monkeypatch.setattr("anchor_tui.screens.note_drafts.save_draft", away)  # type: ignore[attr-defined]
        await pilot.press(*" and more")
        editor.save_draft_now()
        await settle(pilot)
        status = text_of(editor, "#editor-status")
        assert "Draft not saved" in status and "connection" in status
        assert not isinstance(app.screen, ErrorScreen) and app.screen is editor
        assert editor.query_one(NoteTextArea).text == "Typed then F3 and more"
        assert editor.schedule.pending  # tried again on the next tick


async def test_a_draft_left_by_a_crash_is_offered_when_the_editor_opens(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    author = user_id(demo_backend, "social")
    with demo_backend.sessions.system("test: a terminal died") as s:
        s.add(m.Draft(author_id=author, case_id=CASE,
                      supersedes_id=None, category="general", template=None,
                      body="Words from before the crash"))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "social")
        await app.push_screen(CaseScreen(CASE))
        await settle(pilot)
        await pilot.press("n")
        offer = await asked(app, pilot)
        assert isinstance(offer, ChoiceScreen) and "draft" in offer.title_text
        assert "Words from before the crash" in offer.note
        await pilot.press("escape")  # Esc keeps the draft: it is never dropped silently
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, NoteEditorScreen)
        assert editor.query_one(NoteTextArea).text == "Words from before the crash"


async def test_a_megabyte_paste_and_escape_sequences_stay_text(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    hostile = "[bold]x[/bold] [@click=app.quit]Quit[/] \x1b[2J\x07 end"
    big = ("Rivi muistiinpanoa, joka toistuu. " * 30 + "\n") * 1000
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "police")
        editor = await open_editor(app, pilot)
        area = editor.query_one(NoteTextArea)
        app.post_message(events.Paste(hostile))  # as the terminal driver sends it
        await settle(pilot)
        shown = "[bold]x[/bold] [@click=app.quit]Quit[/] \\x1b[2J\\x07 end"
        assert area.text == shown
        assert "\x1b" not in "".join(strip.text for strip in area.render_lines(
            area.region.reset_offset))
        await pilot.press("ctrl+s")
        await settle(pilot)
        case_view = app.screen
        assert isinstance(case_view, CaseScreen)
        timeline = case_view.query_one(NotesTimeline)
        assert shown in timeline.text
        await pilot.click(timeline)
        assert app.is_running
        await pilot.press("n")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, NoteEditorScreen)
        app.post_message(events.Paste(big))
        await settle(pilot)
        await pilot.press("ctrl+s")
        await settle(pilot)
        assert isinstance(app.screen, CaseScreen)
        saved = notes_by(demo_backend, "police")
        assert [n.body for n in saved] == [shown, big.rstrip()]
        assert len(saved[1].body.encode()) > 1_000_000


async def test_n_on_the_board_opens_the_editor_for_the_focused_case(
    make_app: AppFactory
) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "social")
        board = app.screen
        assert isinstance(board, BoardScreen)
        card = focused_card(app)
        await pilot.press("n")
        await settle(pilot)
        editor = app.screen
        assert isinstance(editor, NoteEditorScreen) and editor.case_id == card.case_id
        assert f"case {card.case_id}" in text_of(editor, "#editor-title")
        await pilot.press("escape")  # nothing typed: leaves without asking
        await settle(pilot)
        assert app.screen is board


async def test_typing_on_the_last_line_keeps_the_cursor_in_sight(make_app: AppFactory) -> None:
    """A word wrapping onto a new line at the bottom of the text must stay visible (the
    editor scrolls once more after TextArea's own scroll, which came a line short)."""
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "social")
        editor = await open_editor(app, pilot)
        area = editor.query_one(NoteTextArea)
        area.load_body("Sentence after sentence about the visit. " * 400)
        await pilot.pause()
        for _ in range(60):
            await pilot.press("x")
            await pilot.pause()
            row = area.wrapped_document.location_to_offset(area.cursor_location).y
            top = area.scroll_offset.y
            assert top <= row < top + area.scrollable_content_region.height
