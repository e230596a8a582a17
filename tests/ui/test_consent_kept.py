"""A consent recorded (the form) or withdrawn (``w``) goes through the app's save queue.

Both were written by workers of their own: with the server away (the service made to
find it gone once, as ``test_lock_holds_screens.fails_once`` does; the test plays the
change watcher and says when it is back) the person got an error, and after a commit
whose answer was lost (``answer_lost_once``) nothing made it again, and a retry by hand
recorded the consent twice, or was told it had already been withdrawn. The form now
closes with the consent kept (and said so), the consent is recorded when the server is
back, once after a lost answer, and a consent refused when it came back gives the form
back with what was filled in and why. A withdrawal is kept and made once alike.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

import pytest
from sqlalchemy import delete, select, update
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Select, Static

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.messages import ConnectionRestored
from anchor_tui.saving import save_queue
from anchor_tui.screens import consent, consent_form
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.consent import ConsentScreen
from anchor_tui.screens.consent_form import ConsentFormScreen
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.services.backend import Backend
from anchor_tui.widgets.mark_list import MarkList
from tests.ui.conftest import TODAY, AppFactory, sign_in
from tests.ui.test_consent_screen import CASE, audit_actions, consents, open_case
from tests.ui.test_lock_holds_screens import answer_lost_once, fails_once
from tests.ui.test_note_editor import asked, until, user_id
from tests.ui.test_task_done_kept import saves_running
from tests.ui.test_task_form_kept import notified

EVIDENCE = "Signed form in the anchor meeting, with the guardian"
WITHDRAWN = 2
"""The demo's one consent of the case's young person: a guardian's permit, in force."""


def settled(app: AnchorApp) -> bool:
    """Nothing waits in the save queue, nothing is on its way."""
    return save_queue(app).waiting == () and not saves_running(app)


async def consent_screen(app: AnchorApp, pilot: Pilot[Any], username: str) -> ConsentScreen:
    """Signed in as ``username``, the case's consents read, the change watcher stopped
    (the test says when the server is back)."""
    await sign_in(pilot, username)
    await open_case(app, pilot)
    app.live.stop()
    await pilot.press("c")
    screen = await asked(app, pilot, ConsentScreen)
    assert isinstance(screen, ConsentScreen)
    await until(pilot, lambda: screen.history is not None)
    return screen


async def record_while_away(app: AnchorApp, pilot: Pilot[Any],
                            username: str = "social") -> ConsentScreen:
    """``n`` on the consent screen: the young person permits health notes to the police
    and social work, with the evidence typed; saved (ctrl+s)."""
    screen = await consent_screen(app, pilot, username)
    await pilot.press("n")
    form = await asked(app, pilot, ConsentFormScreen)
    assert isinstance(form, ConsentFormScreen)
    form.query_one("#consent-grantor", Select).value = "self"
    form.query_one("#consent-decision", Select).value = "permit"
    form.query_one("#consent-category", Select).value = "health"
    form.query_one("#consent-professions", MarkList).focus()
    await pilot.press("space", "down", "space")
    assert set(form.query_one("#consent-professions", MarkList).marked) == {
        "police", "social_work"}
    form.query_one("#consent-evidence", Input).value = EVIDENCE
    await pilot.press("ctrl+s")
    await until(pilot, lambda: not form.is_attached)
    await until(pilot, lambda: not saves_running(app))
    return screen


def recorded(backend: Backend, before: int) -> list[m.Consent]:
    return consents(backend)[before:]


async def test_a_consent_recorded_while_away_is_kept_and_recorded_when_back(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consent_form, "record_consent",
                        fails_once(consent_form.record_consent))
    before = len(consents(demo_backend))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = await record_while_away(app, pilot)
        assert not isinstance(app.screen, ErrorScreen), "the consent was an error, not kept"
        assert app.screen is screen  # the form closed, the consent kept
        [label] = save_queue(app).waiting
        assert label.startswith("record a consent for ") and f"(case {CASE})" in label
        assert "The consent is kept" in notified(app)
        assert recorded(demo_backend, before) == []
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: settled(app))
        rows = recorded(demo_backend, before)
        assert sorted(row.receiving_profession for row in rows) == ["police", "social_work"]
        assert {(row.grantor, row.decision, row.category, row.evidence, row.valid_from,
                 row.recorded_by_id) for row in rows} == {
            ("self", "permit", "health", EVIDENCE, TODAY, user_id(demo_backend, "social"))}
        assert "Recorded 2 consents." in notified(app)
        # The consent screen read its history again: the two new ones are listed.
        options = screen.query_one("#consent-list", OptionList)
        await until(pilot, lambda: options.option_count == before + 2)
        assert app.screen is screen


async def test_a_consent_whose_answer_was_lost_is_recorded_once_without_an_error(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first attempt reached the server, its answer did not: kept and made again, it
    finds the consent it recorded, and records no second one."""
    calls: list[int] = []
    monkeypatch.setattr(consent_form, "record_consent",
                        answer_lost_once(consent_form.record_consent, calls))
    before = len(consents(demo_backend))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = await record_while_away(app, pilot)
        assert not isinstance(app.screen, ErrorScreen), "the lost answer was an error"
        assert len(save_queue(app).waiting) == 1, "the consent whose answer was lost was not kept"
        assert len(recorded(demo_backend, before)) == 2  # written, its answer lost
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: settled(app))
        assert calls == [1], "recorded again though the first attempt had written it"
        assert not isinstance(app.screen, ErrorScreen)
        assert app.screen is screen
        assert len(recorded(demo_backend, before)) == 2, "the consent was recorded twice"
        assert audit_actions(demo_backend).count("consent.record") == 2  # one per profession
        assert "Recorded 2 consents." in notified(app)


async def test_a_kept_consent_refused_when_back_gives_the_form_back_with_what_was_typed(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The nurse recorded it while the server was away, and was taken off the case before
    it was back. The consent is refused (she no longer works the case): the form comes
    back with everything she filled in, and why; nothing is recorded."""
    monkeypatch.setattr(consent_form, "record_consent",
                        fails_once(consent_form.record_consent))
    before = len(consents(demo_backend))
    nurse = user_id(demo_backend, "nurse")
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await record_while_away(app, pilot, "nurse")
        assert len(save_queue(app).waiting) == 1, "the consent was not kept"
        with demo_backend.sessions.system("test: the nurse leaves the case") as s:
            s.execute(delete(m.CaseMember).where(m.CaseMember.case_id == CASE,
                                                 m.CaseMember.user_id == nurse))
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: isinstance(app.screen, ConsentFormScreen))
        form = app.screen
        assert isinstance(form, ConsentFormScreen)
        await until(pilot, lambda: settled(app))
        assert form.query_one("#consent-grantor", Select).value == "self"
        assert form.query_one("#consent-decision", Select).value == "permit"
        assert form.query_one("#consent-category", Select).value == "health"
        assert set(form.query_one("#consent-professions", MarkList).marked) == {
            "police", "social_work"}
        assert form.query_one("#consent-valid-from", Input).value == TODAY.isoformat()
        assert form.query_one("#consent-evidence", Input).value == EVIDENCE
        said = str(form.query_one("#consent-form-message", Static).render())
        assert "Not recorded" in said and "members and leads" in said
        assert form.filled_in()  # Esc and quitting ask before the words go
        assert recorded(demo_backend, before) == []


async def withdraw_while_away(app: AnchorApp, pilot: Pilot[Any]) -> ConsentScreen:
    """The social worker withdraws the case's consent (``w``, confirmed)."""
    screen = await consent_screen(app, pilot, "social")
    line = screen.highlighted_line()
    assert line is not None and line.consent_id == WITHDRAWN and line.withdrawn_at is None
    await pilot.press("w")
    await asked(app, pilot, ConfirmScreen)
    await pilot.press("y")
    await until(pilot, lambda: app.screen is screen)
    await until(pilot, lambda: not saves_running(app))
    return screen


def withdrawn_at(backend: Backend) -> object:
    with backend.sessions.system("test: the withdrawal") as s:
        return s.scalar(select(m.Consent.withdrawn_at).where(m.Consent.id == WITHDRAWN))


async def test_a_withdrawal_made_while_away_is_kept_and_made_when_back(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(consent, "withdraw_consent", fails_once(consent.withdraw_consent))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = await withdraw_while_away(app, pilot)
        assert not isinstance(app.screen, ErrorScreen), "the withdrawal was an error, not kept"
        [label] = save_queue(app).waiting
        assert label.startswith(f"withdraw consent {WITHDRAWN} for ")
        assert "The withdrawal is kept" in notified(app)
        assert withdrawn_at(demo_backend) is None
        await pilot.press("w")  # again, while it is kept: not asked, not queued twice
        await pilot.pause()
        assert app.screen is screen
        assert f"Consent {WITHDRAWN} is being withdrawn" in notified(app)
        assert len(save_queue(app).waiting) == 1
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: settled(app))
        assert withdrawn_at(demo_backend) is not None
        assert f"Consent {WITHDRAWN} withdrawn." in notified(app)
        options = screen.query_one("#consent-list", OptionList)
        await until(pilot, lambda: "Withdrawn" in str(options.get_option_at_index(0).prompt))
        assert audit_actions(demo_backend).count("consent.withdraw") == 1


async def test_a_withdrawal_whose_answer_was_lost_is_made_once_not_refused(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """The first attempt withdrew it, its answer lost: made again, it finds the person's
    own withdrawal, and says withdrawn, not "already withdrawn"."""
    calls: list[int] = []
    monkeypatch.setattr(consent, "withdraw_consent",
                        answer_lost_once(consent.withdraw_consent, calls))
    app = make_app()
    async with app.run_test(size=(120, 40), notifications=True) as pilot:
        screen = await withdraw_while_away(app, pilot)
        assert not isinstance(app.screen, ErrorScreen), "the lost answer was an error"
        assert len(save_queue(app).waiting) == 1, (
            "the withdrawal whose answer was lost was not kept")
        first = withdrawn_at(demo_backend)
        assert first is not None  # written, its answer lost
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: settled(app))
        assert calls == [1], "made again though the first attempt had written it"
        assert not isinstance(app.screen, ErrorScreen), "told it was already withdrawn"
        assert app.screen is screen
        assert withdrawn_at(demo_backend) == first
        assert audit_actions(demo_backend).count("consent.withdraw") == 1
        assert f"Consent {WITHDRAWN} withdrawn." in notified(app)


async def test_a_kept_withdrawal_someone_else_made_meanwhile_is_said_already_withdrawn(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    """While the social worker's withdrawal was kept, the consent was withdrawn on
    another terminal. Made when the server is back, it is not taken for theirs: the
    person is told it was already withdrawn, and nothing is written again."""
    monkeypatch.setattr(consent, "withdraw_consent", fails_once(consent.withdraw_consent))
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await withdraw_while_away(app, pilot)
        assert len(save_queue(app).waiting) == 1, "the withdrawal was not kept"
        elsewhere = dt.datetime.combine(TODAY, dt.time(9), tzinfo=dt.UTC)
        with demo_backend.sessions.system("test: withdrawn on another terminal") as s:
            s.execute(update(m.Consent).where(m.Consent.id == WITHDRAWN)
                      .values(withdrawn_at=elsewhere))
        app.post_message(ConnectionRestored())
        await until(pilot, lambda: isinstance(app.screen, ErrorScreen))
        modal = app.screen
        assert isinstance(modal, ErrorScreen)
        assert "already withdrawn" in modal.error_message
        assert withdrawn_at(demo_backend) == elsewhere
        assert audit_actions(demo_backend).count("consent.withdraw") == 0
