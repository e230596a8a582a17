"""A change saved while the database was away, refused when it came back after its
maker had left the terminal, is kept for them as the form they typed it in.

Refused with its maker still there, the form comes back with their words and why. Gone
(a takeover at the lock, a switch of user), the refusal went to the error log alone
(class and category only): the maker never learnt their change was not made, and their
words were lost. Now the words are kept for them as the same form, with why it was
refused: the next sign-in says a change was refused, and opening the same form gives it
back filled in, saying why. The person at the terminal sees nothing of it, and the error
log holds the class only.
"""

from __future__ import annotations

from typing import Any

import pytest
from sqlalchemy import delete
from textual.pilot import Pilot
from textual.widgets import Input

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import case_work, child_welfare, consent_form, task_form
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.kept_form import KeptFormNote
from anchor_tui.services.backend import Backend
from anchor_tui.services.form_drafts import REFUSAL_FIELD
from tests.ui.conftest import AppFactory, settle
from tests.ui.screen_reading import screen_text
from tests.ui.test_forms_kept_at_takeover import (
    back_as,
    kept_forms,
    notified,
    open_task_form,
    take_over,
)
from tests.ui.test_kept_case import away_then_refused, mark_kept_while_away, notes_by
from tests.ui.test_lock_holds_screens import fails_once
from tests.ui.test_note_editor import CASE, until, user_id
from tests.ui.test_task_done_kept import saves_running
from tests.ui.test_task_form_kept import TITLE, add_while_away

MARK = "Written about the wrong young person"


def all_done(app: AnchorApp) -> bool:
    """The save line is empty and nothing of it (nor its keeping) is on its way."""
    return save_queue(app).waiting == () and not saves_running(app) and not any(
        w.group == "kept-form" and not w.is_finished for w in app.workers)


def error_log(app: AnchorApp) -> str:
    path = app.error_log.path
    return path.read_text(encoding="utf-8") if path.exists() else ""


async def back_after_takeover(app: AnchorApp, pilot: Pilot[Any]) -> None:
    """The terminal passes to the youth worker; then the database is back."""
    await take_over(app, pilot)
    app.post_message(ConnectionRestored())
    await until(pilot, lambda: all_done(app))
    await settle(pilot)


async def test_a_task_refused_after_its_maker_left_is_kept_for_them_with_why(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(task_form, "add_task", fails_once(task_form.add_task))
    nurse = user_id(demo_backend, "nurse")
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await add_while_away(app, pilot, demo_backend, assignee="nurse")
        assert len(save_queue(app).waiting) == 1, "the task was not kept"
        with demo_backend.sessions.system("test: the nurse leaves the case") as s:
            s.execute(delete(m.CaseMember).where(m.CaseMember.case_id == CASE,
                                                 m.CaseMember.user_id == nurse))
        await back_after_takeover(app, pilot)
        # Nothing of it to the youth worker now at the terminal, nor to the log.
        assert not isinstance(app.screen, ErrorScreen)
        seen = screen_text(app) + notified(app)
        assert TITLE not in seen and "works the case" not in seen, seen
        assert "refused" not in seen, "the maker's refusal told to someone else"
        logged = error_log(app)
        assert logged and TITLE not in logged and "works the case" not in logged, logged
        assert kept_forms(demo_backend, "youth") == []
        [(kind, target, fields)] = kept_forms(demo_backend, "social")
        assert (kind, target) == ("task", f"case:{CASE}")
        assert (fields["title"], fields["assignee_id"]) == (TITLE, nurse)
        assert "works the case" in fields[REFUSAL_FIELD]
        # Its maker hears of it at sign-in, and the form gives it back, saying why.
        await back_as(app, pilot, "social")
        assert "1 change you saved while the database was away was refused" in notified(app)
        form = await open_task_form(app, pilot)
        assert form.query_one("#task-title", Input).value == TITLE
        said = str(form.query_one(KeptFormNote).render())
        assert said.startswith("Not saved when the database came back:"), said
        assert "works the case" in said and "Filled in from what you typed on" in said


async def test_a_maker_signed_in_again_hears_of_the_refusal_at_once(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Refused after the maker left and came back (a new context of theirs, not the one
    it was typed in): kept as their form and told to them now, not at their next
    sign-in; nothing of it to anyone else at the terminal (the test above)."""
    monkeypatch.setattr(task_form, "add_task", fails_once(task_form.add_task))
    nurse = user_id(demo_backend, "nurse")
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await add_while_away(app, pilot, demo_backend, assignee="nurse")
        with demo_backend.sessions.system("test: the nurse leaves the case") as s:
            s.execute(delete(m.CaseMember).where(m.CaseMember.case_id == CASE,
                                                 m.CaseMember.user_id == nurse))
        await take_over(app, pilot)
        await back_as(app, pilot, "social")
        assert "was refused" not in notified(app)
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: all_done(app))
        await settle(pilot)
        said = notified(app)
        assert "A change you saved while the database was away was refused when it came " \
               f"back: it was not made (case {CASE})." in said, said
        assert TITLE not in said and "works the case" not in said
        [(kind, _target, fields)] = kept_forms(demo_backend, "social")
        assert kind == "task" and fields["title"] == TITLE


async def test_a_reason_refused_after_its_maker_left_is_kept_for_them_with_why(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """An entered-in-error mark: its reason is kept as the same reason form (``x`` on
    that note asks with it filled in)."""
    calls: list[int] = []
    monkeypatch.setattr(case_work, "mark_entered_in_error",
                        away_then_refused(case_work.mark_entered_in_error, calls))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await mark_kept_while_away(app, pilot, demo_backend, MARK)
        [note] = notes_by(demo_backend, "social")
        await back_after_takeover(app, pilot)
        assert len(calls) == 2  # refused when the database came back
        assert not isinstance(app.screen, ErrorScreen)
        seen = screen_text(app) + notified(app)
        assert MARK not in seen and "changed meanwhile" not in seen, seen
        logged = error_log(app)
        assert MARK not in logged and "changed meanwhile" not in logged, logged
        assert kept_forms(demo_backend, "social") == [
            ("reason:error", f"case:{CASE}/note:{note.id}",
             {"reason": MARK,
              REFUSAL_FIELD: "The note changed meanwhile. Check the reason still holds."})]
        assert kept_forms(demo_backend, "youth") == []


async def test_a_consent_refused_after_its_maker_left_is_kept_for_them_with_why(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Recorded by the nurse while the server was away; she was taken off the case and
    left the terminal before it was back: refused, its evidence is kept for her."""
    from tests.ui.test_consent_kept import EVIDENCE, record_while_away

    monkeypatch.setattr(consent_form, "record_consent",
                        fails_once(consent_form.record_consent))
    nurse = user_id(demo_backend, "nurse")
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await record_while_away(app, pilot, "nurse")
        assert len(save_queue(app).waiting) == 1, "the consent was not kept"
        with demo_backend.sessions.system("test: the nurse leaves the case") as s:
            s.execute(delete(m.CaseMember).where(m.CaseMember.case_id == CASE,
                                                 m.CaseMember.user_id == nurse))
        await back_after_takeover(app, pilot)
        assert not isinstance(app.screen, ErrorScreen)
        seen = screen_text(app) + notified(app)
        assert EVIDENCE not in seen and "members and leads" not in seen, seen
        assert EVIDENCE not in error_log(app)
        [(kind, target, fields)] = kept_forms(demo_backend, "nurse")
        assert (kind, target) == ("consent", f"case:{CASE}")
        assert fields["evidence"] == EVIDENCE
        assert set(fields["professions"]) == {"police", "social_work"}
        assert "members and leads" in fields[REFUSAL_FIELD]
        assert kept_forms(demo_backend, "youth") == []


async def test_a_child_welfare_record_refused_after_its_maker_left_is_kept_with_why(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """Recorded while the server was away, and meanwhile from another terminal: refused
    (already recorded) after the officer had left, to whom and the reference typed here
    are kept for them."""
    from sqlalchemy import select

    from anchor_tui.services.auth import viewer_for
    from anchor_tui.services.child_welfare import record_notification
    from tests.ui.conftest import TODAY
    from tests.ui.test_child_welfare_kept import (
        ELSEWHERE,
        RECIPIENT,
        REFERENCE,
        record_while_away,
        the_record,
    )

    monkeypatch.setattr(child_welfare, "record_notification",
                        fails_once(child_welfare.record_notification))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        await record_while_away(app, pilot)
        assert len(save_queue(app).waiting) == 1, "the record was not kept"
        with demo_backend.sessions.system("test: the officer on another terminal") as s:
            police = viewer_for(s.scalars(select(m.User).where(
                m.User.username == "police")).one())
        record_id = the_record(demo_backend).id
        record_notification(demo_backend, police, record_id, method="in_person",
                            recipient=ELSEWHERE, today=TODAY)
        await back_after_takeover(app, pilot)
        assert not isinstance(app.screen, ErrorScreen)
        seen = screen_text(app) + notified(app)
        assert RECIPIENT not in seen and REFERENCE not in seen, seen
        assert RECIPIENT not in error_log(app)
        [(kind, target, fields)] = kept_forms(demo_backend, "police")
        assert (kind, target) == ("child_welfare", f"notification:{record_id}")
        why = fields.pop(REFUSAL_FIELD)
        assert fields == {"method": "phone", "recipient": RECIPIENT, "reference": REFERENCE}
        assert "already recorded" in why
        assert kept_forms(demo_backend, "youth") == []


async def test_a_screening_refused_after_its_maker_left_keeps_its_reason_for_them(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The queue's screening decision, kept while the server was away; the case changed
    elsewhere meanwhile and its maker left: its reason is kept as the screening's reason
    form for that case."""
    from anchor_tui.screens import queue_actions
    from tests.ui.asking import choose, give_reason, settle_asking
    from tests.ui.test_queue import highlighted, open_queue

    reason = "Seen at the psychiatric outpatient clinic"
    monkeypatch.setattr(queue_actions, "mark_screened", fails_once(queue_actions.mark_screened))
    app = make_app()
    async with app.run_test(size=(100, 30), notifications=True) as pilot:
        screen = await open_queue(app, pilot, "social")
        app.live.stop()  # the test says when the server is back
        item = highlighted(screen)
        await pilot.press("s")
        await settle_asking(pilot)
        await choose(pilot, "take")
        await give_reason(pilot, reason)
        await settle(pilot)
        assert len(save_queue(app).waiting) == 1, "the screening was not kept"
        with demo_backend.sessions.system("test: another terminal") as s:
            case = s.get(m.Case, item.case_id)
            assert case is not None
            case.priority = 3  # the kept screening is refused when it is made
        await back_after_takeover(app, pilot)
        assert not isinstance(app.screen, ErrorScreen)
        seen = screen_text(app) + notified(app)
        assert reason not in seen and "changed by someone else" not in seen, seen
        assert reason not in error_log(app)
        [(kind, target, fields)] = kept_forms(demo_backend, "social")
        assert (kind, target) == ("reason:screened:take", f"case:{item.case_id}")
        assert fields["reason"] == reason and fields[REFUSAL_FIELD]
        assert kept_forms(demo_backend, "youth") == []
