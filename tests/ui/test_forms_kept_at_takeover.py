"""What was typed into a form is kept for its author when the terminal passes on.

A takeover at the idle lock or a switch of user removed the form with the closing
viewer's screens, its words lost without a word (the note editor alone kept its draft).
Now the task and consent forms (and the others with ``kept_form``) are kept for their
author as the context closes; the next sign-in says so with the drafts; the same form
for the same case opens filled in with what was typed, saying so; ctrl+r clears it; a
kept form goes when the form is saved or discarded, and nobody else is given it.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Input, Select

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.confirm import DiscardQuestion
from anchor_tui.screens.consent import ConsentScreen
from anchor_tui.screens.consent_form import ConsentFormScreen
from anchor_tui.screens.kept_form import KeptFormNote
from anchor_tui.screens.lock import LockScreen
from anchor_tui.screens.task_form import TaskFormScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.form_drafts import fields_from_json
from anchor_tui.widgets.mark_list import MarkList
from tests.ui.conftest import DEMO_PASSPHRASE, AppFactory, settle, sign_in
from tests.ui.test_note_editor import CASE, asked, until, user_id

TITLE = "Ring the [b]youth centre[/b] about Friday"
EVIDENCE = "Said yes in the anchor meeting, mother present"


def kept_forms(backend: Backend, username: str) -> list[tuple[str, str, dict[str, Any]]]:
    """``username``'s kept forms: kind, target, fields."""
    author = user_id(backend, username)
    with backend.sessions.system("test: kept forms") as s:
        rows = s.execute(select(m.FormDraft.kind, m.FormDraft.target, m.FormDraft.fields)
                         .where(m.FormDraft.author_id == author)).all()
    return [(kind, target, fields_from_json(fields)) for kind, target, fields in rows]


def notified(app: AnchorApp) -> str:
    return "\n".join(n.message for n in app._notifications)


async def take_over(app: AnchorApp, pilot: Pilot[Any], username: str = "youth") -> None:
    """The terminal locks; ``username`` signs in at the lock screen."""
    await pilot.press("ctrl+g")
    await until(pilot, lambda: isinstance(app.screen, LockScreen))
    app.screen.query_one("#username", Input).value = ""
    await sign_in(pilot, username)
    assert app.viewer is not None and app.viewer.username == username
    await settle(pilot)  # (the closed context's forms are kept by an app worker)


async def open_task_form(app: AnchorApp, pilot: Pilot[Any]) -> TaskFormScreen:
    await app.push_screen(CaseScreen(CASE))
    await settle(pilot)
    await pilot.press("t")
    form = await asked(app, pilot, TaskFormScreen)
    assert isinstance(form, TaskFormScreen)
    await settle(pilot)
    return form


async def back_as(app: AnchorApp, pilot: Pilot[Any], username: str) -> None:
    """Switch user (ctrl+o) and sign ``username`` in."""
    await pilot.press("ctrl+o")
    await settle(pilot)
    await sign_in(pilot, username)
    await settle(pilot)


async def typed_task_taken_over(app: AnchorApp, pilot: Pilot[Any]) -> None:
    await sign_in(pilot, "social")
    await open_task_form(app, pilot)
    await pilot.press(*"Ring the ")
    form = app.screen
    assert isinstance(form, TaskFormScreen)
    form.query_one("#task-title", Input).value = TITLE  # (markup: shown as typed)
    form.query_one("#task-due", Input).value = "fri"
    await take_over(app, pilot)


async def test_a_task_typed_at_a_takeover_is_kept_and_given_back_filled_in(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await typed_task_taken_over(app, pilot)
        assert kept_forms(demo_backend, "social") == [
            ("task", f"case:{CASE}", {"title": TITLE, "due": "fri",
                                      "assignee_id": user_id(demo_backend, "social")})]
        assert kept_forms(demo_backend, "youth") == []
        # The next person is given nothing of it.
        form = await open_task_form(app, pilot)
        assert form.query_one("#task-title", Input).value == ""
        assert not form.query_one(KeptFormNote).has_class("said")
        await pilot.press("escape")
        await settle(pilot)
        await back_as(app, pilot, "social")
        assert "1 form you were filling in is kept" in notified(app)
        form = await open_task_form(app, pilot)
        assert form.query_one("#task-title", Input).value == TITLE
        assert form.query_one("#task-due", Input).value == "fri"
        note = form.query_one(KeptFormNote)
        assert note.has_class("said")
        said = str(note.render())
        assert "Filled in from what you typed on" in said
        assert "before the terminal passed to someone else" in said
        await pilot.press("ctrl+r")  # cleared, and discarded
        await settle(pilot)
        assert form.query_one("#task-title", Input).value == ""
        assert form.query_one("#task-due", Input).value == ""
        assert "discarded" in str(note.render())
        assert kept_forms(demo_backend, "social") == []


@pytest.mark.parametrize("given_to", ["nurse", None])
async def test_the_task_given_back_keeps_whom_it_was_given_to(
        make_app: AppFactory, demo_backend: Backend, given_to: str | None) -> None:
    """Given to someone, or to nobody yet (not the form's default: the author)."""
    from textual.widgets import OptionList

    assignee = user_id(demo_backend, given_to) if given_to else None
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        form = await open_task_form(app, pilot)
        form.query_one("#task-title", Input).value = TITLE
        assert form.form is not None
        ids = [None] + [mc.user_id for mc in form.form.members]
        form.query_one("#task-assignee", OptionList).highlighted = ids.index(assignee)
        await take_over(app, pilot)
        [(_kind, _target, fields)] = kept_forms(demo_backend, "social")
        assert fields["assignee_id"] == assignee
        await back_as(app, pilot, "social")
        form = await open_task_form(app, pilot)
        assert form.form is not None
        await until(pilot, lambda: form.query_one("#task-title", Input).value == TITLE)
        ids = [None] + [mc.user_id for mc in form.form.members]
        highlighted = form.query_one("#task-assignee", OptionList).highlighted
        assert highlighted is not None and ids[highlighted] == assignee


async def test_saving_the_form_given_back_removes_what_was_kept(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await typed_task_taken_over(app, pilot)
        await back_as(app, pilot, "social")
        form = await open_task_form(app, pilot)
        assert form.query_one("#task-title", Input).value == TITLE
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not form.is_attached)
        await settle(pilot)
        assert kept_forms(demo_backend, "social") == []
        with demo_backend.sessions.system("test: tasks") as s:
            assert s.scalars(select(m.Task.title).where(m.Task.title == TITLE)).all() \
                == [TITLE]


async def test_discarding_the_form_given_back_removes_what_was_kept(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await typed_task_taken_over(app, pilot)
        await back_as(app, pilot, "social")
        form = await open_task_form(app, pilot)
        assert form.query_one("#task-title", Input).value == TITLE
        await pilot.press("escape")
        question = await asked(app, pilot, DiscardQuestion)
        assert isinstance(question, DiscardQuestion)
        await pilot.press("ctrl+d")
        await until(pilot, lambda: not form.is_attached)
        await settle(pilot)
        assert kept_forms(demo_backend, "social") == []


async def open_consent_form(app: AnchorApp, pilot: Pilot[Any]) -> ConsentFormScreen:
    """The case, its consents (c), a new one (n)."""
    await app.push_screen(CaseScreen(CASE))
    await settle(pilot)
    await pilot.press("c")
    screen = await asked(app, pilot, ConsentScreen)
    assert isinstance(screen, ConsentScreen)
    await until(pilot, lambda: screen.history is not None)
    await pilot.press("n")
    form = await asked(app, pilot, ConsentFormScreen)
    assert isinstance(form, ConsentFormScreen)
    await settle(pilot)
    return form


async def test_a_consent_filled_in_at_a_switch_of_user_is_kept_with_its_evidence(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await sign_in(pilot, "social")
        form = await open_consent_form(app, pilot)
        form.query_one("#consent-grantor", Select).value = "self"
        form.query_one("#consent-decision", Select).value = "permit"
        form.query_one("#consent-category", Select).value = "health"
        form.query_one("#consent-professions", MarkList).focus()
        await pilot.press("space", "down", "space")
        form.query_one("#consent-valid-to", Input).value = "2027-06-30"
        form.query_one("#consent-evidence", Input).value = EVIDENCE
        await back_as(app, pilot, "nurse")  # switched without saving the consent
        [(kind, target, fields)] = kept_forms(demo_backend, "social")
        assert (kind, target) == ("consent", f"case:{CASE}")
        assert fields["evidence"] == EVIDENCE
        assert EVIDENCE not in notified(app)
        await back_as(app, pilot, "social")
        assert "1 form you were filling in is kept (case 2)" in notified(app)
        form = await open_consent_form(app, pilot)
        assert form.query_one("#consent-grantor", Select).value == "self"
        assert form.query_one("#consent-decision", Select).value == "permit"
        assert form.query_one("#consent-category", Select).value == "health"
        assert set(form.query_one("#consent-professions", MarkList).marked) == {
            "police", "social_work"}
        assert form.query_one("#consent-valid-to", Input).value == "2027-06-30"
        assert form.query_one("#consent-evidence", Input).value == EVIDENCE
        assert "Filled in from what you typed on" in str(
            form.query_one(KeptFormNote).render())
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not form.is_attached)
        await settle(pilot)
        assert kept_forms(demo_backend, "social") == []
        with demo_backend.sessions.system("test: consents") as s:
            assert EVIDENCE in s.scalars(select(m.Consent.evidence)).all()


async def test_a_snooze_reason_typed_at_a_takeover_is_given_back_for_that_case(
        make_app: AppFactory, demo_backend: Backend) -> None:
    from anchor_tui.screens.prompt import ReasonScreen
    from tests.ui.asking import choose, settle_asking
    from tests.ui.test_queue import go_to, highlighted, open_queue

    reason = "Waiting for the school's [b]reply[/b]"
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        screen = await open_queue(app, pilot, "social")
        await go_to(pilot, screen, "reviews_due", 1)
        case_id = highlighted(screen).case_id
        await pilot.press("z")
        await choose(pilot, "3")
        assert isinstance(app.screen, ReasonScreen)
        app.screen.query_one("#reason-input", Input).value = reason
        await take_over(app, pilot)
        assert kept_forms(demo_backend, "social") == [
            ("reason:snooze", f"case:{case_id}", {"reason": reason})]
        await pilot.press("ctrl+o")
        await settle(pilot)
        screen = await open_queue(app, pilot, "social")
        await go_to(pilot, screen, "reviews_due", 1)
        assert highlighted(screen).case_id == case_id
        await pilot.press("z")
        await choose(pilot, "3")
        form = app.screen
        assert isinstance(form, ReasonScreen)
        await until(pilot, lambda: form.query_one(KeptFormNote).has_class("said"))
        assert form.query_one("#reason-input", Input).value == reason
        await pilot.press("enter")  # the snooze is saved with it
        await settle_asking(pilot)
        assert kept_forms(demo_backend, "social") == []
        with demo_backend.sessions.system("test: snoozes") as s:
            assert s.scalars(select(m.CaseSnooze.reason).where(
                m.CaseSnooze.case_id == case_id)).all() == [reason]


async def test_a_child_welfare_record_typed_at_a_takeover_is_given_back(
        make_app: AppFactory, demo_backend: Backend) -> None:
    from anchor_tui.screens.child_welfare import ChildWelfareScreen
    from anchor_tui.screens.note_editor import NoteEditorScreen
    from tests.ui.test_child_welfare_kept import RECIPIENT, REFERENCE, the_record
    from tests.ui.test_note_editor import choose

    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await sign_in(pilot, "police")
        await app.push_screen(CaseScreen(CASE))
        await settle(pilot)
        await pilot.press("n")
        await asked(app, pilot, NoteEditorScreen)
        await settle(pilot)
        await pilot.press("f3")
        await choose(app, pilot, "welfare_concern")
        await pilot.press("ctrl+end", *"Bruises seen at the station.", "ctrl+s")
        form = await asked(app, pilot, ChildWelfareScreen)
        assert isinstance(form, ChildWelfareScreen)
        await settle(pilot)
        notification = the_record(demo_backend).id
        form.query_one("#welfare-recipient", Input).value = RECIPIENT
        form.query_one("#welfare-reference", Input).value = REFERENCE
        await take_over(app, pilot)
        [(kind, target, fields)] = kept_forms(demo_backend, "police")
        assert (kind, target) == ("child_welfare", f"notification:{notification}")
        assert (fields["recipient"], fields["reference"]) == (RECIPIENT, REFERENCE)
        await back_as(app, pilot, "police")
        await app.push_screen(ChildWelfareScreen(notification))
        form = app.screen
        assert isinstance(form, ChildWelfareScreen)
        await settle(pilot)
        assert form.query_one("#welfare-recipient", Input).value == RECIPIENT
        assert form.query_one("#welfare-reference", Input).value == REFERENCE
        assert form.query_one(KeptFormNote).has_class("said")
        await pilot.press("ctrl+s")
        await until(pilot, lambda: not form.is_attached)
        await settle(pilot)
        assert kept_forms(demo_backend, "police") == []
        record = the_record(demo_backend)
        assert (record.status, record.recipient) == ("notified", RECIPIENT)


async def test_an_action_typed_in_a_huddle_is_not_kept_when_the_terminal_is_taken_over(
        make_app: AppFactory, demo_backend: Backend) -> None:
    """The huddle ends at the takeover (its minutes stored): a form typed over what the
    room saw is not given back to its author alone, where it could reach readers the
    room did not have (``kept_form``); nothing of it reaches anyone."""
    from anchor_tui.screens.huddle_modals import ActionScreen
    from tests.ui.test_huddle import huddle_of, join
    from tests.ui.test_note_editor import choose

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "social")
        await join(pilot, "nurse")
        await pilot.press("a")
        form = await asked(app, pilot, ActionScreen)
        await pilot.press(*"Call the school")
        assert form.query_one("#action-text", Input).value == "Call the school"
        # (Not ``take_over``: ``settle`` would wait for the huddle's question worker.)
        await pilot.press("ctrl+g")
        await until(pilot, lambda: isinstance(app.screen, LockScreen))
        app.screen.query_one("#username", Input).value = "youth"
        app.screen.query_one("#passphrase", Input).value = DEMO_PASSPHRASE
        app.screen.query_one("#passphrase", Input).focus()
        await pilot.press("enter")
        await choose(app, pilot, "end", then_settle=False)  # (asked: it ends the huddle)
        await until(pilot, lambda: app.viewer is not None and app.viewer.username == "youth")
        await until(pilot, lambda: app.session.roster is None and not any(
            w.group in ("keep-drafts", "audit") and not w.is_finished for w in app.workers))
    for who in ("social", "nurse", "youth"):
        assert kept_forms(demo_backend, who) == []


async def test_a_form_given_back_and_discarded_at_quit_is_not_kept(
        make_app: AppFactory, demo_backend: Backend) -> None:
    """ctrl+q, "Quit: discard" on a form filled in from a kept copy removes the copy,
    as Esc's discard does: the next sign-in neither counts it nor gives it back."""
    from anchor_tui.screens.prompt import ChoiceScreen
    from tests.ui.test_note_editor import choose

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await typed_task_taken_over(app, pilot)
        await back_as(app, pilot, "social")
        form = await open_task_form(app, pilot)
        assert form.query_one("#task-title", Input).value == TITLE
        await pilot.press("ctrl+q")
        assert isinstance(await asked(app, pilot), ChoiceScreen)
        await choose(app, pilot, "quit", then_settle=False)
        await until(pilot, lambda: not app.is_running)
    assert kept_forms(demo_backend, "social") == []
