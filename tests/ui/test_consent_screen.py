"""The consent screen in the app: opened from the case view with c, a consent recorded
from the keyboard with the form (and its validation), withdrawn after a confirmation;
what the case view shows follows at once; refusals are said; user text stays text."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import Input, OptionList, Select, Static

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.screens import ErrorScreen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.consent import ConsentScreen
from anchor_tui.screens.consent_form import ConsentFormScreen
from anchor_tui.screens.help import HelpScreen
from anchor_tui.services.backend import Backend
from anchor_tui.widgets.case_record import NotesTimeline
from anchor_tui.widgets.mark_list import MarkList
from tests.ui.conftest import TODAY, AppFactory, all_text, settle, sign_in

CASE = 2
"""Worked by all four professions; its young person has no health consent."""
NOT_YOUTHS_CASE = 7
HEALTH_WORD = "heronhealthword"
EVIDENCE = "Signed [b]form[/b] \x1b[2J in the anchor meeting"


def add_health_note(backend: Backend) -> int:
    with backend.sessions.system("test: the nurse writes") as s:
        nurse = s.scalars(select(m.User).where(m.User.username == "nurse")).one()
        note = m.Note(case_id=CASE, author_id=nurse.id, author_profession="health",
                      category="health", body=f"Sleeping badly {HEALTH_WORD}",
                      created_at=dt.datetime.combine(TODAY, dt.time(8), tzinfo=dt.UTC))
        s.add(note)
        s.flush()
        return note.id


def consents(backend: Backend) -> list[m.Consent]:
    with backend.sessions.system("test: consents") as s:
        return list(s.scalars(select(m.Consent).join(m.Case, m.Case.person_id ==
                                                     m.Consent.person_id)
                              .where(m.Case.id == CASE).order_by(m.Consent.id)))


def audit_actions(backend: Backend) -> list[str]:
    with backend.sessions.system("test: trail") as s:
        return list(s.scalars(select(m.AuditEvent.action).order_by(m.AuditEvent.id)))


async def open_case(app: AnchorApp, pilot: Pilot[None], case_id: int = CASE) -> CaseScreen:
    screen = CaseScreen(case_id)
    await app.push_screen(screen)
    await settle(pilot)
    return screen


async def press(pilot: Pilot[None], *keys: str) -> None:
    for key in keys:
        await pilot.press(key)
        await pilot.pause()
    await settle(pilot)


async def test_record_from_the_keyboard_then_withdraw(make_app: AppFactory,
                                                      demo_backend: Backend) -> None:
    note_id = add_health_note(demo_backend)
    before = len(consents(demo_backend))
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "social")
        case = await open_case(app, pilot)
        assert HEALTH_WORD not in all_text(app)
        await press(pilot, "c")
        screen = app.screen
        assert isinstance(screen, ConsentScreen)
        listed = screen.query_one("#consent-list", OptionList).option_count
        assert listed == before
        await press(pilot, "n")
        form = app.screen
        assert isinstance(form, ConsentFormScreen)
        # Saving an empty form says what to fill in and records nothing.
        await press(pilot, "ctrl+s")
        message = str(form.query_one("#consent-form-message", Static).render())
        assert "Choose who gave it" in message
        assert app.focused is form.query_one("#consent-grantor", Select)
        # Given by: the young person; permits; health; to social work; evidence.
        await press(pilot, "enter", "down", "enter", "tab", "enter", "down", "enter",
                    "tab", "enter", "down", "down", "down", "enter", "tab", "down", "space")
        assert form.query_one("#consent-professions", MarkList).marked == ("social_work",)
        assert "[x] Social work" in str(
            form.query_one("#consent-professions", MarkList).get_option_at_index(1).prompt)
        await press(pilot, "tab", "tab", "tab")
        assert app.focused is form.query_one("#consent-evidence", Input)
        await pilot.press(*"Signed form")
        await press(pilot, "enter")
        assert app.screen is screen  # saved: the form closed
        (new,) = consents(demo_backend)[before:]
        assert (new.grantor, new.decision, new.category, new.receiving_profession,
                new.evidence, new.valid_from, new.valid_to) == (
            "self", "permit", "health", "social_work", "Signed form", TODAY, None)
        assert screen.query_one("#consent-list", OptionList).option_count == before + 1
        # Back in the case view the health note now shows.
        await press(pilot, "escape")
        assert app.screen is case and HEALTH_WORD in all_text(app)
        assert note_id in {note.note_id for note in case.query_one(NotesTimeline).notes}
        # Withdraw it: the newest is highlighted first; the question names it.
        await press(pilot, "c")
        await press(pilot, "w")
        confirm = app.screen
        assert isinstance(confirm, ConfirmScreen)
        assert "The young person permits Health to Social work" in confirm.question
        await press(pilot, "y")
        withdrawn = next(c for c in consents(demo_backend) if c.id == new.id)
        assert withdrawn.withdrawn_at is not None
        assert "Withdrawn" in str(app.screen.query_one("#consent-list", OptionList)
                                  .get_option_at_index(0).prompt)
        await press(pilot, "escape")
        assert app.screen is case and HEALTH_WORD not in all_text(app)
    actions = audit_actions(demo_backend)
    assert actions.count("consent.record") == 1 and actions.count("consent.withdraw") == 1


async def test_evidence_shows_as_typed_and_cancel_asks_first(make_app: AppFactory,
                                                             demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "nurse")
        await open_case(app, pilot)
        await press(pilot, "c", "n")
        form = app.screen
        assert isinstance(form, ConsentFormScreen)
        form.query_one("#consent-grantor", Select).value = "guardian"
        form.query_one("#consent-decision", Select).value = "deny"
        form.query_one("#consent-category", Select).value = "health"
        form.query_one("#consent-professions", MarkList).focus()
        await press(pilot, "space", "down", "space")
        form.query_one("#consent-valid-from", Input).value = "16.11.2026"
        form.query_one("#consent-evidence", Input).value = EVIDENCE
        await press(pilot, "ctrl+s")
        assert "Valid from: write the date as YYYY-MM-DD" in str(
            form.query_one("#consent-form-message", Static).render())
        assert app.focused is form.query_one("#consent-valid-from", Input)
        form.query_one("#consent-valid-from", Input).value = "2026-11-16"
        form.query_one("#consent-valid-to", Input).value = "2026-11-01"
        await press(pilot, "ctrl+s")
        assert "ends before it starts" in str(
            form.query_one("#consent-form-message", Static).render())
        # Escape with a filled form asks; "keep editing" keeps every value.
        await press(pilot, "escape")
        assert isinstance(app.screen, ConfirmScreen)
        await press(pilot, "n")
        assert app.screen is form
        assert form.query_one("#consent-evidence", Input).value == EVIDENCE
        form.query_one("#consent-valid-to", Input).value = ""
        await press(pilot, "ctrl+s")
        screen = app.screen
        assert isinstance(screen, ConsentScreen)
        recorded = consents(demo_backend)[-2:]
        assert {c.receiving_profession for c in recorded} == {"police", "social_work"}
        assert {c.grantor for c in recorded} == {"guardian"}
        detail = str(screen.query_one("#consent-detail", Static).render())
        assert "Signed [b]form[/b] \\x1b[2J in the anchor meeting" in detail
        await press(pilot, "n", "escape")  # nothing filled in: closes without asking
        assert app.screen is screen


async def test_someone_not_on_the_case_is_refused_and_the_refusal_recorded(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "youth")
        await open_case(app, pilot, NOT_YOUTHS_CASE)
        await press(pilot, "c")
        modal = app.screen
        assert isinstance(modal, ErrorScreen)
        assert "Only the members and leads" in modal.error_message
        await press(pilot, "escape")
        screen = app.screen
        assert isinstance(screen, ConsentScreen)
        assert "Nothing to show" in str(screen.query_one("#consent-status", Static).render())
        assert screen.query_one("#consent-list", OptionList).option_count == 0
        await press(pilot, "n")  # nothing read: no form either
        assert app.screen is screen
    assert audit_actions(demo_backend)[-1] == "access.denied"


async def test_the_palette_offers_the_consents_of_the_case(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "social")
        case = await open_case(app, pilot)
        names = [command.name for command in case.palette_commands()]
        assert "case: consents" in names
        next(c for c in case.palette_commands() if c.name == "case: consents").run()
        await settle(pilot)
        assert isinstance(app.screen, ConsentScreen)
        assert {c.name for c in app.screen.palette_commands()} >= {
            "consent: new", "consent: withdraw"}
        await pilot.press("f1")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert any("Consents of this case's young person" in text
                   for text in help_screen.texts)
        assert {"consent.new", "consent.withdraw"} <= {key[2] for key in help_screen.keys}
