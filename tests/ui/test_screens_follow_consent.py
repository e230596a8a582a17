"""A screen already open follows a consent withdrawn, or ended, while it is shown.

The case view, the shared huddle screen and the search results used to keep showing a
health note that a consent had let through after it was withdrawn on another terminal
(only the board and the queue read again on a change), although the withdrawal's own
question says the notes are hidden "on every terminal". They now read again on every
change (the change watcher reports a consent change as "anything changed"), and on a
new day (a consent that ended yesterday changes nothing in the database).
"""

from __future__ import annotations

import dataclasses
import datetime as dt

from sqlalchemy import select

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.messages import CasesChanged
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.search import SearchScreen
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.clock import ManualClock, moment_on
from anchor_tui.services.consents import withdraw_consent
from anchor_tui.settings import Settings
from anchor_tui.widgets.case_record import NotesTimeline
from tests.ui.conftest import TODAY, AppFactory, settle, sign_in

CASE = 2
WORD = "marmosethealthsecret"


def health_note_and_consent(backend: Backend, valid_to: dt.date | None = None) -> int:
    """The nurse's health note on case 2, and the young person's consent to let social
    work see health notes (from a month ago, until ``valid_to``)."""
    with backend.sessions.system("test: a health note and a consent") as s:
        case = s.get(m.Case, CASE)
        assert case is not None
        nurse = s.scalars(select(m.User).where(m.User.username == "nurse")).one()
        social = s.scalars(select(m.User).where(m.User.username == "social")).one()
        s.add(m.Note(case_id=CASE, author_id=nurse.id, author_profession=nurse.profession,
                     category="health", body=f"Health: {WORD}.",
                     created_at=dt.datetime.combine(TODAY, dt.time(8), tzinfo=dt.UTC)))
        consent = m.Consent(person_id=case.person_id, grantor="self", decision="permit",
                            category="health", receiving_profession="social_work",
                            valid_from=TODAY - dt.timedelta(days=30), valid_to=valid_to,
                            recorded_by_id=social.id, evidence="signed form")
        s.add(consent)
        s.flush()
        return consent.id


def withdraw(backend: Backend, consent_id: int) -> None:
    """The nurse withdraws the consent on her own terminal."""
    with backend.sessions.system("test: the nurse") as s:
        nurse = viewer_for(s.scalars(select(m.User).where(m.User.username == "nurse")).one())
    withdraw_consent(backend, nurse, CASE, consent_id,
                     now=moment_on(TODAY) - dt.timedelta(minutes=1))


def timeline_bodies(screen: CaseScreen) -> list[str]:
    return [n.body for n in screen.query_one(NotesTimeline).notes]


async def test_an_open_case_view_drops_a_note_whose_consent_is_withdrawn(
        make_app: AppFactory, demo_backend: Backend) -> None:
    consent_id = health_note_and_consent(demo_backend)
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        await sign_in(pilot, "social")
        screen = CaseScreen(CASE)
        await app.push_screen(screen)
        await settle(pilot)
        assert any(WORD in body for body in timeline_bodies(screen))  # by the consent
        withdraw(demo_backend, consent_id)
        app.post_message(CasesChanged(None))  # what the change watcher reports for it
        await settle(pilot)
        assert app.screen is screen and timeline_bodies(screen)
        assert not any(WORD in body for body in timeline_bodies(screen))


async def test_the_shared_huddle_screen_drops_it_too(
        make_app: AppFactory, demo_backend: Backend) -> None:
    from tests.ui.test_huddle import huddle_of, join

    consent_id = health_note_and_consent(demo_backend)
    with demo_backend.sessions.system("test: flag case 2") as s:
        nurse = s.scalars(select(m.User).where(m.User.username == "nurse")).one()
        if s.scalars(select(m.HuddleFlag).where(m.HuddleFlag.case_id == CASE,
                                                m.HuddleFlag.cleared_at.is_(None))
                     ).first() is None:
            s.add(m.HuddleFlag(case_id=CASE, flagged_by_id=nurse.id,
                               flagged_at=dt.datetime.combine(TODAY, dt.time(7),
                                                              tzinfo=dt.UTC)))
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        await huddle_of(pilot, "social")
        screen = await join(pilot, "nurse")
        ids = [e.case_id for e in screen.agenda]
        screen._go(ids.index(CASE))
        await settle(pilot)
        assert screen.view is not None
        assert any(WORD in n.body for n in screen.view.record.notes.notes)
        withdraw(demo_backend, consent_id)
        app.post_message(CasesChanged(None))
        await settle(pilot)
        assert app.screen is screen and screen.view is not None
        assert not any(WORD in n.body for n in screen.view.record.notes.notes)


async def test_search_results_drop_it_and_keep_the_place(
        make_app: AppFactory, demo_backend: Backend) -> None:
    consent_id = health_note_and_consent(demo_backend)
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        await sign_in(pilot, "social")
        await pilot.press("ctrl+f")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, SearchScreen)
        await pilot.press(*WORD)
        await settle(pilot)
        assert screen.results is not None and len(screen.results.notes) == 1
        # The test says what changed from now on: the change watcher, seeing the
        # withdrawal, would report it (rightly) before the other case's change is shown
        # to leave the results as they are.
        app.live.stop()
        withdraw(demo_backend, consent_id)
        app.post_message(CasesChanged(frozenset({CASE + 100})))  # another case: no search
        await settle(pilot)
        assert screen.results is not None and len(screen.results.notes) == 1
        app.post_message(CasesChanged(None))
        await settle(pilot)
        assert screen.results is not None and screen.results.notes == ()


async def test_a_consent_that_ends_at_midnight_takes_its_note_off_the_open_case(
        demo_backend: Backend, demo_settings: Settings) -> None:
    health_note_and_consent(demo_backend, valid_to=TODAY)  # in force today, not tomorrow
    day = [TODAY]
    app = AnchorApp(demo_backend, dataclasses.replace(demo_settings, demo=True),
                    today=lambda: day[0], clock=ManualClock())
    async with app.run_test(size=(140, 44)) as pilot:
        await sign_in(pilot, "social")
        screen = CaseScreen(CASE)
        await app.push_screen(screen)
        await settle(pilot)
        assert any(WORD in body for body in timeline_bodies(screen))
        app.check_the_day()  # the same day: nothing is read again
        await settle(pilot)
        assert any(WORD in body for body in timeline_bodies(screen))
        day[0] = TODAY + dt.timedelta(days=1)
        app.check_the_day()  # (the app asks every 30 s)
        await settle(pilot)
        assert timeline_bodies(screen)
        assert not any(WORD in body for body in timeline_bodies(screen))
