"""The case view: person summary, notes timeline, history, tasks, consents and members.

``CaseScreen(case_id)`` takes the backend, the viewer and the calendar from the app, so
any screen can open it (board, queue, palette, search). The case is read in a thread
worker (``services.case_view.open_case``); the timeline shows the newest notes first
and reads the next page when it is scrolled to its end (or on ``m``). Everything shown
was loaded for this screen's viewer; sign-out drops the screen.
"""

from __future__ import annotations

import asyncio
import datetime as dt
from collections.abc import Callable, Iterable
from contextlib import AbstractContextManager
from functools import partial
from typing import Protocol, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import VerticalScroll
from textual.content import Content
from textual.message import Message
from textual.widget import Widget
from textual.widgets import ContentSwitcher, Static
from textual.worker import get_current_worker

from anchor_tui.domain import Viewer
from anchor_tui.messages import CasesChanged
from anchor_tui.palette import PaletteCommand
from anchor_tui.screens.base import AnchorScreen
from anchor_tui.screens.case_work import CaseWork
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_view import (
    NOTE_PAGE,
    CaseRecord,
    NoteCursor,
    NoteEntry,
    NotePage,
    more_notes,
    open_case,
)
from anchor_tui.services.clock import moment_on
from anchor_tui.widgets.case_record import (
    CaseTabs,
    NotesTimeline,
    consents_content,
    history_content,
    members_content,
    summary_content,
    tasks_content,
    title_content,
)
from anchor_tui.widgets.key_footer import KeyFooter

TABS = ("notes", "history", "tasks", "consents", "members")
NOTES_AT_ONCE = 12
"""Notes drawn at first: more than a tall terminal shows; the rest of the page read is
drawn as the timeline is scrolled (drawing 50 long notes at once took most of the time
to open a case)."""


class AppHost(Protocol):
    """What a screen opened from anywhere needs from the app (``AnchorApp``)."""

    backend: Backend
    viewer: Viewer | None
    today: Callable[[], dt.date]


class CaseRead(Message):
    """A case was read for ``viewer``."""

    def __init__(self, viewer: Viewer, record: CaseRecord) -> None:
        super().__init__()
        self.viewer = viewer
        self.record = record


class NotesRead(Message):
    """The next page of a case's notes was read for ``viewer``."""

    def __init__(self, viewer: Viewer, case_id: int, page: NotePage, record: int) -> None:
        super().__init__()
        self.viewer = viewer
        self.case_id = case_id
        self.page = page
        self.record = record
        """Which reading of the case the page follows (``CaseScreen._records``)."""


def _resolve(future: asyncio.Future[CaseRead | None], read: CaseRead | None) -> None:
    if not future.done():
        future.set_result(read)


class CaseScreen(CaseWork, AnchorScreen):
    """One case, as the signed-in viewer may see it (notes, tasks and edits: CaseWork)."""

    HELP = ("One case as you may see it: the person, the stage and lead, then its parts. "
            "1 notes (newest first; scroll down or press m for older ones), 2 history of "
            "changes, 3 tasks, 4 consents, 5 members (where your profession sees them). "
            "j/k or the arrows scroll, r reads the case again, Esc goes back.")

    DEFAULT_CSS = """
    CaseScreen #case-title { height: 1; background: $panel; padding: 0 1; }
    CaseScreen #case-summary { height: auto; max-height: 5; padding: 0 1; }
    CaseScreen #case-tabs { height: 1; padding: 0 1; background: $panel; }
    CaseScreen #case-parts { height: 1fr; }
    CaseScreen .case-pane { height: 1fr; padding: 0 1; }
    """

    FIRST_READ_WAIT = 0.3
    """Seconds the screen waits for the case's first read before it is first drawn."""

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "back", "Back", id="case.back"),
        Binding("1", "tab('notes')", "Notes", id="case.notes"),
        Binding("2", "tab('history')", "History", id="case.history"),
        Binding("3", "tab('tasks')", "Tasks", id="case.tasks"),
        Binding("4", "tab('consents')", "Consents", id="case.consents"),
        Binding("5", "tab('members')", "Members", id="case.members"),
        Binding("down,j", "scroll(1)", "Down", show=False, id="case.down"),
        Binding("up,k", "scroll(-1)", "Up", show=False, id="case.up"),
        Binding("m", "more_notes", "More notes", show=False, id="case.more_notes"),
        Binding("r", "refresh_case", "Refresh", id="case.refresh"),
        Binding("c", "consents_manage", "Consents…", id="case.consents_manage"),
    ]

    def __init__(self, case_id: int) -> None:
        super().__init__()
        self.case_id = case_id
        self.record: CaseRecord | None = None
        self._more: NoteCursor | None = None
        self._reading_more = False
        self._records = 0
        """How many times the case was read (shown): a page of older notes read before
        the last reading (a consent withdrawn since) is never added to it."""
        self._undrawn: list[NoteEntry] = []
        """Notes read but not drawn yet (drawn ``NOTES_AT_ONCE`` at a time)."""
        self.active_tab = "notes"
        """The part of the case shown (one of ``TABS``)."""
        self._first_read: asyncio.Future[CaseRead | None] | None = None
        """The first read, while ``on_mount`` waits for it (resolved from the worker)."""
        self._hold: AbstractContextManager[None] | None = None
        """Screen updates held from compose until the first read is shown."""

    @property
    def host(self) -> AppHost:
        return cast(AppHost, self.app)

    def compose(self) -> ComposeResult:
        yield Static(f"Reading case {self.case_id}…", id="case-title")
        yield Static("", id="case-summary")
        yield CaseTabs(id="case-tabs")
        # One scroll per part, one widget in each: the light form of tabs (a
        # TabbedContent and a widget per note took most of the time to open a case).
        # Only the notes are composed now; each other part when it is first shown
        # (``_part_pane``): composing, styling and laying out parts nobody looks at
        # was a good share of opening a case.
        with ContentSwitcher(id="case-parts", initial="notes-scroll"):
            # The notes scroll themselves (one virtual widget: only what shows is drawn).
            yield NotesTimeline(id="notes-scroll", classes="case-pane")
        yield KeyFooter()

    def on_compose(self) -> None:
        # Textual draws a screen's changes on a frame timer, started the first time the
        # screen has something to draw, whose first tick comes a whole frame (1/60 s)
        # later: the case is drawn once when shown, its widgets then ask to be drawn
        # again after their first layout, and that second draw waited those 17 ms (of
        # the 50 ms it took to open the case with 100 notes). Started as the screen
        # composes (nothing is drawn while the first read is waited for, below), the
        # timer has run its first frame by then. (Textual's own attribute: if a later
        # Textual has none, nothing is done.) Not for every screen: the board after
        # sign-in, which shows its columns when they are read, was drawn once more.
        timer = getattr(self, "_update_timer", None)
        if timer is not None:
            timer.resume()
        # Nothing is drawn from here until the first read is shown (or a slow one given
        # up on, below): the screen is current from the moment it is pushed, and a frame
        # during its mount drew "Reading case…" for a read of a frame or two (seen on a
        # loaded host). Released in ``on_mount``, when it unmounts, and in any case
        # after the longest wait (a hold left over would stop the app drawing).
        self._hold = self.app.batch_update()
        self._hold.__enter__()
        self.set_timer(self.FIRST_READ_WAIT + 1.0, self._release_hold)

    def _release_hold(self) -> None:
        hold, self._hold = self._hold, None
        if hold is not None:
            hold.__exit__(None, None, None)

    def on_unmount(self) -> None:
        self._release_hold()

    async def on_mount(self) -> None:
        try:
            await self._show_first_read()
        finally:
            self._release_hold()

    async def _show_first_read(self) -> None:
        self._show_tabs()
        self.watch(self.query_one(NotesTimeline), "scroll_y", self._scrolled, init=False)
        if self.host.viewer is None:
            return
        # The first read, waited for here (at most FIRST_READ_WAIT) before the screen is
        # laid out and drawn: drawn once, with the case, instead of drawn with "Reading
        # case…" and laid out again when the read comes. A slower read is shown when it
        # comes, as any later one is (its message).
        first: asyncio.Future[CaseRead | None] = asyncio.get_running_loop().create_future()
        self._first_read = first
        self.load_case()
        try:
            read = await asyncio.wait_for(asyncio.shield(first), self.FIRST_READ_WAIT)
        except TimeoutError:
            return
        if read is not None:
            await self.on_case_read(read)

    # --- reading ----------------------------------------------------------------------

    def on_cases_changed(self, message: CasesChanged) -> None:
        """This case changed, or anything may have (a consent, on any terminal): read it
        again, as far down the notes as the person has read. A consent withdrawn takes
        the notes it let through off this screen at once, not when it is next opened."""
        if message.touches(self.case_id) and self.record is not None:
            timeline = self.query_one(NotesTimeline)
            self.load_case(len(timeline.notes) + len(self._undrawn))

    @work(thread=True, exclusive=True, group="case", exit_on_error=False)
    def load_case(self, notes_read: int = 0) -> None:
        first, self._first_read = self._first_read, None
        read: CaseRead | None = None
        try:
            viewer = self.host.viewer
            if viewer is None:
                return
            record = open_case(self.host.backend, viewer, self.case_id,
                               page_size=max(NOTE_PAGE, notes_read),
                               now=moment_on(self.host.today()))
            if not get_current_worker().is_cancelled:
                read = CaseRead(viewer, record)
                self.post_message(read)
        finally:
            if first is not None:  # on_mount waits for it (None: nothing to show now)
                first.get_loop().call_soon_threadsafe(_resolve, first, read)

    @work(thread=True, exclusive=True, group="case-notes", exit_on_error=False)
    def load_more(self, after: NoteCursor, record: int) -> None:
        viewer = self.host.viewer
        if viewer is None:
            return
        page = more_notes(self.host.backend, viewer, self.case_id, after,
                          now=moment_on(self.host.today()))
        if not get_current_worker().is_cancelled:
            self.post_message(NotesRead(viewer, self.case_id, page, record))

    async def on_case_read(self, message: CaseRead) -> None:
        if message.viewer != self.host.viewer:
            return  # read for someone else: never shown here
        record = message.record
        if record is self.record:
            return  # shown already, before the first draw (on_mount)
        self.record = record
        # Read again (a change: a consent withdrawn, a new day): a page of older notes
        # asked for before is of the reading before, and never added to this one.
        self._records += 1
        self._reading_more = False
        self.workers.cancel_group(self, "case-notes")
        today = self.host.today()
        self.query_one("#case-title", Static).update(title_content(record.summary))
        self.query_one("#case-summary", Static).update(summary_content(record.summary, today))
        for tab in TABS[1:]:  # the parts composed so far (the others read it when shown)
            for text in self.query(f"#{tab}-text").results(Static):
                text.update(self._part_content(tab))
        if record.members is None and self.active_tab == "members":
            self.action_tab("notes")  # no longer a case field for this viewer
        self._show_tabs()
        scroll = self.query_one(f"#{self.active_tab}-scroll")
        place = scroll.scroll_y  # read again (a change): the person stays where they were
        self.query_one(NotesTimeline).notes = ()
        self._undrawn = []
        self._show_page(record.notes)
        scroll.focus()
        if place:
            self.call_after_refresh(scroll.scroll_to, y=place, animate=False)

    async def on_notes_read(self, message: NotesRead) -> None:
        if message.viewer != self.host.viewer or message.case_id != self.case_id \
                or message.record != self._records:
            return
        self._reading_more = False
        self._show_page(message.page)

    def _show_page(self, page: NotePage) -> None:
        self._undrawn.extend(page.notes)
        self._more = page.more
        self._draw_notes()

    def _draw_notes(self) -> None:
        timeline = self.query_one(NotesTimeline)
        batch, self._undrawn = self._undrawn[:NOTES_AT_ONCE], self._undrawn[NOTES_AT_ONCE:]
        timeline.show(timeline.notes + tuple(batch),
                      more=bool(self._undrawn) or self._more is not None)

    def _part_content(self, tab: str) -> Content:
        """What part ``tab`` (not the notes) shows of the case read (nothing before)."""
        record = self.record
        if record is None:
            return Content("")
        if tab == "history":
            return history_content(record.history)
        if tab == "tasks":
            return tasks_content(record.tasks, self.host.today())
        if tab == "consents":
            return consents_content(record.consents)
        return members_content(record.members) if record.members is not None else Content("")

    def _part_pane(self, tab: str) -> Widget:
        """The scroll of part ``tab``, composed and mounted the first time it is shown
        (hidden until the switcher shows it). Mounting registers it at once: the switcher
        can show it and it can take focus in the same handler."""
        switcher = self.query_one(ContentSwitcher)
        for pane in switcher.query_children(f"#{tab}-scroll"):
            return pane
        pane = VerticalScroll(Static(self._part_content(tab), id=f"{tab}-text"),
                              id=f"{tab}-scroll", classes="case-pane")
        pane.display = False
        switcher.mount(pane)
        return pane

    def _present_tabs(self) -> tuple[str, ...]:
        """The parts this viewer may see (members only where they are a case field)."""
        if self.record is not None and self.record.members is None:
            return TABS[:-1]
        return TABS

    def _show_tabs(self) -> None:
        self.query_one(CaseTabs).show(self.active_tab, self._present_tabs())

    def _scrolled(self, scroll_y: float) -> None:
        scroll = self.query_one(NotesTimeline)
        if scroll.max_scroll_y and scroll_y >= scroll.max_scroll_y - 2:
            self.action_more_notes()

    # --- actions ----------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh_case(self) -> None:
        self._reading_more = False
        self.load_case()

    def action_more_notes(self) -> None:
        if self._undrawn:
            self._draw_notes()
        elif self._more is not None and not self._reading_more:
            self._reading_more = True
            self.load_more(self._more, self._records)

    def action_consents_manage(self) -> None:
        """The consent screen of this case's young person. A consent recorded or withdrawn
        there is saved through the app's save queue, which, once it is made, has every
        screen read again what it shows (``CasesChanged``): this one too, beneath it."""
        from anchor_tui.screens.consent import ConsentScreen

        self.app.push_screen(ConsentScreen(self.case_id))

    def action_tab(self, tab: str) -> None:
        if tab == "members" and (self.record is None or self.record.members is None):
            return
        pane = self._part_pane(tab)
        self.active_tab = tab
        self.query_one(ContentSwitcher).current = f"{tab}-scroll"
        self._show_tabs()
        pane.focus()

    def palette_commands(self) -> Iterable[PaletteCommand]:
        for index, tab in enumerate(TABS, start=1):
            if tab == "members" and (self.record is None or self.record.members is None):
                continue  # not a case field for this viewer: not offered either
            yield PaletteCommand(f"case: show {tab}", f"Show the case's {tab} ({index})",
                                 partial(self.action_tab, tab))
        yield PaletteCommand("case: more notes", "Read older notes (m)",
                             self.action_more_notes)
        yield PaletteCommand("case: refresh", "Read the case again (r)", self.action_refresh_case)
        yield PaletteCommand("case: back", "Close the case (Esc)", self.action_back)
        yield PaletteCommand("case: consents", "Record, withdraw and see the young "
                             "person's consents (c)", self.action_consents_manage)
        yield from super().palette_commands()  # notes, tasks and edits (CaseWork)

    def action_scroll(self, step: int) -> None:
        scroll = self.query_one(f"#{self.active_tab}-scroll")
        if step > 0:
            scroll.scroll_down(animate=False)
        else:
            scroll.scroll_up(animate=False)
