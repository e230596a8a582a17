"""Hostile text is shown inert, everywhere user text is shown (a property test).

Thousands of strings made of Rich/Textual markup, action links, ANSI and OSC escape
sequences (OSC 52 clipboard writes, OSC 8 links), C0/C1 controls, bidi overrides,
zero-width and invisible characters are rendered through every widget and modal that
shows user text. The rendered strips (what Textual sends to the terminal) must hold:

- no control, format, separator or invisible character at all;
- no ``@click`` action and no link that the same widget does not render for plain text;
- no style that the same widget does not use for plain text (no markup took effect);
- for widgets, the text itself, escaped but all there (nothing was swallowed).

``ANCHOR_HOSTILE_EXAMPLES`` (default 150, 8 strings each: 1,200 strings, each shown in
several widgets) and ``ANCHOR_HOSTILE_SCREEN_EXAMPLES`` (default 15) set how many
examples run.
"""

from __future__ import annotations

import datetime as dt
import os
import unicodedata
from collections.abc import AsyncIterator, Callable, Sequence
from dataclasses import dataclass
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from rich.segment import Segment
from rich.style import Style
from textual._context import visible_screen_stack
from textual.app import App, ComposeResult
from textual.containers import Vertical
from textual.pilot import Pilot
from textual.screen import Screen
from textual.strip import Strip
from textual.widget import Widget
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from anchor_tui.app import AnchorApp
from anchor_tui.domain import CaseCard, MemberChoice, Viewer
from anchor_tui.palette import PaletteCommand
from anchor_tui.safe_text import INVISIBLE, printable
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.error import ErrorScreen
from anchor_tui.screens.huddle_modals import ActionScreen, NoticeScreen
from anchor_tui.screens.lock import LockScreen
from anchor_tui.screens.prompt import ChoiceScreen, ReasonScreen
from anchor_tui.services.case_view import (
    CaseRecord,
    CaseSummary,
    ConsentEntry,
    HistoryEntry,
    MemberEntry,
    NoteEntry,
    NotePage,
    TaskEntry,
)
from anchor_tui.services.huddle import Present, Roster
from anchor_tui.services.huddle_agenda import AgendaEntry, HuddleCaseView, ItemEntry
from anchor_tui.services.search import CaseHit, Highlighted, NoteHit
from anchor_tui.services.session_state import TerminalSession
from anchor_tui.widgets.card_column import CardColumn
from anchor_tui.widgets.case_record import (
    NotesTimeline,
    consents_content,
    history_content,
    members_content,
    summary_content,
    tasks_content,
    title_content,
)
from anchor_tui.widgets.huddle_agenda import agenda_content, case_body, items_content
from anchor_tui.widgets.huddle_banner import HuddleBanner
from anchor_tui.widgets.search_result import case_hit_content, note_hit_content
from tests.ui.conftest import TODAY, AppFactory, settle

EXAMPLES = int(os.environ.get("ANCHOR_HOSTILE_EXAMPLES", "150"))
SCREEN_EXAMPLES = int(os.environ.get("ANCHOR_HOSTILE_SCREEN_EXAMPLES", "15"))
WHEN = dt.datetime(2026, 11, 16, 9, 30, tzinfo=dt.UTC)

FRAGMENTS = [
    "[@click=app.quit]", "[@click=screen.dismiss()]go[/]", "[/]", "[b]", "[red on blue]",
    "[link=https://example.invalid]", "[link='x']y[/link]", "$text-error", "[$accent]",
    "\x1b[2J", "\x1b[31m", "\x1b[0m", "\x1b]52;c;SGVsbG8gd29ybGQ=\x07",
    "\x1b]52;c;?\x1b\\", "\x1b]8;;https://example.invalid\x1b\\click\x1b]8;;\x1b\\",
    "\x9b2J", "\x9d0;title\x9c", "\x07", "\x00", "\x08", "\r", "\n", "\t", "\x7f",
    "\u202e", "\u202d", "\u2066", "\u2067", "\u2068", "\u2069", "\u061c", "\u200e",
    "\u200b", "\u200c", "\u200d", "\u2060", "\ufeff", "\u00ad", "\u2028", "\u2029",
    "\U000e0041", "\U000e007f", "\u3164", "\u115f", "\u034f", "\u180e",
    "<script>alert(1)</script>", "[x](javascript:alert(1))", "&lt;b&gt;", "*bold*",
    "Äiti", "Åke Öberg", "日本語", "👨\u200d👩\u200d👧", "e\u0301",
]
hostile = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=6)),
                   min_size=1, max_size=6).map("".join).filter(bool)
BENIGN = "x"
FORBIDDEN_CATEGORIES = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})


@dataclass
class Seen:
    """What a rendering put on the terminal, as far as markup could have changed it."""

    text: str
    styles: set[Style]
    clicks: set[str]
    links: set[str]
    controls: int


def seen_in(strips: Sequence[Strip]) -> Seen:
    seen = Seen("", set(), set(), set(), 0)
    texts: list[str] = []
    for strip in strips:
        for segment in strip:
            assert isinstance(segment, Segment)
            texts.append(segment.text)
            if segment.control:
                seen.controls += 1
            style = segment.style
            if style is None:
                continue
            meta = style.meta or {}
            if "@click" in meta:
                seen.clicks.add(str(meta["@click"]))
            if style.link:
                seen.links.add(style.link)
            seen.styles.add(style.clear_meta_and_links())
        texts.append("\n")
    seen.text = "".join(texts)
    return seen


def assert_inert(hostile_seen: Seen, benign_seen: Seen, strings: Sequence[str] = ()) -> None:
    bad = [c for c in hostile_seen.text if c != "\n" and (
        unicodedata.category(c) in FORBIDDEN_CATEGORIES or c in INVISIBLE)]
    assert bad == [], f"raw characters reached the terminal: {bad!r}"
    assert hostile_seen.controls == 0
    assert hostile_seen.clicks <= benign_seen.clicks, "an action link came from user text"
    assert hostile_seen.links <= benign_seen.links, "a hyperlink came from user text"
    extra = hostile_seen.styles - benign_seen.styles
    assert not extra, f"user text changed the styles: {extra}"
    flat = "".join(hostile_seen.text.split())
    for value in strings:  # on one line (names) or keeping its lines (a note's body)
        assert any("".join(printable(value, one_line=one).split()) in flat
                   for one in (True, False)), "user text was swallowed"


# --- every widget that shows user text, built from strings --------------------------------

def timeline_of(note: NoteEntry) -> NotesTimeline:
    timeline = NotesTimeline()
    timeline.show((note,), more=False)
    return timeline


def card_column_of(card: CaseCard, category_label: str) -> CardColumn:
    column = CardColumn(lambda _category: category_label, TODAY, show_lead=True)
    column.show((card,), "")
    return column


def widgets_for(s: Sequence[str]) -> list[tuple[Widget, list[str]]]:
    """Each widget of the app that shows user text, with the strings ``s`` in it, and the
    strings it shows whole (a consent's grantor is shown capitalised; an option list only
    has to stay inert)."""
    note = NoteEntry(1, WHEN, s[0], s[1], s[2], s[3] + "\n" + s[4], 2, True, True, True, s[5])
    summary = CaseSummary(7, s[0], dt.date(2011, 2, 3), s[1], s[2], s[3], s[4], "high",
                          TODAY, WHEN, WHEN, s[5], s[6])
    history = (HistoryEntry(WHEN, "stage", "Stage", s[0], s[1], s[2], s[3]),)
    tasks = (TaskEntry(3, s[4], s[5], TODAY, False),)
    consents = (ConsentEntry(4, s[6], "permits", s[7], s[0], TODAY, None, None, "in force"),)
    members = (MemberEntry(s[1], s[2], TODAY, None),)
    card = CaseCard(7, s[0], s[1], "screening", 1, TODAY, s[2])
    case_hit = CaseHit(7, s[0], s[1], s[2], Highlighted(s[3], ((0, 1),)))
    note_hit = NoteHit(1, 7, s[4], WHEN, s[5], s[6], Highlighted(s[7], ((0, 1),)))
    entry = AgendaEntry(7, 1, s[0], s[1], s[2], (s[3], s[4]), 65)
    items = (ItemEntry(1, 7, "decision", s[5], WHEN),
             ItemEntry(2, 7, "action", s[6], WHEN, s[7], TODAY))
    record = CaseRecord(summary, history, NotePage((note,), None), tasks, consents, members)
    roster = Roster(1, 1, WHEN, (Present(1, "u", s[0], "police", "member", WHEN),))
    options = OptionList(Option(case_hit_content(case_hit)), Option(note_hit_content(note_hit)),
                         Option(agenda_content(entry)))
    in_summary = [s[1], s[2], s[3], s[5], s[6]]
    return [
        (card_column_of(card, s[3]), [s[0], s[2], s[3]]),
        (timeline_of(note), [s[0], s[1], s[2], s[3], s[4], s[5]]),
        (Static(title_content(summary)), [s[0], s[4]]),
        (Static(summary_content(summary, TODAY)), in_summary),
        (Static(history_content(history)), [s[0], s[1], s[2], s[3]]),
        (Static(tasks_content(tasks, TODAY)), [s[4], s[5]]),
        (Static(consents_content(consents)), [s[7], s[0]]),
        (Static(members_content(members)), [s[1], s[2]]),
        (Static(case_hit_content(case_hit)), [s[0], s[1], s[2], s[3]]),
        (Static(note_hit_content(note_hit)), [s[4], s[5], s[6], s[7]]),
        (Static(agenda_content(entry)), [s[0], s[1], s[3], s[4]]),
        (Static(items_content(items)), [s[5], s[6], s[7]]),
        (Static(case_body(HuddleCaseView(record, items), TODAY)), [*in_summary, s[4]]),
        (HuddleBanner(roster, {"police": s[1]}), [s[1]]),
        (options, []),
    ]


class Probe(App[None]):
    """An app with the anchor-tui styles, to render widgets in."""

    CSS_PATH = AnchorApp.CSS_PATH
    benign: list[Seen] | None = None

    def compose(self) -> ComposeResult:
        yield Vertical(id="probe")


@pytest.fixture
async def probe() -> AsyncIterator[Pilot[None]]:
    async with Probe().run_test(size=(90, 300)) as pilot:
        yield pilot


async def rendered(pilot: Pilot[None], widgets: Sequence[Widget]) -> list[Seen]:
    holder = pilot.app.query_one("#probe", Vertical)
    await holder.remove_children()
    for widget in widgets:
        widget.styles.height = "auto"
        widget.styles.width = 70
    await holder.mount_all(widgets)
    await pilot.pause()
    screen = whole_screen_strips(pilot.app)
    seen = []
    for widget in widgets:
        region = widget.region
        assert region.bottom <= len(screen), "the probe screen is too small for the widgets"
        seen.append(seen_in([screen[y].crop(region.x, region.right)
                             for y in range(region.y, region.bottom)]))
    return seen


@pytest.mark.slow(seconds=20)
@settings(max_examples=EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(strings=st.lists(hostile, min_size=8, max_size=8))
async def test_no_widget_interprets_user_text(probe: Pilot[None], strings: list[str]) -> None:
    app = probe.app
    assert isinstance(app, Probe)
    if app.benign is None:
        app.benign = await rendered(probe, [w for w, _ in widgets_for([BENIGN] * 8)])
    benign = app.benign
    built = widgets_for(strings)
    seen = await rendered(probe, [w for w, _ in built])
    for (widget, shown), hostile_seen, benign_seen in zip(built, seen, benign, strict=True):
        try:
            assert_inert(hostile_seen, benign_seen, shown)
        except AssertionError as error:
            raise AssertionError(f"{type(widget).__name__}: {error}") from None


# --- screens: the palette and the modals -----------------------------------------------

class Base(Screen[None]):
    """An empty screen under the modals (nothing of its own shows through)."""

    def __init__(self, commands: list[PaletteCommand]) -> None:
        super().__init__()
        self.commands = commands

    def palette_commands(self) -> list[PaletteCommand]:
        return self.commands


def benign_like(value: str) -> str:
    """Plain letters in the shape ``value`` is drawn in (same cells, same spaces), so a
    modal lays out (wraps, scrolls) the same for both and only markup could differ."""
    from rich.cells import cell_len

    return "".join(c if c.isspace() else "x" * cell_len(c) for c in printable(value))


def screens_for(s: Sequence[str]) -> list[Callable[[], Screen[Any]]]:
    members = [MemberChoice(1, s[0], "health"), MemberChoice(2, s[1], "police")]
    return [
        lambda: ConfirmScreen(s[0], s[1], yes=s[2], no=s[3]),
        lambda: ChoiceScreen(s[0], [("a", s[1]), ("b", s[2])], note=s[3]),
        lambda: ReasonScreen(s[0], s[1]),  # (its placeholder is our words, never user text)
        lambda: NoticeScreen(s[0], s[1]),
        lambda: ErrorScreen(s[0], s[1], s[2]),
        lambda: ActionScreen(s[3], members, TODAY, {"health": s[4], "police": s[5]}),
    ]


def whole_screen_strips(app: App[Any]) -> list[Strip]:
    """The screen as the terminal gets it (the top screen over those showing through)."""
    visible_screen_stack.set(app._background_screens)
    # Each line comes as the strips of its parts (chops), left to right.
    return [Strip.join(list(line))
            for line in app.screen._compositor.render_full_update().strips]


def whole_screen(app: App[Any]) -> Seen:
    return seen_in(whole_screen_strips(app))


async def each_screen(pilot: Pilot[None], strings: Sequence[str]) -> list[Seen]:
    app = pilot.app
    seen = []
    for make in screens_for(strings):
        await app.push_screen(make())
        await pilot.pause()
        seen.append(whole_screen(app))
        await app.pop_screen()
    return seen


async def palette_seen(pilot: Pilot[None], name: str, help_text: str) -> Seen:
    app = pilot.app
    base = app.screen
    assert isinstance(base, Base)
    base.commands = [PaletteCommand(f"case: open {name}", help_text, lambda: None)]
    await pilot.press("ctrl+p")
    await settle(pilot)
    seen = whole_screen(app)
    assert "case: open" in seen.text, "the command is listed"
    await pilot.press("escape")
    await settle(pilot)
    return seen


class PaletteProbe(AnchorApp):
    """The real app (its palette provider and styles) with an empty screen on top."""


@pytest.mark.slow(seconds=20)
@settings(max_examples=SCREEN_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(strings=st.lists(hostile, min_size=6, max_size=6))
async def test_no_modal_or_palette_interprets_user_text(
        screens_app: Pilot[None], strings: list[str]) -> None:
    benign = await each_screen(screens_app, [benign_like(value) for value in strings])
    names = [type(make()).__name__ for make in screens_for(strings)]
    for name, hostile_seen, benign_seen in zip(
            names, await each_screen(screens_app, strings), benign, strict=True):
        try:
            assert_inert(hostile_seen, benign_seen)
        except AssertionError as error:
            raise AssertionError(f"{name}: {error}") from None
    benign_palette = await palette_seen(screens_app, benign_like(strings[0]),
                                        benign_like(strings[1]))
    try:
        assert_inert(await palette_seen(screens_app, strings[0], strings[1]), benign_palette)
    except AssertionError as error:
        raise AssertionError(f"CommandPalette: {error}") from None


@pytest.fixture
async def screens_app(make_app: AppFactory) -> AsyncIterator[Pilot[None]]:
    app = make_app(PaletteProbe)
    async with app.run_test(size=(100, 40)) as pilot:
        await app.push_screen(Base([]))
        await pilot.pause()
        yield pilot


@settings(max_examples=SCREEN_EXAMPLES, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow])
@given(name=hostile)
async def test_the_lock_screen_shows_a_hostile_staff_name_inert(
        screens_app: Pilot[None], name: str) -> None:
    app = screens_app.app
    assert isinstance(app, AnchorApp)

    def lock_for(display_name: str) -> LockScreen:
        person = Viewer(1, "someone", display_name, "police", "member")
        return LockScreen(app.backend, app.settings, app.clock, TerminalSession(person))

    results = []
    for display_name in (benign_like(name), name):
        await app.push_screen(lock_for(display_name))
        await screens_app.pause()
        results.append(whole_screen(app))
        await app.pop_screen()
    assert_inert(results[1], results[0])
