"""A note's history, and the picker of the note whose history to show, follow a consent
withdrawn on another terminal while they are open, as the case view does: what the
consent let through goes at once, what is still shown keeps its place, and a screen
left with nothing to show closes. (A revision hidden now splits the note's history for
the viewer, as in the timeline: the revisions before it are, for them, another note.)

Case 2 of the demo: the nurse's notes, one of them a health note the social worker
reads by the young person's consent (``test_screens_follow_consent``)."""

from __future__ import annotations

import datetime as dt

from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import OptionList

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.messages import CasesChanged
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.note_history import NoteHistoryScreen, NotePickerScreen
from anchor_tui.services.backend import Backend
from tests.ui.conftest import TODAY, AppFactory, settle, sign_in
from tests.ui.screen_reading import screen_text
from tests.ui.test_note_editor import asked, choose
from tests.ui.test_screens_follow_consent import CASE, WORD, withdraw

ASKING = "case-work-ask"
"""The case view's worker that waits for the picker's answer (never ends by itself)."""


async def settle_open(pilot: Pilot[None]) -> None:
    """Wait for every worker but the one waiting for an answer, and their messages."""
    for _ in range(3):
        busy = [w for w in pilot.app.workers if w.group != ASKING and not w.is_finished]
        if busy:
            await pilot.app.workers.wait_for_complete(busy)
        await pilot.pause()


def revisions_and_consent(backend: Backend) -> tuple[list[int], int]:
    """The nurse's note on case 2 in three revisions: a general one, its correction into
    a health note (about ``WORD``), and a general correction of that; and the young
    person's consent to let social work see health notes. The revisions' ids, and the
    consent's."""
    at = dt.datetime.combine(TODAY, dt.time(8), tzinfo=dt.UTC)
    with backend.sessions.system("test: three revisions and a consent") as s:
        case = s.get(m.Case, CASE)
        assert case is not None
        nurse = s.scalars(select(m.User).where(m.User.username == "nurse")).one()
        social = s.scalars(select(m.User).where(m.User.username == "social")).one()
        ids: list[int] = []
        for revision, (category, body) in enumerate(
                [("general", "Seen at the clinic door."), ("health", f"Health: {WORD}."),
                 ("general", "Seen at the clinic door, with her mother.")], start=1):
            note = m.Note(case_id=CASE, author_id=nurse.id, author_profession="health",
                          category=category, body=body, revision=revision,
                          supersedes_id=ids[-1] if ids else None,
                          created_at=at + dt.timedelta(minutes=revision))
            s.add(note)
            s.flush()
            ids.append(note.id)
        consent = m.Consent(person_id=case.person_id, grantor="self", decision="permit",
                            category="health", receiving_profession="social_work",
                            valid_from=TODAY - dt.timedelta(days=30),
                            recorded_by_id=social.id, evidence="signed form")
        s.add(consent)
        s.flush()
        return ids, consent.id


async def open_history(app: AnchorApp, pilot: Pilot[None], note_id: int
                       ) -> NoteHistoryScreen:
    await sign_in(pilot, "social")
    await app.push_screen(CaseScreen(CASE))
    await settle(pilot)
    await pilot.press("h")
    await choose(app, pilot, str(note_id))
    history = await asked(app, pilot, NoteHistoryScreen)
    assert isinstance(history, NoteHistoryScreen)
    return history


async def test_an_open_history_drops_a_revision_whose_consent_is_withdrawn(
        make_app: AppFactory, demo_backend: Backend) -> None:
    ids, consent_id = revisions_and_consent(demo_backend)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        history = await open_history(app, pilot, ids[2])
        assert [e.note_id for e in history.entries] == ids
        assert WORD in screen_text(app)
        withdraw(demo_backend, consent_id)
        app.post_message(CasesChanged(None))  # what the change watcher reports for it
        await settle(pilot)
        assert app.screen is history, "what is still shown stays open"
        assert [e.note_id for e in history.entries] == [ids[2]]
        assert WORD not in screen_text(app)
        assert "1 revision" in screen_text(app)
        assert history.focused is not None and history.focused.id == "history-scroll"


async def test_a_change_named_for_its_case_reads_it_again(
        make_app: AppFactory, demo_backend: Backend) -> None:
    ids, consent_id = revisions_and_consent(demo_backend)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        history = await open_history(app, pilot, ids[2])
        withdraw(demo_backend, consent_id)
        app.post_message(CasesChanged(frozenset({CASE})))
        await settle(pilot)
        assert [e.note_id for e in history.entries] == [ids[2]]


async def test_a_history_opened_from_the_revision_now_hidden_keeps_the_others(
        make_app: AppFactory, demo_backend: Backend) -> None:
    ids, consent_id = revisions_and_consent(demo_backend)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        history = await open_history(app, pilot, ids[1])
        withdraw(demo_backend, consent_id)
        app.post_message(CasesChanged(None))
        await settle(pilot)
        assert app.screen is history, "the note as it stands now stays"
        assert [e.note_id for e in history.entries] == [ids[2]]
        assert WORD not in screen_text(app)


async def test_a_history_with_nothing_left_to_show_closes(
        make_app: AppFactory, demo_backend: Backend) -> None:
    from tests.ui.test_screens_follow_consent import health_note_and_consent

    consent_id = health_note_and_consent(demo_backend)  # one revision, a health note
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        case = CaseScreen(CASE)
        await app.push_screen(case)
        await settle(pilot)
        assert case.record is not None
        note = next(n for n in case.record.notes.notes if WORD in n.body)
        await pilot.press("h")
        await choose(app, pilot, str(note.note_id))
        history = await asked(app, pilot, NoteHistoryScreen)
        withdraw(demo_backend, consent_id)
        app.post_message(CasesChanged(None))
        await settle(pilot)
        assert app.screen is case and history not in app.screen_stack
        assert WORD not in screen_text(app)


async def test_the_picker_drops_the_note_and_keeps_the_place(
        make_app: AppFactory, demo_backend: Backend) -> None:
    ids, consent_id = revisions_and_consent(demo_backend)
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await sign_in(pilot, "social")
        await app.push_screen(CaseScreen(CASE))
        await settle(pilot)
        await pilot.press("h")
        picker = await asked(app, pilot, NotePickerScreen)
        assert isinstance(picker, NotePickerScreen)
        offered = [int(v) for v, _ in picker.choices]
        assert set(ids) <= set(offered) and WORD in screen_text(app)
        options = picker.query_one(OptionList)
        place = offered.index(ids[0])  # the place: the first revision, after the health one
        while options.highlighted != place:
            await pilot.press("down" if (options.highlighted or 0) < place else "up")
        withdraw(demo_backend, consent_id)
        app.post_message(CasesChanged(None))
        await settle_open(pilot)
        assert app.screen is picker
        assert [int(v) for v, _ in picker.choices] == [i for i in offered if i != ids[1]]
        assert options.option_count == len(offered) - 1
        assert WORD not in screen_text(app)
        highlighted = options.get_option_at_index(options.highlighted or 0)
        assert highlighted.id == str(ids[0]), "the same note stays highlighted"
        await pilot.press("escape")
        await settle(pilot)


def long_history(backend: Backend) -> tuple[list[int], int]:
    """The nurse's note on case 2 in six long revisions, the first a health note about
    ``WORD`` that the young person's consent shows social work, the others general."""
    at = dt.datetime.combine(TODAY, dt.time(8), tzinfo=dt.UTC)
    lines = "\n".join(f"line {i} of the account" for i in range(8))
    with backend.sessions.system("test: a long history") as s:
        case = s.get(m.Case, CASE)
        assert case is not None
        nurse = s.scalars(select(m.User).where(m.User.username == "nurse")).one()
        social = s.scalars(select(m.User).where(m.User.username == "social")).one()
        ids: list[int] = []
        for revision in range(1, 7):
            category = "health" if revision == 1 else "general"
            body = f"Health: {WORD}.\n{lines}" if revision == 1 else \
                f"Revision {revision}.\n{lines}"
            note = m.Note(case_id=CASE, author_id=nurse.id, author_profession="health",
                          category=category, body=body, revision=revision,
                          supersedes_id=ids[-1] if ids else None,
                          created_at=at + dt.timedelta(minutes=revision))
            s.add(note)
            s.flush()
            ids.append(note.id)
        consent = m.Consent(person_id=case.person_id, grantor="self", decision="permit",
                            category="health", receiving_profession="social_work",
                            valid_from=TODAY - dt.timedelta(days=30),
                            recorded_by_id=social.id, evidence="signed form")
        s.add(consent)
        s.flush()
        return ids, consent.id


async def test_the_history_keeps_the_revision_in_view_when_one_above_goes(
        make_app: AppFactory, demo_backend: Backend) -> None:
    from textual.containers import VerticalScroll

    ids, consent_id = long_history(demo_backend)
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        history = await open_history(app, pilot, ids[-1])
        assert [e.note_id for e in history.entries] == ids
        scroll = history.query_one("#history-scroll", VerticalScroll)

        def top_of(note_id: int) -> int:
            return history.query_one(f"#revision-{note_id}").virtual_region.y

        scroll.scroll_to(y=top_of(ids[3]) + 2, animate=False)
        await pilot.pause()
        assert scroll.scroll_y == top_of(ids[3]) + 2 and top_of(ids[3]) > 0
        withdraw(demo_backend, consent_id)
        app.post_message(CasesChanged(None))
        await settle(pilot)
        await pilot.pause()
        assert [e.note_id for e in history.entries] == ids[1:]
        assert WORD not in screen_text(app)
        assert scroll.scroll_y == top_of(ids[3]) + 2, "the same revision stays in view"
