"""The case view in the app: what each profession sees, every key, pages of notes, and
user text that stays text."""

from __future__ import annotations

import asyncio
import datetime as dt
import threading
from typing import Any

import pytest
from sqlalchemy import select
from textual.widgets import Static

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.screens import BoardScreen
from anchor_tui.screens import case as case_screen
from anchor_tui.screens.case import NOTES_AT_ONCE, CaseScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_view import NoteEntry
from anchor_tui.widgets.case_record import CaseTabs, NotesTimeline
from tests.ui.conftest import TODAY, AppFactory, settle, sign_in
from tests.ui.screen_reading import screen_text

CASE = 2
"""A demo case that the police, social work, health and youth work all work."""
WRITTEN = dt.datetime.combine(TODAY, dt.time(9), tzinfo=dt.UTC)


async def open_case(app: AnchorApp, pilot: object, case_id: int = CASE) -> CaseScreen:
    screen = CaseScreen(case_id)
    await app.push_screen(screen)
    await settle(pilot)  # type: ignore[arg-type]
    return screen


def shown_notes(screen: CaseScreen) -> list[NoteEntry]:
    """The notes the timeline shows, in order."""
    return list(screen.query_one(NotesTimeline).notes)


def categories(backend: Backend, note_ids: list[int]) -> set[str]:
    with backend.sessions.system("test: what was shown") as s:
        return set(s.scalars(select(m.Note.category).where(m.Note.id.in_(note_ids))))


def add_notes(backend: Backend, case_id: int, bodies: list[str], author: str = "police"
              ) -> None:
    with backend.sessions.system("test: notes arrive") as s:
        user = s.scalars(select(m.User).where(m.User.username == author)).one()
        for index, body in enumerate(bodies):
            s.add(m.Note(case_id=case_id, author_id=user.id, author_profession=user.profession,
                         category="general", body=body,
                         created_at=WRITTEN - dt.timedelta(minutes=index)))


async def test_each_profession_sees_its_own_view_of_the_case(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    for user, seen, unseen in [("police", {"police_intel", "general"}, set()),
                               ("social", {"child_welfare", "general"}, {"police_intel"}),
                               ("nurse", {"general"}, {"police_intel"})]:
        app = make_app()
        async with app.run_test(size=(120, 40)) as pilot:
            await sign_in(pilot, user)
            screen = await open_case(app, pilot)
            shown = categories(demo_backend, [note.note_id for note in shown_notes(screen)])
            assert seen <= shown and not unseen & shown, user
            title = str(screen.query_one("#case-title", Static).render())
            assert screen.record is not None
            assert screen.record.summary.person_label in title and "case 2" in title


async def test_number_keys_switch_parts_and_escape_goes_back(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "social")
        screen = await open_case(app, pilot)
        assert screen.active_tab == "notes"
        assert "▸1 Notes" in str(screen.query_one(CaseTabs).render())
        for key, tab in [("2", "history"), ("3", "tasks"), ("4", "consents"),
                         ("5", "members"), ("1", "notes")]:
            await pilot.press(key)
            assert screen.active_tab == tab
            assert f"▸{key} " in str(screen.query_one(CaseTabs).render())
            assert app.focused is screen.query_one(f"#{tab}-scroll")
        await pilot.press("3")
        tasks = str(screen.query_one("#tasks-text", Static).render())
        assert "Overdue" in tasks or "Open" in tasks or "Done" in tasks
        await pilot.press("5")
        assert "Social work" in str(screen.query_one("#members-text", Static).render())
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_the_consents_part_is_for_the_cases_members(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    """A case the nurse does not work, whose young person has consents: its consents
    part says who sees them and shows none; on a case the nurse works it lists them."""
    from sqlalchemy import or_

    with demo_backend.sessions.system("test: a case the nurse does not work") as s:
        nurse = s.scalars(select(m.User).where(m.User.username == "nurse")).one()
        worked = select(m.CaseMember.case_id).where(m.CaseMember.user_id == nurse.id)
        consented = select(m.Case.id).join(m.Consent, m.Consent.person_id == m.Case.person_id)
        other = s.scalar(select(m.Case.id).where(
            m.Case.id.in_(consented), m.Case.id.not_in(worked),
            or_(m.Case.lead_user_id.is_(None), m.Case.lead_user_id != nurse.id))
            .order_by(m.Case.id).limit(1))
        assert other is not None
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "nurse")
        for case_id, member in ((other, False), (CASE, True)):
            screen = await open_case(app, pilot, case_id)
            await pilot.press("4")
            text = str(screen.query_one("#consents-text", Static).render())
            said = "shown to the case's members and leads" in text
            listed = "refuses" in text or "permits" in text
            assert (said, listed) == (not member, member), (case_id, text)
            await pilot.press("escape")
            await settle(pilot)


async def test_j_and_k_scroll_and_more_notes_come_by_key_and_by_scrolling(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    add_notes(demo_backend, CASE, [f"Long case note {i}" for i in range(130)])
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "police")
        screen = await open_case(app, pilot)
        scroll = screen.query_one(NotesTimeline)  # the notes scroll themselves
        # A page of 50 notes is read; they are drawn NOTES_AT_ONCE at a time.
        assert len(shown_notes(screen)) == NOTES_AT_ONCE
        await pilot.press("j", "j", "j")
        assert scroll.scroll_y == 3
        await pilot.press("k")
        assert scroll.scroll_y == 2
        await pilot.press("m")  # the next notes of the page read
        await settle(pilot)
        assert len(shown_notes(screen)) == 2 * NOTES_AT_ONCE
        while len(shown_notes(screen)) < 50:
            await pilot.press("m")
            await settle(pilot)
        assert len(shown_notes(screen)) == 50
        await pilot.press("m")  # then the next page is read
        await settle(pilot)
        assert len(shown_notes(screen)) == 50 + NOTES_AT_ONCE
        for _ in range(20):  # reaching the end draws (and reads) more, to the last note
            scroll.scroll_end(animate=False)
            await settle(pilot)
            await pilot.pause()
        await settle(pilot)
        ids = [note.note_id for note in shown_notes(screen)]
        assert len(ids) == len(set(ids)) == 130 + 5  # and the 5 the police see of the demo
        assert screen.query_one(NotesTimeline).footer == "All 135 notes shown."


async def test_r_reads_the_case_again(make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "police")
        screen = await open_case(app, pilot)
        before = len(shown_notes(screen))
        add_notes(demo_backend, CASE, ["A note written meanwhile"])
        await pilot.press("r")
        await settle(pilot)
        views = shown_notes(screen)
        assert len(views) == before + 1
        assert views[0].body == "A note written meanwhile"


async def test_note_text_is_shown_as_written_never_as_markup(
    make_app: AppFactory, demo_backend: Backend
) -> None:
    body = "[@click=app.quit]Quit[/] [bold]x[/bold] \x1b[2J done"
    add_notes(demo_backend, CASE, [body])
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "police")
        screen = await open_case(app, pilot)
        assert shown_notes(screen)[0].body == body
        timeline = screen.query_one(NotesTimeline)
        shown = "[@click=app.quit]Quit[/] [bold]x[/bold] \\x1b[2J done"
        assert shown in timeline.text and shown in screen_text(app)  # (as drawn)
        await pilot.click(timeline)
        assert app.is_running and app.screen is screen


async def test_a_quick_first_read_is_shown_before_the_screen_is_first_drawn(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Waited for long enough, the read is shown as the screen mounts: never "Reading…".
    monkeypatch.setattr(CaseScreen, "FIRST_READ_WAIT", 60.0)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "social")
        screen = CaseScreen(CASE)
        await app.push_screen(screen)  # (waits for the screen to be mounted)
        record, notes = screen.record, shown_notes(screen)
        assert record is not None and notes
        assert "Reading case" not in str(screen.query_one("#case-title", Static).render())
        await settle(pilot)  # the read's message comes too: shown once, not again
        assert screen.record is record and shown_notes(screen) == notes


async def test_nothing_of_the_case_is_drawn_while_its_first_read_is_awaited(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The screen's frame timer runs from its compose (so its second draw does not wait a
    # frame); while the first read is awaited it must draw nothing ("Reading case…").
    released = threading.Event()
    ticked = asyncio.Event()
    real_read = case_screen.open_case

    def held_read(*args: Any, **kwargs: Any) -> Any:
        released.wait(30)
        return real_read(*args, **kwargs)

    drawn: list[str] = []
    real_refresh = CaseScreen._compositor_refresh
    real_tick = CaseScreen._on_timer_update

    def noting_refresh(screen: CaseScreen) -> None:
        if screen.is_current and not screen.app._batch_count:
            drawn.append(str(screen.query_one("#case-title", Static).render()))
        real_refresh(screen)

    def noting_tick(screen: CaseScreen) -> None:
        ticked.set()
        real_tick(screen)

    monkeypatch.setattr(case_screen, "open_case", held_read)
    monkeypatch.setattr(CaseScreen, "_compositor_refresh", noting_refresh)
    monkeypatch.setattr(CaseScreen, "_on_timer_update", noting_tick)
    monkeypatch.setattr(CaseScreen, "FIRST_READ_WAIT", 60.0)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "social")
        screen = CaseScreen(CASE)
        pushed = asyncio.ensure_future(app.push_screen(screen))
        await asyncio.wait_for(ticked.wait(), 10)  # a frame went by during the read
        assert screen.record is None and drawn == []
        released.set()
        await pushed
        await settle(pilot)
        assert screen.record is not None and drawn
        assert not any("Reading case" in title for title in drawn), drawn


async def test_a_slow_first_read_shows_the_loading_state_until_it_comes(
    make_app: AppFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(CaseScreen, "FIRST_READ_WAIT", 0.0)
    app = make_app()
    async with app.run_test(size=(80, 24)) as pilot:
        await sign_in(pilot, "social")
        screen = CaseScreen(CASE)
        await app.push_screen(screen)
        assert screen.record is None
        assert "Reading case 2" in str(screen.query_one("#case-title", Static).render())
        await settle(pilot)
        assert screen.record is not None and shown_notes(screen)
