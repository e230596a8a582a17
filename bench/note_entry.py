"""Benchmark: note entry. Keystroke to echo in the editor, and saving a note.

    python bench/note_entry.py            # 200 keystrokes, 100 saves
    python bench/note_entry.py --quick    # 60 keystrokes, 30 saves
    python bench/note_entry.py --dir /var/tmp   # the databases on that disk

1. Keystroke to echo, with a 20,000-character note in the editor: the time from a key
   reaching the app (as the terminal driver delivers it) to the first frame written to the
   terminal that shows the typed character. The app is the real one (``NoteEditorScreen``
   on a seeded SQLite database, with its autosave and disclosure preview running); the
   terminal is a driver that records what would be written instead of writing it.
   Baseline, same run, same driver: a bare Textual app holding only a ``TextArea`` with the
   same text. Target: median <= 16 ms.
2. Saving a note: ``services.notes.save_note`` (a write unit of work: the note, its audit
   event on the hash chain, the draft's deletion; committed with ``synchronous=FULL``).
   Baseline, same run: a bare ``sqlite3`` insert and commit of a row of the same size with
   the same pragmas (WAL, ``synchronous=FULL``, ``BEGIN IMMEDIATE``). Target: median <= 20 ms.

Runs alternate between the app and its baseline so that machine noise hits both alike.
Exit status 1 when a target is missed.
"""

from __future__ import annotations

import argparse
import asyncio
import dataclasses
import datetime as dt
import os
import sqlite3
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from rich.console import Console
from rich.table import Table
from sqlalchemy import select
from textual import events
from textual.app import App, ComposeResult
from textual.drivers.headless_driver import HeadlessDriver
from textual.widgets import TextArea

from anchor_tui.app import AnchorApp
from anchor_tui.db import models as m
from anchor_tui.db import schema
from anchor_tui.db.engine import make_engine
from anchor_tui.domain import Viewer
from anchor_tui.screens.note_editor import NoteEditorScreen
from anchor_tui.services.auth import viewer_for
from anchor_tui.services.backend import Backend
from anchor_tui.services.drafts import discard_draft
from anchor_tui.services.notes import NoteInput, save_note
from anchor_tui.services.seed import seed
from anchor_tui.settings import Settings, load_settings
from anchor_tui.widgets.note_text_area import NoteTextArea

ECHO_TARGET_MS = 16.0
SAVE_TARGET_MS = 20.0
NOTE_CHARS = 20_000
MARK = "ж"
"""The character typed: it appears nowhere else on screen, so its echo is unmistakable."""


def note_text(chars: int = NOTE_CHARS) -> str:
    """A long note as people write them: paragraphs of sentences."""
    sentence = ("Met the young person and the guardian at the school; agreed to meet again "
                "next week and to call the youth centre. ")
    paragraph = sentence * 4
    text = ""
    while len(text) < chars:
        text += paragraph.strip() + "\n\n"
    return text[:chars]


class RecordingDriver(HeadlessDriver):
    """A terminal that keeps what it is sent (with the time) instead of showing it."""

    echoed: asyncio.Event | None = None

    @property
    def is_headless(self) -> bool:
        return False  # so the app composes and writes real frames

    def write(self, data: str) -> None:
        if MARK in data and RecordingDriver.echoed is not None:
            RecordingDriver.echoed.set()

    def flush(self) -> None:
        pass


async def keystrokes(app: App[Any], area: TextArea, count: int) -> list[float]:
    """Type ``count`` characters into the middle of the note (each key re-wraps the rest
    of its paragraph); milliseconds from each key to its echo."""
    assert app._driver is not None
    middle = (area.document.line_count // 2, 0)
    area.move_cursor(middle, center=True)
    await asyncio.sleep(0.05)
    timings: list[float] = []
    for _ in range(count):
        RecordingDriver.echoed = asyncio.Event()
        start = time.perf_counter()
        app._driver.send_message(events.Key(MARK, MARK))
        try:
            await asyncio.wait_for(RecordingDriver.echoed.wait(), timeout=5)
        except TimeoutError:
            raise RuntimeError(f"no echo for key {len(timings)}: cursor {area.cursor_location} "
                               f"scroll {area.scroll_offset} max {area.max_scroll_y} size "
                               f"{area.size} wrapped {area.wrapped_document.height}") from None
        timings.append((time.perf_counter() - start) * 1000)
        await asyncio.sleep(0.03)  # a fast typist: about 30 keys a second
    return timings


class BareTextArea(App[None]):
    """The baseline: Textual's TextArea alone, with the same text."""

    def compose(self) -> ComposeResult:
        yield TextArea(note_text(), soft_wrap=True, id="bare")


class EditorOnly(AnchorApp):
    """The real app opened straight on the note editor (no sign-in screen)."""

    def __init__(self, backend: Backend, settings: Settings, viewer: Viewer,
                 case_id: int) -> None:
        super().__init__(backend, settings)
        self.writer = viewer
        self.case_id = case_id

    def on_mount(self) -> None:
        # After AnchorApp's own on_mount (the sign-in screen): the editor goes on top. It
        # is given its viewer: the app's own is its terminal session's (nobody signed in),
        # which the sign-in context sets to None as it opens.
        self.call_after_refresh(self.push_screen, NoteEditorScreen(
            self.case_id, viewer=self.writer, backend=self.backend))


async def measure_app(app: App[Any], find: str, count: int, load: bool) -> list[float]:
    app.driver_class = RecordingDriver
    async with app.run_test(headless=False, size=(100, 30)) as pilot:
        await app.workers.wait_for_complete()
        await pilot.pause()
        area = app.screen.query_one(find, TextArea)
        if load:
            assert isinstance(area, NoteTextArea)
            area.load_body(note_text())
        area.focus()
        await pilot.pause()
        assert len(area.text) >= NOTE_CHARS - 10
        timings = await keystrokes(app, area, count)
        await app.workers.wait_for_complete()
    return timings


def echo_rounds(backend: Backend, settings: Settings, viewer: Viewer, case_id: int,
                keys: int, rounds: int) -> tuple[list[float], list[float]]:
    mine: list[float] = []
    bare: list[float] = []
    per_round = max(1, keys // rounds)
    for index in range(rounds):
        pair = [("app", EditorOnly(backend, settings, viewer, case_id)), ("bare", BareTextArea())]
        if index % 2:
            pair.reverse()
        for name, app in pair:
            discard_draft(backend, viewer, case_id)  # the last round's text, kept on leaving
            find, load = ("#note-body", True) if name == "app" else ("#bare", False)
            timings = asyncio.run(measure_app(app, find, per_round, load))
            (mine if name == "app" else bare).extend(timings)
    return mine, bare


# --- saving -----------------------------------------------------------------------------

def bare_sqlite(path: Path) -> sqlite3.Connection:
    conn = sqlite3.connect(path, isolation_level=None)
    for pragma in ("journal_mode=WAL", "foreign_keys=ON", "synchronous=FULL",
                   "busy_timeout=5000"):
        conn.execute(f"PRAGMA {pragma}")
    conn.execute("CREATE TABLE IF NOT EXISTS bench_note (id INTEGER PRIMARY KEY, case_id "
                 "INTEGER, author_id INTEGER, category TEXT, body TEXT, created_at TEXT)")
    return conn


def save_rounds(backend: Backend, viewer: Viewer, case_id: int, saves: int,
                bare_path: Path) -> tuple[list[float], list[float]]:
    body = note_text(600)
    conn = bare_sqlite(bare_path)
    mine: list[float] = []
    bare: list[float] = []
    today = dt.date.today()
    for index in range(saves):
        order = ("app", "bare") if index % 2 == 0 else ("bare", "app")
        for name in order:
            start = time.perf_counter()
            if name == "app":
                save_note(backend, viewer, NoteInput(case_id, f"{body} {index}", "general"),
                          today=today)
                mine.append((time.perf_counter() - start) * 1000)
            else:
                conn.execute("BEGIN IMMEDIATE")
                conn.execute("INSERT INTO bench_note (case_id, author_id, category, body, "
                             "created_at) VALUES (?, ?, ?, ?, ?)",
                             (case_id, viewer.user_id, "general", f"{body} {index}",
                              dt.datetime.now(dt.UTC).isoformat()))
                conn.execute("COMMIT")
                bare.append((time.perf_counter() - start) * 1000)
    conn.close()
    return mine, bare


# --- setting up -------------------------------------------------------------------------

def prepare(folder: Path) -> tuple[Backend, Settings, Viewer, int]:
    os.environ.setdefault("ANCHOR_AUDIT_KEY", "note-entry benchmark audit key, not a secret")
    url = f"sqlite:///{folder / 'note-entry.sqlite3'}"
    settings = dataclasses.replace(load_settings(db_flag=url), log_dir=folder / "logs")
    engine = make_engine(url)
    schema.upgrade(engine)
    engine.dispose()
    backend = Backend.open(settings)
    seed(backend, cases=200, notes_per_case=6, seed=7)
    with backend.sessions.system("bench: the writer") as session:
        user = session.scalars(select(m.User).where(m.User.username == "social")).one()
        viewer = viewer_for(user)
        case_id = session.scalars(select(m.CaseMember.case_id).where(
            m.CaseMember.user_id == user.id).order_by(m.CaseMember.case_id)).first()
    assert case_id is not None
    return backend, settings, viewer, case_id


def summary(values: list[float]) -> tuple[float, float]:
    ordered = sorted(values)
    return statistics.median(ordered), ordered[int(len(ordered) * 0.9) - 1]


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--quick", action="store_true", help="fewer keystrokes and saves")
    parser.add_argument("--keys", type=int, help="keystrokes per app (default 200; quick 60)")
    parser.add_argument("--saves", type=int, help="saves per side (default 100; quick 30)")
    parser.add_argument("--dir", type=Path, help="where the databases go (default: a "
                        "temporary folder; choose a real disk to time its fsync)")
    args = parser.parse_args(argv)
    keys = args.keys or (60 if args.quick else 200)
    saves = args.saves or (30 if args.quick else 100)
    console = Console(width=max(120, Console().width))
    with tempfile.TemporaryDirectory(prefix="anchor-note-entry-", dir=args.dir) as tmp:
        folder = Path(tmp)
        console.print(f"Seeding a SQLite database in {folder} …")
        backend, settings, viewer, case_id = prepare(folder)
        try:
            console.print(f"Typing {keys} keys into each app (20,000-character note) …")
            echo, echo_bare = echo_rounds(backend, settings, viewer, case_id, keys,
                                          rounds=4 if keys >= 80 else 2)
            console.print(f"Saving {saves} notes, and as many bare inserts …")
            save, save_bare = save_rounds(backend, viewer, case_id, saves,
                                          folder / "bare.sqlite3")
        finally:
            backend.close()
    table = Table(title="Note entry (milliseconds)")
    table.add_column("what", no_wrap=True)
    for column in ("n", "median", "p90", "baseline median", "baseline p90", "target", "met"):
        table.add_column(column, justify="right")
    failed = False
    for label, values, base, target in (
        ("keystroke → echo, 20,000-char note · vs bare TextArea", echo, echo_bare,
         ECHO_TARGET_MS),
        ("save note + audit event, SQLite · vs bare insert+commit", save, save_bare,
         SAVE_TARGET_MS),
    ):
        median, p90 = summary(values)
        base_median, base_p90 = summary(base)
        met = median <= target
        failed |= not met
        table.add_row(label, str(len(values)), f"{median:.2f}", f"{p90:.2f}",
                      f"{base_median:.2f}", f"{base_p90:.2f}", f"≤ {target:.0f}",
                      "yes" if met else "NO")
    console.print(table)
    console.print(f"Python {sys.version.split()[0]}, SQLite {sqlite3.sqlite_version}")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
