"""An older page of notes read before a consent was withdrawn is never added to the
case view after the view has read the case again for the withdrawal (a page is of the
reading it followed; a new reading cancels the pages asked for before)."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading

import pytest
from sqlalchemy import select

from anchor_tui.db import models as m
from anchor_tui.messages import CasesChanged
from anchor_tui.screens import case as case_screen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.services.backend import Backend
from tests.ui.conftest import TODAY, AppFactory, settle, sign_in
from tests.ui.test_screens_follow_consent import CASE, WORD, withdraw

NEWER = 55
"""General notes newer than the health note: it is on the second page (50 a page)."""


def health_note_on_second_page(backend: Backend) -> int:
    with backend.sessions.system("test: an old health note, newer general notes") as s:
        case = s.get(m.Case, CASE)
        assert case is not None
        nurse = s.scalars(select(m.User).where(m.User.username == "nurse")).one()
        social = s.scalars(select(m.User).where(m.User.username == "social")).one()
        s.add(m.Note(case_id=CASE, author_id=nurse.id, author_profession=nurse.profession,
                     category="health", body=f"Health: {WORD}.",
                     created_at=dt.datetime.combine(TODAY - dt.timedelta(days=400),
                                                    dt.time(8), tzinfo=dt.UTC)))
        for i in range(NEWER):
            s.add(m.Note(case_id=CASE, author_id=social.id,
                         author_profession=social.profession, category="general",
                         body=f"General note {i}.",
                         created_at=dt.datetime.combine(TODAY, dt.time(6),
                                                        tzinfo=dt.UTC)
                         + dt.timedelta(seconds=i)))
        consent = m.Consent(person_id=case.person_id, grantor="self", decision="permit",
                            category="health", receiving_profession="social_work",
                            valid_from=TODAY - dt.timedelta(days=30), valid_to=None,
                            recorded_by_id=social.id, evidence="signed form")
        s.add(consent)
        s.flush()
        return consent.id


def everything_held(screen: CaseScreen) -> list[str]:
    from anchor_tui.widgets.case_record import NotesTimeline

    return [n.body for n in screen.query_one(NotesTimeline).notes] + \
        [n.body for n in screen._undrawn]


async def test_an_older_page_read_before_a_withdrawal_is_not_added_after_the_reread(
        make_app: AppFactory, demo_backend: Backend, monkeypatch: pytest.MonkeyPatch) -> None:
    consent_id = health_note_on_second_page(demo_backend)
    read = threading.Event()
    release = threading.Event()
    real_more_notes = case_screen.more_notes

    def slow_more_notes(*args: object, **kwargs: object) -> object:
        page = real_more_notes(*args, **kwargs)  # type: ignore[arg-type]
        read.set()
        release.wait(10)  # the page is on its way back (a slow audit write, a busy host)
        return page

    monkeypatch.setattr(case_screen, "more_notes", slow_more_notes)
    app = make_app()
    async with app.run_test(size=(140, 44)) as pilot:
        await sign_in(pilot, "social")
        screen = CaseScreen(CASE)
        await app.push_screen(screen)
        await settle(pilot)
        assert not any(WORD in b for b in everything_held(screen))  # on page 2
        while screen._undrawn:
            screen._draw_notes()
        assert screen._more is not None
        screen.action_more_notes()  # m: the older page, read while the consent holds
        assert await asyncio.to_thread(read.wait, 10)

        first = screen.record
        withdraw(demo_backend, consent_id)
        app.post_message(CasesChanged(None))  # the watcher's report of the withdrawal
        for _ in range(200):
            await pilot.pause(0.02)
            if screen.record is not first:
                break
        assert screen.record is not first, "the case was not read again"
        assert not any(WORD in b for b in everything_held(screen))

        release.set()  # the page read before the withdrawal arrives now
        await settle(pilot)
        held = everything_held(screen)
        assert not any(WORD in b for b in held), \
            "the withdrawn consent's health note is back on the open case view"
