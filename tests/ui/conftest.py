"""UI fixtures: the demo team's database, built once per run and copied per test.

The database is built through the migrations and seeded with ``seed_demo`` for a fixed
day (2026-11-16), so every test (and every snapshot) sees the same board.
"""

from __future__ import annotations

import contextlib
import dataclasses
import datetime as dt
import shutil
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from rich.text import Text
from textual.app import App
from textual.content import Content
from textual.pilot import Pilot
from textual.screen import Screen
from textual.widget import Widget
from textual.widgets import Input
from textual.worker import WorkerCancelled, WorkerFailed

from anchor_tui.app import AnchorApp
from anchor_tui.db import schema
from anchor_tui.db.engine import make_engine
from anchor_tui.domain import CaseCard
from anchor_tui.screens.board import BoardScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.clock import ManualClock
from anchor_tui.services.seed import seed_demo
from anchor_tui.settings import DEMO_PASSPHRASE, Settings, load_settings
from anchor_tui.widgets.card_column import CardColumn
from anchor_tui.widgets.case_record import NotesTimeline
from anchor_tui.widgets.stage_column import StageColumn

TODAY = dt.date(2026, 11, 16)
"""The demo week's Monday: the seed and the app's calendar both use it."""


def sqlite_url_for(path: Path) -> str:
    return f"sqlite:///{path}"


@pytest.fixture(scope="session")
def demo_db_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A migrated, seeded demo database file (built once per test run and worker)."""
    path = tmp_path_factory.mktemp("demo") / "demo.sqlite3"
    settings = load_settings(db_flag=sqlite_url_for(path), demo=True)
    engine = make_engine(settings.db_url)
    schema.upgrade(engine)
    backend = Backend.open(settings)
    try:
        seed_demo(backend, today=TODAY)
    finally:
        backend.close()
        engine.dispose()  # closing the last connection checkpoints the WAL into the file
    return path


@pytest.fixture
def demo_settings(demo_db_template: Path, tmp_path: Path,
                  monkeypatch: pytest.MonkeyPatch) -> Settings:
    """Demo-mode settings on this test's own copy of the demo database.

    The copy is not at the demo's own path, so it gets an audit key the way a team's
    terminal without a keyring does: from the environment.
    """
    monkeypatch.setenv("ANCHOR_AUDIT_KEY", "ui-test audit key, not a secret")
    path = tmp_path / "demo.sqlite3"
    shutil.copyfile(demo_db_template, path)
    settings = load_settings(db_flag=sqlite_url_for(path), demo=True)
    return dataclasses.replace(settings, log_dir=tmp_path / "logs")


@pytest.fixture
def demo_backend(demo_settings: Settings) -> Iterator[Backend]:
    backend = Backend.open(demo_settings)
    yield backend
    backend.close()


AppFactory = Callable[..., AnchorApp]


@pytest.fixture(autouse=True)
def notifications_kept(monkeypatch: pytest.MonkeyPatch) -> None:
    """Notifications stay for the whole test. Textual drops one 5 s after it is shown
    (``App.NOTIFICATION_TIMEOUT``), as it is read: on a loaded CI host a test reading
    what was said (``app._notifications``) after a slow save missed the first of two
    notifications made seconds apart."""
    monkeypatch.setattr(AnchorApp, "NOTIFICATION_TIMEOUT", 3600.0)


@pytest.fixture
def make_app(demo_backend: Backend, demo_settings: Settings, tmp_path: Path) -> AppFactory:
    """Builds the app on the demo database with the calendar fixed at ``TODAY`` and a
    clock that moves only when a test says (``app.clock.advance(seconds)``): sign-in
    waits and the idle lock happen when the test decides, never by the wall clock."""

    def build(app_class: type[AnchorApp] = AnchorApp, *, demo: bool = True,
              clock: ManualClock | None = None) -> AnchorApp:
        settings = dataclasses.replace(demo_settings, demo=demo,
                                       minutes_dir=tmp_path / "minutes")
        return app_class(demo_backend, settings, today=lambda: TODAY,
                         clock=clock or ManualClock())

    return build


async def settle(pilot: Pilot[None]) -> None:
    """Wait until every worker has finished and its messages have been handled."""
    for _ in range(3):  # a worker's message may start another worker (sign-in -> board)
        for worker in list(pilot.app.workers):
            # Waited for to its end, whatever the end: a failure is the app's to handle
            # (its error modal, or stopping), which the test then sees; an exclusive
            # worker replaced by a newer one is cancelled, and the newer one waited for.
            with contextlib.suppress(WorkerCancelled, WorkerFailed):
                await worker.wait()
        await pilot.pause()


async def first_context(pilot: Pilot[None]) -> None:
    """Until the app has opened its first context (the sign-in screen), which it does
    once Textual's start-up is over; until then Textual's default screen is current."""
    for _ in range(10):
        if pilot.app.screen.id != "_default":
            return
        await pilot.pause()
    raise AssertionError("the app never left Textual's default screen")


async def sign_in(pilot: Pilot[None], username: str, passphrase: str = DEMO_PASSPHRASE, *,
                  typed: bool = False) -> None:
    """Sign in and wait for the result; ``typed`` presses every key as a person would
    (slow under the pilot), otherwise the fields are filled and Enter pressed."""
    await first_context(pilot)
    if typed:
        await pilot.press(*username, "enter", *passphrase, "enter")
    else:
        pilot.app.screen.query_one("#username", Input).value = username
        pilot.app.screen.query_one("#passphrase", Input).value = passphrase
        pilot.app.screen.query_one("#passphrase", Input).focus()
        await pilot.pause()
        await pilot.press("enter")
    await settle(pilot)


async def board_for(app: App[Any], pilot: Pilot[None], user: str) -> BoardScreen:
    """Sign ``user`` in; the board they see."""
    await sign_in(pilot, user)
    screen = app.screen
    assert isinstance(screen, BoardScreen)
    return screen


def board_cards(screen: Screen[Any]) -> list[CaseCard]:
    """Every card the board holds, column by column."""
    return [card for column in screen.query(StageColumn) for card in column.cards]


def focused_card(app: App[Any]) -> CaseCard:
    """The card the cursor is on in the focused board column (fails if none)."""
    focused = app.focused
    assert isinstance(focused, CardColumn), f"focus is on {focused!r}, not a board column"
    card = focused.cursor_card
    assert card is not None
    return card


def focus_card(screen: Screen[Any], case_id: int) -> CaseCard:
    """Put the board's cursor on the card of ``case_id`` and focus its column."""
    for column in screen.query(StageColumn):
        for index, card in enumerate(column.cards):
            if card.case_id == case_id:
                column.card_list.move_cursor(index)
                screen.set_focus(column.card_list)
                return card
    raise AssertionError(f"case {case_id} is not on the board")


def widget_text(widget: Widget) -> str:
    """What a widget holds as text: its rendered content and, for inputs, value and hint."""
    parts: list[str] = []
    if isinstance(widget, Input):
        parts += [widget.value, str(widget.placeholder)]
    if isinstance(widget, CardColumn | NotesTimeline):  # drawn a line at a time: all it holds
        parts += [str(content) for content in widget.contents] + [widget.footer]
    rendered = widget.render()
    if isinstance(rendered, str | Content | Text):
        parts.append(str(rendered))
    return "\n".join(parts)


def all_text(app: App[None]) -> str:
    """The text of every widget on every screen the app still holds (not just the top)."""
    nodes: list[Widget] = []
    for screen in app.screen_stack:
        nodes.extend(screen.walk_children(Widget, with_self=True))
    nodes.extend(app.walk_children(Widget))
    return "\n".join(widget_text(node) for node in nodes)


async def wait_until(pilot: Pilot[None], condition: Callable[[], object],
                     seconds: float) -> bool:
    """Wait, up to ``seconds`` of the wall clock, for something outside the app (a
    server stopped or started, another program's lock, the watcher's reconnect)."""
    deadline = time.monotonic() + seconds
    while not condition():
        if time.monotonic() > deadline:
            return False
        await pilot.pause(0.05)
    await settle(pilot)
    return True
