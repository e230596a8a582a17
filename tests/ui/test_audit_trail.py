"""The audit trail in the app: a scripted session's every access shows on the auditor
screen (and in the access report) exactly as it was done; only auditors reach the
screen; and a case whose reading cannot be recorded is not shown at all."""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable
from pathlib import Path

from sqlalchemy import select
from textual.pilot import Pilot
from textual.widgets import DataTable, Input, Static

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.screens import BoardScreen, ErrorScreen
from anchor_tui.screens.audit import AuditScreen
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.consent import ConsentScreen
from anchor_tui.screens.help import HelpScreen
from anchor_tui.screens.search import SearchScreen
from anchor_tui.services.access_report import AccessLine, access_report
from anchor_tui.services.backend import Backend
from anchor_tui.settings import Settings
from anchor_tui.widgets.case_record import NotesTimeline
from tests.ui.conftest import AppFactory, all_text, settle, sign_in

CASE = 2
PERSON = 2
"""The young person of demo case 2."""


async def open_case(app: AnchorApp, pilot: Pilot[None]) -> CaseScreen:
    screen = CaseScreen(CASE)
    await app.push_screen(screen)
    await settle(pilot)
    return screen


Access = tuple[str, str, int | None]
"""(username, action, object id) as the trail records it."""


async def work_on_the_case(app: AnchorApp, pilot: Pilot[None], username: str
                           ) -> list[Access]:
    """Sign in, open case 2, look at its consents, search a word of its notes, sign out;
    return the accesses to its young person that this should have recorded."""
    await sign_in(pilot, username)
    assert app.viewer is not None
    profession = app.viewer.profession
    case = await open_case(app, pilot)
    assert case.record is not None
    others = [note.note_id for note in case.query_one(NotesTimeline).notes
              if note.profession != app.backend.policy.professions[profession]]
    done: list[Access] = [(username, "case.view", CASE), (username, "note.list", CASE)]
    done += [(username, "note.disclosed", note_id) for note_id in others]
    assert case.record.consents  # a member: shown in the case view, and recorded
    done.append((username, "consent.list", CASE))
    await pilot.press("c")
    await settle(pilot)
    assert isinstance(app.screen, ConsentScreen)
    done.append((username, "consent.list", CASE))
    await pilot.press("escape")
    await pilot.press("ctrl+f")
    search = app.screen
    assert isinstance(search, SearchScreen)
    search.query_one("#search-input", Input).value = case.record.summary.person_label
    await settle(pilot)
    assert search.results is not None and not search.results.notes
    listed = [hit.case_id for hit in search.results.cases]
    assert CASE in listed
    done.append((username, "search.results", CASE))  # (the other cases: other people)
    await pilot.press("ctrl+o")
    await settle(pilot)
    return done


def trail_for(lines: Iterable[AccessLine]) -> list[Access]:
    """The accesses in ``lines`` (reading the trail itself left out)."""
    return [(line.who.rsplit("(", 1)[1].rstrip(")"), line.action, line.object_id)
            for line in lines if line.action != "audit.report"]


async def test_the_auditor_screen_lists_every_access_of_a_scripted_session(
        make_app: AppFactory, demo_backend: Backend) -> None:
    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        done = await work_on_the_case(app, pilot, "social")
        done += await work_on_the_case(app, pilot, "nurse")
        await sign_in(pilot, "auditor")
        await pilot.press("ctrl+y")
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen)
        await pilot.press("slash")
        assert app.focused is screen.query_one("#audit-person", Input)
        await pilot.press(*str(PERSON), "enter")
        await settle(pilot)
        assert trail_for(screen.lines) == done
        table = screen.query_one("#audit-table", DataTable)
        assert table.row_count == len(screen.lines)
        shown = {str(table.get_row_at(i)[3]) for i in range(table.row_count)}
        assert {"opened the case", "was shown a note of another profession",
                "was shown the consents", "was shown the case in search results"} <= shown
        status = str(screen.query_one("#audit-status", Static).render())
        disclosures = sum(1 for access in done if access[1] == "note.disclosed")
        assert f"{disclosures} disclosures" in status
        # Filter by user too: only the nurse's accesses.
        screen.query_one("#audit-username", Input).value = "nurse"
        await pilot.press("enter")
        await settle(pilot)
        assert trail_for(screen.lines) == [a for a in done if a[0] == "nurse"]
        # No note text anywhere on the screen: the trail holds ids only.
        with demo_backend.sessions.system("test: bodies") as s:
            bodies = s.scalars(select(m.Note.body).where(m.Note.case_id == CASE)).all()
        text = all_text(app)
        assert bodies and not any(body in text for body in bodies)
    # The command line's report agrees with what was done.
    assert trail_for(access_report(demo_backend, PERSON).lines) == done


async def test_other_roles_never_reach_the_auditor_screen(make_app: AppFactory) -> None:
    for username in ("social", "lead", "police"):
        app = make_app()
        async with app.run_test(size=(100, 30)) as pilot:
            await sign_in(pilot, username)
            assert isinstance(app.screen, BoardScreen)
            assert "audit: trail" not in {c.name for c in app.palette_commands()}
            assert not any(active.binding.action == "audit_trail"
                           for active in app.screen.active_bindings.values()
                           if active.enabled and app.check_action("audit_trail", ()))
            await pilot.press("ctrl+y")
            await settle(pilot)
            assert isinstance(app.screen, BoardScreen), username
            assert "Audit trail" not in all_text(app)
            # Even pushed by a bug, the screen reads nothing for them.
            await app.push_screen(AuditScreen())
            await settle(pilot)
            screen = app.screen
            assert isinstance(screen, AuditScreen)
            assert screen.lines == ()
            assert "For auditors only" in str(screen.query_one("#audit-status",
                                                              Static).render())


async def test_an_auditors_huddle_never_shows_the_trail(make_app: AppFactory) -> None:
    """The huddle's viewer carries its chair's role; the room is not an auditor."""
    from tests.ui.test_huddle import huddle_of, join

    app = make_app()
    async with app.run_test(size=(120, 40)) as pilot:
        await huddle_of(pilot, "auditor")
        await join(pilot, "youth")
        assert app.viewer is not None and app.viewer.role == "auditor"
        assert "audit: trail" not in {c.name for c in app.palette_commands()}
        before = app.screen
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert app.screen is before and not isinstance(app.screen, AuditScreen)
        await app.push_screen(AuditScreen())  # even pushed by a bug: nothing read
        await settle(pilot)
        screen = app.screen
        assert isinstance(screen, AuditScreen) and screen.lines == ()
        assert "For auditors only" in str(screen.query_one("#audit-status", Static).render())


async def test_the_auditor_gets_the_key_and_the_command(make_app: AppFactory) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "auditor")
        assert "audit: trail" in {c.name for c in app.palette_commands()}
        assert app.check_action("audit_trail", ()) is True
        await pilot.press("ctrl+y")
        await settle(pilot)
        assert isinstance(app.screen, AuditScreen)
        await pilot.press("f1")
        await settle(pilot)
        help_screen = app.screen
        assert isinstance(help_screen, HelpScreen)
        assert any("The audit trail" in text for text in help_screen.texts)
        await pilot.press("escape")
        await pilot.press("escape")
        assert isinstance(app.screen, BoardScreen)


async def test_a_case_whose_reading_cannot_be_recorded_is_not_shown(
        make_app: AppFactory, demo_backend: Backend, demo_settings: Settings) -> None:
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "social")
        with sqlite3.connect(Path(demo_settings.db_url.removeprefix("sqlite:///"))) as conn:
            conn.execute("CREATE TRIGGER audit_broken BEFORE INSERT ON audit_event "
                         "BEGIN SELECT RAISE(ABORT, 'disk full'); END")
        case = CaseScreen(CASE)
        await app.push_screen(case)
        # The case's read fails with its audit insert (it may have failed already while
        # the screen waited for its first read; settle waits for it either way).
        await settle(pilot)
        modal = app.screen
        assert isinstance(modal, ErrorScreen)
        assert modal.error_title == "Not recorded"
        assert "nothing was shown" in modal.error_message
        assert case.record is None and not case.query_one(NotesTimeline).notes
        with demo_backend.sessions.system("test: bodies") as s:
            bodies = s.scalars(select(m.Note.body).where(m.Note.case_id == CASE)).all()
        text = all_text(app)
        assert bodies and not any(body in text for body in bodies)
        assert "Miro" not in text  # not even the young person's name
