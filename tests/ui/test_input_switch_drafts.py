"""Switching user while the database does not answer: the next person's screen is up at
once, and the last person's unsaved text is still kept as their draft.

Switch user (ctrl+o) kept each closing screen's drafts on the UI thread: with the
database away (a network gone silently, a file locked by another program) the terminal
froze, the previous person's note still on screen, until the database gave up (15
minutes for a silent network). A screen now hands over what it has to keep
(``draft_saver``, read on the UI thread) and the terminal saves it on a thread of its
own, while the sign-in screen is already shown and the old context removed.
"""

from __future__ import annotations

import sqlite3
import time
from functools import partial
from typing import Any

from textual.app import ComposeResult
from textual.screen import Screen
from textual.widgets import Static

from anchor_tui.db.engine import SQLITE_BUSY_TIMEOUT_MS
from anchor_tui.domain import Viewer
from anchor_tui.screens import SignInScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.drafts import save_draft
from anchor_tui.terminal import DraftSaver
from tests.ui.conftest import AppFactory, settle, sign_in
from tests.ui.test_note_editor import CASE, drafts_of, until

WORDS = "Private: disclosed at the meeting today, follow up on Friday."


class WritingScreen(Screen[None]):
    """A screen with a person's unsaved text on it, as the note editor has."""

    def __init__(self, backend: Backend, viewer: Viewer, text: str) -> None:
        super().__init__()
        self.backend = backend
        self.viewer = viewer
        self.text = text

    def compose(self) -> ComposeResult:
        yield Static(self.text, markup=False)

    def _save(self, text: str) -> None:
        save_draft(self.backend, self.viewer, CASE, None, "general", None, text)

    def draft_saver(self) -> DraftSaver | None:
        """Read now (the UI thread); saved by the terminal on a thread of its own."""
        return partial(self._save, self.text)


async def test_switch_user_with_the_database_locked_shows_sign_in_at_once_and_keeps_the_draft(
    make_app: AppFactory, demo_backend: Backend, demo_settings: Any
) -> None:
    path = demo_settings.db_url.removeprefix("sqlite:///")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "social")
        viewer = app.viewer
        assert viewer is not None
        writing = WritingScreen(app.backend, viewer, WORDS)
        await app.push_screen(writing)
        await settle(pilot)
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # another program's write transaction
        try:
            started = time.monotonic()
            await pilot.press("ctrl+o")
            await until(pilot, lambda: isinstance(app.screen, SignInScreen))
            took = time.monotonic() - started
            gone = all(writing not in stack for stack in app._screen_stacks.values())
            kept_while_locked = WORDS in drafts_of_unlocked(path)
        finally:
            other.execute("ROLLBACK")
            other.close()
        await settle(pilot)  # (the draft's save waits for the lock, then saves)
    # The save waited for the lock (up to SQLite's busy timeout); the screen did not.
    assert took < SQLITE_BUSY_TIMEOUT_MS / 1000 - 1, f"the terminal froze for {took:.1f} s"
    assert gone, "the previous person's screen is still in a stack"
    assert not kept_while_locked
    assert WORDS in drafts_of(demo_backend, "social"), "the unsaved text was not kept"


def drafts_of_unlocked(path: str) -> list[str]:
    """The drafts as they stand (a read: WAL lets it past the write lock)."""
    reader = sqlite3.connect(path)
    try:
        return [row[0] for row in reader.execute("SELECT body FROM draft")]
    finally:
        reader.close()


async def test_the_note_editor_hands_its_text_over_the_same_way(
    make_app: AppFactory, demo_backend: Backend, demo_settings: Any
) -> None:
    """The same with the real note editor (``NoteDrafts.draft_saver``)."""
    from tests.ui.test_note_editor import open_editor

    path = demo_settings.db_url.removeprefix("sqlite:///")
    app = make_app()
    async with app.run_test(size=(100, 30)) as pilot:
        await sign_in(pilot, "social")
        editor = await open_editor(app, pilot)
        await pilot.press(*"Typed before switching user.")
        other = sqlite3.connect(path, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")
        try:
            started = time.monotonic()
            await pilot.press("ctrl+o")
            await until(pilot, lambda: isinstance(app.screen, SignInScreen))
            took = time.monotonic() - started
        finally:
            other.execute("ROLLBACK")
            other.close()
        await settle(pilot)
        assert not editor.is_attached
    assert took < SQLITE_BUSY_TIMEOUT_MS / 1000 - 1, f"the terminal froze for {took:.1f} s"
    assert "Typed before switching user." in drafts_of(demo_backend, "social")
