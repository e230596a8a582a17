"""The statutory child-welfare notification is recorded through the app's save queue.

It was written by a worker of the form's own: with the server away (the service made to
find it gone once, as ``test_lock_holds_screens.fails_once`` does; the test plays the
change watcher and says when it is back) the record was an error and, the form closed,
what was typed was gone; after a commit whose answer was lost (``answer_lost_once``) a
second try was refused as "already recorded". The form now closes with the record kept
(and said so), the notification is recorded when the server is back, recorded once after
a lost answer, and a record refused when it came back gives the form back with what was
typed and why.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Static

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import child_welfare
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.child_welfare import ChildWelfareScreen
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.child_welfare import FOLLOW_UP_TITLE, record_notification
from tests.ui.conftest import TODAY, AppFactory, settle, sign_in
from tests.ui.test_case_work import open_case
from tests.ui.test_lock_holds_screens import answer_lost_once, fails_once
from tests.ui.test_note_editor import CASE, asked, choose, until
from tests.ui.test_task_done_kept import saves_running

RECIPIENT = "Espoo child welfare services"
REFERENCE = "LS-2026-77"
ELSEWHERE = "Emergency social services"
"""To whom the same officer recorded it from another terminal meanwhile."""


def the_record(backend: Backend) -> m.ChildWelfareNotification:
    with backend.sessions.system("test: the notification") as s:
        row = s.scalars(select(m.ChildWelfareNotification)).one()
        s.expunge(row)
        return row


def follow_ups(backend: Backend) -> list[m.Task]:
    with backend.sessions.system("test: the follow-ups") as s:
        rows = list(s.scalars(select(m.Task).where(m.Task.case_id == CASE,
                                                   m.Task.title == FOLLOW_UP_TITLE)))
        for row in rows:
            s.expunge(row)
        return rows


def notified(app: AnchorApp) -> str:
    return "\n".join(n.message for n in app._notifications)


async def record_while_away(app: AnchorApp, pilot: Pilot[Any]) -> CaseScreen:
    """Signed in as the police officer: a concern about the young person saved, the
    change watcher stopped (the test says when the server is back), the notification
    recorded by phone, to whom and with a reference."""
    await sign_in(pilot, "police")
    case_view = await open_case(app, pilot)
    await pilot.press("n")
    await asked(app, pilot, NoteEditorScreen)
    await settle(pilot)
    await pilot.press("f3")
    await choose(app, pilot, "welfare_concern")
    await pilot.press("ctrl+end", *"Bruises seen at the station.", "ctrl+s")
    form = await asked(app, pilot, ChildWelfareScreen)
    assert isinstance(form, ChildWelfareScreen)
    await settle(pilot)
    assert the_record(app.backend).status == "pending"  # the note is already safe
    app.live.stop()
    await pilot.press("enter")  # by phone
    await pilot.press(*RECIPIENT, "enter", *REFERENCE, "enter")
    await until(pilot, lambda: not form.is_attached or isinstance(app.screen, ErrorScreen))
    assert not isinstance(app.screen, ErrorScreen), "the record was an error, not kept"
    await until(pilot, lambda: app.screen is case_view and not saves_running(app))
    return case_view


async def test_a_record_made_while_away_is_kept_and_recorded_when_back(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(child_welfare, "record_notification",
                        fails_once(child_welfare.record_notification))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        case_view = await record_while_away(app, pilot)
        assert len(save_queue(app).waiting) == 1, "the record was not kept"
        assert "child-welfare notification" in save_queue(app).waiting[0]
        assert "The child-welfare notification record is kept" in notified(app)
        assert the_record(demo_backend).status == "pending"
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == () and not saves_running(app))
        await settle(pilot)
        record = the_record(demo_backend)
        assert (record.status, record.method, record.recipient, record.reference) == (
            "notified", "phone", RECIPIENT, REFERENCE)
        [follow_up] = follow_ups(demo_backend)
        assert follow_up.due == TODAY + dt.timedelta(days=7)
        assert "Child-welfare notification recorded." in notified(app)
        assert "kept while the database was away, is saved" in notified(app)
        assert app.screen is case_view


async def test_a_record_whose_answer_was_lost_is_made_once_without_an_error(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first attempt reached the server, its answer did not: kept and made again, it
    finds the record it wrote; not refused as "already recorded", no second follow-up."""
    calls: list[int] = []
    monkeypatch.setattr(child_welfare, "record_notification",
                        answer_lost_once(child_welfare.record_notification, calls))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        case_view = await record_while_away(app, pilot)
        assert not isinstance(app.screen, ErrorScreen), "the lost answer was an error"
        assert len(save_queue(app).waiting) == 1, "the record whose answer was lost was not kept"
        assert the_record(demo_backend).status == "notified"  # written, its answer lost
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: save_queue(app).waiting == () and not saves_running(app))
        await settle(pilot)
        assert calls == [1], "recorded again though the first attempt had written it"
        assert not isinstance(app.screen, ErrorScreen), "refused as already recorded"
        assert not isinstance(app.screen, ChildWelfareScreen), "given back as refused"
        assert app.screen is case_view
        assert len(follow_ups(demo_backend)) == 1, "the response is checked twice"
        assert "Child-welfare notification recorded." in notified(app)


async def test_a_kept_record_refused_when_back_gives_the_form_back_with_what_was_typed(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Kept while the server was away; meanwhile the officer recorded the notification
    from another terminal, to someone else. The kept record is refused (already
    recorded): the form comes back with how, to whom and the reference that were typed
    here, and why; the other terminal's record stands."""
    monkeypatch.setattr(child_welfare, "record_notification",
                        fails_once(child_welfare.record_notification))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await record_while_away(app, pilot)
        assert len(save_queue(app).waiting) == 1, "the record was not kept"
        with demo_backend.sessions.system("test: the officer on another terminal") as s:
            police = viewer_for(s.scalars(select(m.User).where(
                m.User.username == "police")).one())
        record_notification(demo_backend, police, the_record(demo_backend).id,
                            method="in_person", recipient=ELSEWHERE, today=TODAY)
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: isinstance(app.screen, ChildWelfareScreen))
        form = app.screen
        assert isinstance(form, ChildWelfareScreen)
        await until(pilot, lambda: save_queue(app).waiting == () and not saves_running(app))
        assert form.query_one("#welfare-recipient", Input).value == RECIPIENT
        assert form.query_one("#welfare-reference", Input).value == REFERENCE
        methods = form.query_one("#welfare-method", OptionList)
        assert methods.highlighted is not None
        assert methods.get_option_at_index(methods.highlighted).id == "phone"
        said = str(form.query_one("#welfare-message", Static).render())
        assert "Not recorded" in said and "already recorded" in said
        assert form.filled_in()  # Esc and quitting ask before the words go
        record = the_record(demo_backend)
        assert (record.method, record.recipient) == ("in_person", ELSEWHERE)
        assert len(follow_ups(demo_backend)) == 1
