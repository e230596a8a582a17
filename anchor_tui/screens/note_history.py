"""A note's revisions, oldest first: what each said, who wrote it and when.

Only the revisions the viewer may see (``services.notes.note_history``); one they may
not see leaves no trace. Text is shown plain, as in the timeline.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Static

from anchor_tui.services.case_view import NoteEntry
from anchor_tui.widgets.case_record import note_content


class NoteHistoryScreen(ModalScreen[None]):
    HELP = "A note's revisions that you may see, oldest first. Esc closes."

    DEFAULT_CSS = """
    NoteHistoryScreen { align: center middle; background: $background 60%; }
    NoteHistoryScreen #history-scroll { height: 1fr; }
    NoteHistoryScreen .revision { margin-bottom: 1; }
    """

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape,q", "close", "Close", id="note_history.close"),
        Binding("down,j", "scroll(1)", "Down", show=False, id="note_history.down"),
        Binding("up,k", "scroll(-1)", "Up", show=False, id="note_history.up"),
    ]

    def __init__(self, entries: tuple[NoteEntry, ...]) -> None:
        super().__init__()
        self.entries = entries

    def compose(self) -> ComposeResult:
        count = len(self.entries)
        with Vertical(id="history-box", classes="modal-box"):
            yield Static(f"Note history: {count} revision{'s' if count != 1 else ''}",
                         classes="modal-title")
            with VerticalScroll(id="history-scroll"):
                for entry in self.entries:
                    yield Static(note_content(entry), classes="revision")
            yield Static("Esc closes · j/k scroll", classes="modal-hint")

    def on_mount(self) -> None:
        self.query_one("#history-scroll").focus()

    def action_scroll(self, step: int) -> None:
        scroll = self.query_one("#history-scroll", VerticalScroll)
        if step > 0:
            scroll.scroll_down(animate=False)
        else:
            scroll.scroll_up(animate=False)

    def action_close(self) -> None:
        self.dismiss(None)
