"""The database server goes away in the middle of a session and comes back.

On a private PostgreSQL server of this test's own (``tests/private_pg.py``; the shared
one is never stopped): the app says so in its status line, keeps the change the person
made meanwhile, reconnects by itself and saves it; nothing is lost, and a later change
works on the new connections. The same for a note saved while the server is away, and
for a note's draft typed then: the autosave says it is not saved and keeps trying.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import select

from anchor_tui.app import AnchorApp
from anchor_tui.db import schema
from anchor_tui.db.engine import make_engine
from anchor_tui.db.models import Case
from anchor_tui.saving import save_queue
from anchor_tui.screens import BoardScreen, ErrorScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.seed import seed_demo
from anchor_tui.settings import Settings, load_settings
from anchor_tui.widgets.connection_status import ConnectionStatus
from tests.private_pg import PrivatePostgres, private_postgres
from tests.ui.conftest import (
    TODAY,
    board_cards,
    focus_card,
    focused_card,
    settle,
    sign_in,
    wait_until,
)

pytestmark = pytest.mark.postgres


@pytest.fixture
def server(tmp_path: Path) -> Iterator[tuple[PrivatePostgres, Settings]]:
    with private_postgres() as pg:
        engine = make_engine(pg.url)
        schema.upgrade(engine)
        engine.dispose()
        settings = dataclasses.replace(load_settings(pg.url, demo=True),
                                       log_dir=tmp_path / "logs")
        backend = Backend.open(settings)
        seed_demo(backend, today=TODAY)
        backend.close()
        yield pg, settings


def _stage(backend: Backend, case_id: int) -> tuple[str, int]:
    with backend.sessions.system("test: the case as saved") as session:
        case = session.scalars(select(Case).where(Case.id == case_id)).one()
        return case.stage, case.version


async def test_a_change_made_while_the_server_is_down_is_saved_when_it_is_back(
    server: tuple[PrivatePostgres, Settings],
) -> None:
    pg, settings = server
    backend = Backend.open(settings)
    app = AnchorApp(backend, settings, today=lambda: TODAY)
    try:
        async with app.run_test(size=(160, 48)) as pilot:
            await sign_in(pilot, "police")
            screen = app.screen
            assert isinstance(screen, BoardScreen)
            line = screen.query_one(ConnectionStatus)
            assert not line.display
            card = focused_card(app)
            stages = [s.id for s in backend.team.stages]
            target = stages[stages.index(card.stage) + 1]

            pg.stop()
            assert await wait_until(pilot, lambda: line.display, 15), "no status line"
            assert "connection lost" in str(line.render())

            await pilot.press("greater_than_sign")  # propose the next stage
            await pilot.pause()  # (the proposal waits for the answer: no settle here)
            await pilot.press("y")  # confirm: the save finds no server
            assert await wait_until(pilot, lambda: save_queue(app).waiting, 15)
            assert "1 change is kept" in str(line.render())
            assert save_queue(app).waiting == (
                f"move {card.person_label} to {backend.team.stage_label(target)}",)

            pg.start()
            assert await wait_until(pilot, lambda: not line.display, 30), str(line.render())
            assert save_queue(app).waiting == ()
            assert _stage(backend, card.case_id) == (target, card.version + 1)

            # A restart while nobody is saving: the next change simply works (the pool
            # replaces its dead connections; no error reaches the person).
            pg.restart()
            assert await wait_until(pilot, lambda: not line.display, 30)
            moved = next(c for c in board_cards(screen) if c.case_id
                         != card.case_id and c.stage != stages[-1])
            focus_card(screen, moved.case_id)
            after = stages[stages.index(moved.stage) + 1]
            moved_id = moved.case_id
            await pilot.press("greater_than_sign")
            await pilot.pause()
            await pilot.press("y")
            await settle(pilot)
            assert await wait_until(pilot, lambda: _stage(backend, moved_id)[0] == after, 15)
            # The watch for other terminals' changes may notice the restart only now (its
            # own connection died too) and say so until it has reconnected: wait for
            # that, not for a moment when it happened not to have noticed yet.
            assert await wait_until(pilot, lambda: not line.display, 30), str(line.render())
            assert save_queue(app).waiting == ()
            assert not isinstance(app.screen, ErrorScreen)  # nothing reached the person
    finally:
        backend.close()


async def test_a_note_saved_while_the_server_is_down_is_kept_and_saved_when_it_is_back(
    server: tuple[PrivatePostgres, Settings],
) -> None:
    from anchor_tui.db.models import Note, User
    from anchor_tui.screens.note_editor import NoteEditorScreen, open_note_editor
    from anchor_tui.widgets.note_text_area import NoteTextArea

    pg, settings = server
    backend = Backend.open(settings)
    app = AnchorApp(backend, settings, today=lambda: TODAY)
    words = "Met the young person at school; calm, agreed to meet again on Friday."
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await sign_in(pilot, "social")
            board = app.screen
            assert isinstance(board, BoardScreen)
            case_id = focused_card(app).case_id
            open_note_editor(app, case_id)
            await settle(pilot)
            editor = app.screen
            assert isinstance(editor, NoteEditorScreen)
            editor.query_one(NoteTextArea).insert(words)
            line = editor.query_one(ConnectionStatus)

            pg.stop()
            await pilot.press("ctrl+s")  # the save finds no server: kept, text stays
            assert await wait_until(pilot, lambda: save_queue(app).waiting, 15)
            assert app.screen is editor and editor.query_one(NoteTextArea).text == words
            assert await wait_until(pilot, lambda: line.display, 15), "no status line"

            pg.start()
            assert await wait_until(pilot, lambda: not save_queue(app).waiting, 30)
            assert await wait_until(pilot, lambda: app.screen is not editor, 15)
            with backend.sessions.system("test: the note as saved") as session:
                author = session.scalars(select(User.id).where(User.username == "social")
                                         ).one()
                bodies = session.scalars(select(Note.body).where(
                    Note.case_id == case_id, Note.author_id == author)).all()
            assert bodies.count(words) == 1  # saved once, whole
    finally:
        backend.close()


async def test_a_draft_typed_while_the_server_is_down_is_saved_when_it_is_back(
    server: tuple[PrivatePostgres, Settings],
) -> None:
    from anchor_tui.db.models import Draft, User
    from anchor_tui.screens.note_editor import NoteEditorScreen, open_note_editor
    from anchor_tui.widgets.note_text_area import NoteTextArea

    pg, settings = server
    backend = Backend.open(settings)
    app = AnchorApp(backend, settings, today=lambda: TODAY)

    def draft() -> str | None:
        with backend.sessions.system("test: the draft as saved") as session:
            return session.scalars(select(Draft.body).join(
                User, User.id == Draft.author_id).where(User.username == "social")).first()

    before = "Met the young person at school; calm."
    during = " Agreed to meet again on Friday with the guardian."
    try:
        async with app.run_test(size=(120, 40)) as pilot:
            await sign_in(pilot, "social")
            board = app.screen
            assert isinstance(board, BoardScreen)
            open_note_editor(app, focused_card(app).case_id)
            await settle(pilot)
            editor = app.screen
            assert isinstance(editor, NoteEditorScreen)
            area = editor.query_one(NoteTextArea)
            area.insert(before)
            assert await wait_until(pilot, lambda: draft() == before, 15), "no first draft"

            pg.stop()
            area.insert(during)  # typed while the server is away
            status = editor.query_one("#editor-status")
            assert await wait_until(pilot, lambda: "Draft not saved" in str(status.render()), 15)
            assert app.screen is editor and area.text == before + during  # nothing lost here

            pg.start()  # nobody presses anything: the autosave tries again by itself
            assert await wait_until(pilot, lambda: draft() == before + during, 30), draft()
            assert "Draft saved" in str(status.render())
    finally:
        backend.close()
