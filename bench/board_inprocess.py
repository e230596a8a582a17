"""The in-process half of bench/board.py: the real app under Textual's pilot, headless.

Each figure is one person's action until the screen shows its result: a keystroke in
the board filter, opening the case with 100 notes, a search, opening the queue. The
clock starts when the key reaches the app (sent to its driver, as a terminal's key is)
or the screen is asked for, and stops when the screen's handler for the result has
run *and* the screen has been redrawn after it (``call_after_refresh``). The handlers
are the product's own, wrapped here only to note the moment. Between two figures the
app is left to go idle (not timed).

The baseline is the same measurement on a bare Textual app: a keystroke into an
``Input`` whose text a ``Static`` repeats (the framework's own floor).
"""

from __future__ import annotations

import asyncio
import inspect
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from textual import events
from textual.app import App, ComposeResult
from textual.message import Message
from textual.message_pump import MessagePump
from textual.pilot import Pilot
from textual.widgets import Input, Static

from anchor_tui.app import AnchorApp
from anchor_tui.screens import board_filtering
from anchor_tui.screens.board import BoardScreen
from anchor_tui.screens.board_filtering import BoardFiltering
from anchor_tui.screens.case import CaseScreen
from anchor_tui.screens.queue import QueueScreen
from anchor_tui.screens.search import SearchScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.board import exact_counts
from anchor_tui.settings import DEMO_PASSPHRASE, Settings
from anchor_tui.widgets.case_record import NotesTimeline
from anchor_tui.widgets.stage_column import StageColumn

SIZE = (120, 40)
TIMEOUT = 60.0


@dataclass
class Figures:
    """Seconds per action, by measurement."""

    samples: dict[str, list[float]] = field(default_factory=dict)

    def add(self, name: str, seconds: float) -> None:
        self.samples.setdefault(name, []).append(seconds)


class Shown:
    """Set when a wrapped handler has shown its result and the screen was redrawn."""

    def __init__(self) -> None:
        self.event = asyncio.Event()

    def arm(self) -> None:
        self.event = asyncio.Event()

    def after(self, cls: type[MessagePump], name: str,
              applies: Callable[[Any, Any], bool] = lambda node, message: True) -> None:
        original = cls.__dict__[name]
        shown = self

        async def wrapped(node: Any, message: Message) -> None:
            result = original(node, message)
            if inspect.isawaitable(result):
                await result
            if applies(node, message):
                node.call_after_refresh(shown.event.set)

        setattr(cls, name, wrapped)


async def idle(pilot: Pilot[None]) -> None:
    """Until the workers are done and the messages handled (not timed)."""
    for _ in range(3):
        await pilot.app.workers.wait_for_complete()
        await pilot.pause()


async def key(app: App[Any], name: str) -> None:
    """A key as a terminal sends it: to the app's driver, not waited for."""
    char = name if len(name) == 1 else None
    assert app._driver is not None
    app._driver.send_message(events.Key(name, char))
    await asyncio.sleep(0)


async def timed(figures: Figures, name: str, pilot: Pilot[None], shown: Shown,
                start: Callable[[], Any]) -> None:
    await idle(pilot)
    shown.arm()
    started = time.perf_counter()
    result = start()
    if inspect.isawaitable(result):
        await result
    await asyncio.wait_for(shown.event.wait(), TIMEOUT)
    figures.add(name, time.perf_counter() - started)


class BareInput(App[None]):
    def compose(self) -> ComposeResult:
        yield Input(id="typed")
        yield Static("", id="echo")

    def on_input_changed(self, event: Input.Changed) -> None:
        self.query_one("#echo", Static).update(event.value)


async def bare_keystrokes(figures: Figures, words: list[str]) -> None:
    shown = Shown()
    shown.after(BareInput, "on_input_changed")
    app = BareInput()
    async with app.run_test(size=SIZE) as pilot:
        await idle(pilot)
        for word in words:
            for name in [*word, "ctrl+u"]:
                await timed(figures, "keystroke", pilot, shown, lambda n=name: key(app, n))


async def sign_in(pilot: Pilot[None], username: str) -> BoardScreen:
    screen = pilot.app.screen
    screen.query_one("#username", Input).value = username
    screen.query_one("#passphrase", Input).value = DEMO_PASSPHRASE
    screen.query_one("#passphrase", Input).focus()
    await pilot.pause()
    await pilot.press("enter")
    await idle(pilot)
    board = pilot.app.screen
    assert isinstance(board, BoardScreen), type(board)
    return board


class CountStarts:
    """Notes when the board's exact count (read once typing pauses) starts."""

    def __init__(self) -> None:
        self.started = 0.0
        original = exact_counts

        def noted(*args: Any, **kwargs: Any) -> Any:
            self.started = time.perf_counter()
            return original(*args, **kwargs)

        board_filtering.__dict__["exact_counts"] = noted  # the name the count worker calls


def watch_results() -> tuple[Shown, CountStarts]:
    """Wrap the handlers that show each result (for this process: the bench's own).
    A test runs this in a fresh interpreter, so a handler that moved is found there,
    not after a bench run's launches."""
    shown = Shown()
    counts = CountStarts()
    shown.after(BoardScreen, "on_columns_read", lambda board, m: m.spec == board.spec)
    shown.after(BoardFiltering, "on_counts_read", lambda board, m: m.spec == board.spec)
    shown.after(CaseScreen, "on_case_read")
    shown.after(SearchScreen, "on_search_done", lambda search, m: search.results is m.results)
    shown.after(QueueScreen, "on_queue_read")
    return shown, counts


async def app_figures(backend: Backend, settings: Settings, figures: Figures, *,
                      filter_words: list[str], queries: list[str], big_case: int,
                      reps: int, broad_words: list[str]) -> None:
    shown, counts = watch_results()
    app = AnchorApp(backend, settings)
    async with app.run_test(size=SIZE) as pilot:
        await idle(pilot)
        board = await sign_in(pilot, "social")
        # a. typing in the board filter, a keystroke at a time (then clearing it).
        await pilot.press("slash")
        for word in filter_words:
            for name in [*word, "ctrl+u"]:
                await timed(figures, "filter keystroke", pilot, shown,
                            lambda n=name: key(app, n))
            assert board.spec.empty
        # a2. a team member's name (broad: counted up to a limit while typing), left in
        # the filter: its exact counts, timed from the count's start (after the pause).
        field = board.query_one("#board-filter", Input)
        for _ in range(max(1, reps // len(broad_words))):
            for word in broad_words:
                def put_word(w: str = word) -> None:
                    field.value = w
                await timed(figures, "filter put", pilot, shown, put_word)
                assert not all(c.column.exact for c in board.query(StageColumn)), word
                shown.arm()
                await asyncio.wait_for(shown.event.wait(), TIMEOUT)
                figures.add("exact counts", time.perf_counter() - counts.started)
                assert all(c.column.exact for c in board.query(StageColumn))
        field.value = ""
        await idle(pilot)
        await pilot.press("escape")
        await idle(pilot)
        assert any(c.cards for c in board.query(StageColumn)), "the board shows cards again"
        # b. the case with 100 notes (its first page of notes, newest first).
        for _ in range(reps):
            await timed(figures, "open case (100 notes)", pilot, shown,
                        lambda: app.push_screen(CaseScreen(big_case)))
            case = app.screen
            assert isinstance(case, CaseScreen) and case.query_one(NotesTimeline).notes
            await app.pop_screen()
        # c. searches: each query put in at once, as pasted (one search).
        await pilot.press("ctrl+f")
        await idle(pilot)
        search = app.screen
        assert isinstance(search, SearchScreen)
        words = search.query_one("#search-input", Input)
        for _ in range(max(1, reps // 4)):
            for query in queries:
                def put(q: str = query) -> None:
                    words.value = q
                await timed(figures, "search", pilot, shown, put)
                assert search.results is not None and search.results.words
        await pilot.press("escape")
        # d. the triage queue (t) and back.
        for _ in range(reps):
            await timed(figures, "open queue (t)", pilot, shown, lambda: key(app, "t"))
            assert isinstance(app.screen, QueueScreen)
            await pilot.press("escape")
