"""The triage queue (``t`` on the board): what waits for the signed-in person, in sections
as gh-dash has them: new notifications to screen, tasks assigned to me (overdue first),
input asked of my profession, consents ending within 14 days, reviews due.

The bar at the top names every section with its count (SQL counts over what the viewer
may see, from ``services.queue``); the list shows the current section's items. Keys:
up/down or j/k move in a section, left/right or h/l (or 1-5) change section, ``]`` and
``[`` go to the next or previous item across sections, Enter opens the case; ``t``
take, ``a`` assign, ``z`` snooze, ``s`` screening decision (see ``queue_actions``).
After every change the queue is read again and the person keeps their place: the same
item if it is still there, otherwise the one that took its place.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Iterable
from functools import partial

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import Static
from textual.worker import Worker, WorkerState, get_current_worker

from anchor_tui.domain import QUEUE_SECTIONS, QueueItem, QueueSection, Viewer
from anchor_tui.messages import CasesChanged
from anchor_tui.palette import PaletteCommand
from anchor_tui.screens.base import AnchorScreen
from anchor_tui.screens.queue_actions import QueueActions
from anchor_tui.services.backend import Backend
from anchor_tui.services.queue import PER_SECTION, queue_sections
from anchor_tui.widgets.key_footer import KeyFooter
from anchor_tui.widgets.plain_text import plain
from anchor_tui.widgets.queue_list import (
    SHORT_LABELS,
    QueueList,
    SectionBar,
    bar_content,
    item_key,
    section_title,
)

NEAR_END = 3
"""Read more of a section when the highlight comes this close to its last item."""

Place = tuple[str, tuple[object, ...] | None, int]
"""Where the person is: section id, the highlighted item's key, its index."""


class QueueRead(Message):
    """The queue was read for ``viewer``."""

    def __init__(self, viewer: Viewer, sections: tuple[QueueSection, ...]) -> None:
        super().__init__()
        self.viewer = viewer
        self.sections = sections


class QueueScreen(QueueActions, AnchorScreen):
    """One person's triage queue."""

    HELP = ("Your triage queue, in sections: new notifications to screen, your tasks "
            "(overdue first), input asked of your profession, consents ending within 14 "
            "days and reviews due. Left/right or h/l (or 1-5) change section, ] and [ go "
            "to the next or previous item across sections. Enter opens the case; n writes "
            "a note on it; t takes it, a assigns its lead or a task, z snoozes it in your "
            "queue with a reason, s records the screening decision. The queue is read "
            "again when another terminal changes a case. Esc goes back to the board.")

    DEFAULT_CSS = """
    QueueScreen #queue-header { height: 1; background: $panel; padding: 0 1; }
    QueueScreen #queue-name { width: auto; text-style: bold; }
    QueueScreen #queue-status { width: 1fr; color: $text-muted; content-align: center middle; }
    QueueScreen #queue-viewer { width: auto; }
    QueueScreen #queue-title { height: 1; padding: 0 1; }
    QueueScreen #queue-empty { height: 1fr; padding: 1 2; color: $text-muted; }
    QueueScreen #queue-empty.-hidden, QueueScreen QueueList.-hidden { display: none; }
    """

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("up,k", "move(-1)", "Up", show=False, id="queue.up"),
        Binding("down,j", "move(1)", "Down", show=False, id="queue.down"),
        Binding("home", "move_to_end(-1)", "First", show=False, id="queue.first"),
        Binding("end", "move_to_end(1)", "Last", show=False, id="queue.last"),
        Binding("left,h", "section(-1)", "Previous section", show=False,
                id="queue.previous_section"),
        Binding("right,l", "section(1)", "Next section", show=False, id="queue.next_section"),
        *(Binding(str(n), f"jump({n - 1})", SHORT_LABELS[s], show=False, id=f"queue.{s}")
          for n, s in enumerate(QUEUE_SECTIONS, start=1)),
        Binding("right_square_bracket", "next_item(1)", "Next item", key_display="]",
                show=False, id="queue.next"),
        Binding("left_square_bracket", "next_item(-1)", "Previous item", key_display="[",
                show=False, id="queue.previous"),
        Binding("enter", "open_case", "Open", id="queue.open"),
        Binding("n", "new_note", "New note", id="note.new"),
        Binding("t", "take", "Take", id="queue.take"),
        Binding("a", "assign", "Assign", id="queue.assign"),
        Binding("z", "snooze", "Snooze", id="queue.snooze"),
        Binding("s", "screened", "Screened", id="queue.screened"),
        Binding("r", "refresh_queue", "Refresh", id="queue.refresh"),
        Binding("escape", "back", "Board", id="queue.back"),
    ]

    def __init__(self, backend: Backend, viewer: Viewer, today: Callable[[], dt.date]) -> None:
        super().__init__()
        self._backend = backend
        self.viewer = viewer
        self._today = today
        self.sections: tuple[QueueSection, ...] = ()
        self.current = 0
        """Index of the section shown."""
        self.limits: dict[str, int] = {}
        """How many items to read of a section the person went down (default PER_SECTION)."""
        self.changed = False
        """Something was changed from this queue (the board reads itself again)."""
        self._read_once = False

    def compose(self) -> ComposeResult:
        profession = self._backend.policy.professions.get(
            self.viewer.profession, self.viewer.profession)
        with Horizontal(id="queue-header"):
            yield Static("Triage queue", id="queue-name")
            yield Static("Reading the queue…", id="queue-status")
            yield Static(plain(f"{self.viewer.display_name} · {profession}"), id="queue-viewer")
        yield SectionBar("", id="queue-bar")
        yield Static("", id="queue-title")
        yield QueueList(id="queue-list")
        yield Static("", id="queue-empty", classes="-hidden")
        yield KeyFooter()

    def on_screen_resume(self) -> None:
        """Read the queue when it opens and whenever it is shown again (a case may have
        changed while it was open)."""
        self.load_queue()

    # --- reading ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="queue", exit_on_error=False)
    def load_queue(self) -> None:
        sections = queue_sections(self._backend, self.viewer, self._today(),
                                  limits=dict(self.limits))
        if not get_current_worker().is_cancelled:
            self.post_message(QueueRead(self.viewer, sections))

    def on_cases_changed(self, _message: CasesChanged) -> None:
        """Another terminal changed cases: read again, keeping the person's place (a
        queue under another screen reads again when it is shown)."""
        if self.is_current:
            self.load_queue()

    def action_refresh_queue(self) -> None:
        self._status("Reading the queue…")
        self.load_queue()

    def _status(self, text: str) -> None:
        self.query_one("#queue-status", Static).update(plain(text))

    def on_queue_read(self, message: QueueRead) -> None:
        if message.viewer != self.viewer:
            return  # read for someone else: never shown here
        place = self._here() if self.sections else None
        self.sections = message.sections
        if not self._read_once:
            self._read_once = True
            self.current = next((i for i, s in enumerate(self.sections) if s.items), 0)
        elif place is not None:
            ids = [s.id for s in self.sections]
            self.current = ids.index(place[0]) if place[0] in ids else 0
        self._status("")
        self._show(self._index_for(place))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state != WorkerState.ERROR:
            return
        if event.worker.group == "queue":
            self._status("Not read: press r to try again")
        elif event.worker.group in ("queue-change", "queue-prepare"):
            self.load_queue()  # show the queue as it is now (e.g. after a conflict)

    def _index_for(self, place: Place | None) -> int:
        if place is None or not self.sections:
            return 0
        items = self.section.items
        keys = [item_key(item) for item in items]
        if place[1] in keys:
            return keys.index(place[1])
        return place[2]  # the item is gone: the one that took its place

    def _here(self) -> Place:
        item = self.current_item()
        return (self.section.id, item_key(item) if item else None, self._list().highlighted or 0)

    # --- showing ------------------------------------------------------------------------

    @property
    def section(self) -> QueueSection:
        return self.sections[self.current]

    def _list(self) -> QueueList:
        return self.query_one("#queue-list", QueueList)

    def _show(self, index: int = 0) -> None:
        if not self.sections:
            return
        section = self.section
        self.query_one("#queue-bar", SectionBar).update(bar_content(self.sections, self.current))
        self.query_one("#queue-title", Static).update(section_title(section))
        queue_list = self._list()
        queue_list.show(section.items, self._backend.team, self._today(), index)
        empty = self.query_one("#queue-empty", Static)
        empty.update(f"Nothing waiting in “{section.label}”. "
                     "Left/right (h/l) shows the other sections.")
        empty.set_class(bool(section.items), "-hidden")
        queue_list.set_class(not section.items, "-hidden")
        queue_list.focus()
        self.refresh_bindings()

    def current_item(self) -> QueueItem | None:
        if not self.sections:
            return None
        index = self._list().highlighted
        items = self.section.items
        return items[index] if index is not None and 0 <= index < len(items) else None

    # --- moving -------------------------------------------------------------------------

    def action_move(self, step: int) -> None:
        items = self.section.items if self.sections else ()
        if not items:
            return
        now = self._list().highlighted or 0
        self._highlight(max(0, min(now + step, len(items) - 1)))

    def action_move_to_end(self, step: int) -> None:
        if self.sections and self.section.items:
            self._highlight(0 if step < 0 else len(self.section.items) - 1)

    def _highlight(self, index: int) -> None:
        queue_list = self._list()
        queue_list.highlighted = index
        queue_list.scroll_to_highlight()
        self.refresh_bindings()
        section = self.section
        if index >= len(section.items) - 1 - NEAR_END and section.total > len(section.items):
            wanted = len(section.items) + PER_SECTION
            if self.limits.get(section.id, PER_SECTION) < wanted:
                self.limits[section.id] = wanted
                self.load_queue()

    def action_section(self, step: int) -> None:
        if self.sections:
            self.action_jump((self.current + step) % len(self.sections))

    def action_jump(self, index: int) -> None:
        if 0 <= index < len(self.sections):
            self.current = index
            self._show(0)

    def action_next_item(self, step: int) -> None:
        """The next (or previous) item, going on into the next section with items."""
        if not self.sections:
            return
        items = self.section.items
        index = self._list().highlighted
        if items and index is not None and 0 <= index + step < len(items):
            self._highlight(index + step)
            return
        for offset in range(1, len(self.sections)):
            other = self.current + step * offset
            if not 0 <= other < len(self.sections):
                break
            if self.sections[other].items:
                self.current = other
                self._show(0 if step > 0 else len(self.sections[other].items) - 1)
                return
        where = "end" if step > 0 else "start"
        self.notify(f"That is the {where} of your queue.", title="Queue")

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        if action in ("open_case", "take", "assign", "snooze", "screened"):
            return True if self.current_item() is not None else None
        return True

    def on_option_list_option_highlighted(self, event: QueueList.OptionHighlighted) -> None:
        self.refresh_bindings()

    def on_option_list_option_selected(self, event: QueueList.OptionSelected) -> None:
        event.stop()  # a click on an item: open it, as Enter does
        self.action_open_case()

    # --- opening and leaving ------------------------------------------------------------

    def action_open_case(self) -> None:
        item = self.current_item()
        if item is not None:
            self.open_case(item.case_id)

    def open_case(self, case_id: int) -> None:
        from anchor_tui.screens.case import CaseScreen

        self.app.push_screen(CaseScreen(case_id))

    def action_new_note(self) -> None:
        """A note on the highlighted item's case (the queue is read again afterwards)."""
        item = self.current_item()
        if item is not None:
            from anchor_tui.screens.note_editor import open_note_editor

            open_note_editor(self.app, item.case_id)

    def action_back(self) -> None:
        self.dismiss()

    # --- the command palette -------------------------------------------------------------

    def palette_commands(self) -> Iterable[PaletteCommand]:
        yield PaletteCommand("queue: next", "The next item, into the next section (])",
                             partial(self.action_next_item, 1))
        yield PaletteCommand("queue: previous", "The previous item ([)",
                             partial(self.action_next_item, -1))
        yield PaletteCommand("queue: next section", "Show the next section (→ or l)",
                             partial(self.action_section, 1))
        yield PaletteCommand("queue: previous section", "Show the previous section (← or h)",
                             partial(self.action_section, -1))
        for index, section in enumerate(self.sections):
            yield PaletteCommand(f"queue: section {section.label}",
                                 f"{section.total} waiting ({index + 1})",
                                 partial(self.action_jump, index))
        item = self.current_item()
        if item is not None:
            for name, help_text, action in (
                ("open case", "Open the highlighted case (Enter)", self.action_open_case),
                ("new note", "Write a note on the highlighted case (n)",
                 self.action_new_note),
                ("take", "Work the highlighted case, or lead it (t)", self.action_take),
                ("assign", "Choose the case's lead or give its task to someone (a)",
                 self.action_assign),
                ("snooze", "Hide the case from your queue for a while, with a reason (z)",
                 self.action_snooze),
                ("mark screened", "Take the case on or not, with a reason (s)",
                 self.action_screened),
            ):
                yield PaletteCommand(f"queue: {name}", help_text, action)
        yield PaletteCommand("queue: refresh", "Read the queue again (r)",
                             self.action_refresh_queue)
        yield PaletteCommand("queue: back to the board", "Close the queue (Esc)",
                             self.action_back)
        team = self._backend.team
        for shown in (self.section.items if self.sections else ()):
            yield PaletteCommand(
                f"case: open {shown.person_label} #{shown.case_id}",
                f"{team.category_label(shown.category)} · {team.stage_label(shown.stage)}",
                partial(self.open_case, shown.case_id), discover=False)
