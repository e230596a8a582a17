"""The note editor in a huddle offers only categories everyone present may read.

What is typed in a huddle is on the shared screen as it is typed, so a category whose
notes someone present may not read is neither offered (F4), nor a template's (F3), nor
the default; the editor says why. With no category left, no editor opens: the room is
told why instead. Someone joining while a note is written closes the huddle's screens
(as on every roster change): the text is kept as the chair's draft, never shown to the
newcomer.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from sqlalchemy import delete, select
from textual.widgets import TextArea

from anchor_tui.db import models as m
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.huddle import HuddleScreen
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.screens.terminal_messages import RosterChanged
from anchor_tui.services.huddle import join_huddle
from anchor_tui.settings import DEMO_PASSPHRASE
from anchor_tui.widgets.note_text_area import NoteTextArea
from tests.ui.conftest import TODAY, AppFactory, all_text, settle
from tests.ui.test_huddle import huddle_of, join, shown
from tests.ui.test_note_editor import user_id

SECRET = "Seen at the clinic on Tuesday: new medication, sleeping badly."


def works_the_case(app: Any, case_id: int, *names: str) -> None:
    """Each of ``names`` works the case (a membership from long ago, if not already)."""
    ids = [user_id(app.backend, name) for name in names]
    with app.backend.sessions.system("test: members") as s:
        for who in ids:
            if s.scalar(select(m.CaseMember.id).where(m.CaseMember.case_id == case_id,
                                                      m.CaseMember.user_id == who,
                                                      m.CaseMember.valid_to.is_(None))) is None:
                s.add(m.CaseMember(case_id=case_id, user_id=who,
                                   valid_from=TODAY - dt.timedelta(days=400)))


async def editor_in(app: Any, pilot: Any, chair: str, *others: str) -> NoteEditorScreen:
    """``chair`` starts a huddle, ``others`` join (all of them work the case under
    discussion); `w` on that case."""
    screen = await huddle_of(pilot, chair)
    for other in others:
        screen = await join(pilot, other)
    entry = screen.entry()
    assert entry is not None
    works_the_case(app, entry.case_id, chair, *others)
    await pilot.press("w")
    await settle(pilot)
    editor = app.screen
    assert isinstance(editor, NoteEditorScreen), editor
    assert editor.start is not None
    return editor


async def offered(pilot: Any, key: str) -> ChoiceScreen[str]:
    """The choices F3 or F4 offers (the picker is left with Esc)."""
    await pilot.press(key)
    picker = await shown(pilot, ChoiceScreen)
    return picker


async def test_a_nurse_chairing_with_police_present_is_not_given_health(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        editor = await editor_in(app, pilot, "nurse", "police")
        assert editor.category != "health"
        picker = await offered(pilot, "f4")
        ids = [value for value, _label in picker.choices]
        assert "health" not in ids and "police_intel" not in ids, ids
        assert editor.category in ids
        assert "the health record never reaches the police" in picker.note
        assert "police intelligence never leaves the police" in picker.note
        await pilot.press("escape")
        await settle(pilot)
        picker = await offered(pilot, "f3")
        templates = [value for value, _label in picker.choices]
        assert "health_assessment" not in templates, templates
        assert "statement_to_police" in templates  # a general note: the police may read it
        await pilot.press("escape")
        await settle(pilot)
        settings = str(editor.query_one("#editor-settings").render())
        assert "Not offered in the huddle" in settings and "Health" in settings


async def test_a_police_officer_with_a_nurse_present_cannot_pick_police_intelligence(
        make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        editor = await editor_in(app, pilot, "police", "nurse")
        assert editor.category != "police_intel"
        picker = await offered(pilot, "f4")
        ids = [value for value, _label in picker.choices]
        assert "police_intel" not in ids and "health" not in ids, ids
        await pilot.press("escape")
        await settle(pilot)
        picker = await offered(pilot, "f3")
        templates = [value for value, _label in picker.choices]
        assert "intelligence_entry" not in templates, templates
        # A child-welfare concern reaches the nurse only with consent, which the room may
        # not count on (nor learn): not offered either.
        assert "welfare_concern" not in templates, templates


async def test_alone_the_chair_is_offered_their_own_categories(make_app: AppFactory) -> None:
    """Not narrower than needed: a nurse in a huddle of one may write a health note."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        editor = await editor_in(app, pilot, "nurse")
        assert editor.category == "health"


async def test_no_editor_opens_where_nobody_may_write_for_everyone(
        make_app: AppFactory) -> None:
    """The nurse present does not work the case: no category's notes reach all of them."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        await huddle_of(pilot, "social")
        screen = await join(pilot, "nurse")
        entry = screen.entry()
        assert entry is not None
        nurse = user_id(app.backend, "nurse")
        with app.backend.sessions.system("test: the nurse leaves the case") as s:
            s.execute(delete(m.CaseMember).where(m.CaseMember.case_id == entry.case_id,
                                                 m.CaseMember.user_id == nurse))
        await pilot.press("w")
        await settle(pilot)
        error = await shown(pilot, ErrorScreen)
        assert error.error_title == "No note everyone here may read"
        assert "Health: does not work this case" in error.error_message
        assert not any(isinstance(s, NoteEditorScreen) for s in app.screen_stack)


async def test_someone_joining_while_a_note_is_written_does_not_see_it(
        make_app: AppFactory) -> None:
    """The nurse, alone, writes a health note; the police officer joins (the join screen's
    work finishing while the editor is up). The text leaves the shared screen and is
    kept as the nurse's draft; the next note in the huddle starts afresh, not as health."""
    app = make_app()
    async with app.run_test(size=(160, 45)) as pilot:
        editor = await editor_in(app, pilot, "nurse")
        case_id = editor.case_id
        assert editor.category == "health"
        editor.query_one(NoteTextArea).insert(SECRET)
        await pilot.pause()
        roster = join_huddle(app.backend, app.viewer, "police", DEMO_PASSPHRASE, TODAY,
                             app.clock.now())
        app.post_message(RosterChanged(roster, case_id))
        await settle(pilot)
        assert isinstance(app.screen, HuddleScreen)
        assert len(app.screen.roster.present) == 2
        assert not any(isinstance(s, NoteEditorScreen) for s in app.screen_stack)
        assert SECRET not in all_text(app)
        assert all(SECRET not in area.text for s in app.screen_stack
                   for area in s.query(TextArea))
        with app.backend.sessions.system("test: drafts") as s:
            kept = list(s.scalars(select(m.Draft.body).where(
                m.Draft.author_id == user_id(app.backend, "nurse"),
                m.Draft.case_id == case_id)))
        assert kept == [SECRET]
        works_the_case(app, case_id, "police")
        await pilot.press("w")
        await settle(pilot)
        again = app.screen
        assert isinstance(again, NoteEditorScreen)
        assert again.category != "health" and again.body.text == ""
