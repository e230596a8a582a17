"""A note's revisions, oldest first: what each said, who wrote it and when; and the
picker of the note whose revisions to show.

Only the revisions the viewer may see (``services.notes.note_history``); one they may
not see leaves no trace. Text is shown plain, as in the timeline.

Both follow a change while they are open, as the case view does: on ``CasesChanged``
for their case they read again what the viewer may see now. A consent withdrawn on
another terminal takes the revisions (or the notes offered) it let through off the
screen at once; what is still shown keeps its place, and a screen left with nothing to
show closes.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Static
from textual.worker import get_current_worker

from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.messages import CasesChanged
from anchor_tui.screens.modal import AnchorModal, Host
from anchor_tui.screens.prompt import CaseChoiceScreen
from anchor_tui.services.case_view import NoteEntry
from anchor_tui.services.clock import moment_on
from anchor_tui.services.disclosure import visible_notes
from anchor_tui.services.notes import note_history
from anchor_tui.widgets.case_record import note_content


class RevisionsRead(Message):
    """A note's revisions were read again for ``viewer`` (empty: none may be shown)."""

    def __init__(self, viewer: Viewer, entries: tuple[NoteEntry, ...]) -> None:
        super().__init__()
        self.viewer = viewer
        self.entries = entries


def _title(count: int) -> str:
    return f"Note history: {count} revision{'s' if count != 1 else ''}"


class NoteHistoryScreen(AnchorModal[None]):
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

    def __init__(self, case_id: int, note_id: int, entries: tuple[NoteEntry, ...]) -> None:
        super().__init__()
        self.case_id = case_id
        self.note_id = note_id
        """The note chosen: its revisions are read again from it, or from any of them
        still shown if it is not."""
        self.entries = entries

    def compose(self) -> ComposeResult:
        with Vertical(id="history-box", classes="modal-box"):
            yield Static(_title(len(self.entries)), id="history-title", classes="modal-title")
            with VerticalScroll(id="history-scroll"):
                for entry in self.entries:
                    yield _revision(entry)
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

    # --- following a change -------------------------------------------------------------

    def on_cases_changed(self, message: CasesChanged) -> None:
        if message.touches(self.case_id):
            self.read_again()

    @work(thread=True, exclusive=True, group="note-history", exit_on_error=False)
    def read_again(self) -> None:
        host = cast(Host, self.app)
        viewer = host.viewer
        if viewer is None:
            return
        now = moment_on(host.today())
        entries: tuple[NoteEntry, ...] = ()
        # From the note chosen; if the viewer may no longer see it, from the nearest
        # revision still shown, newer ones first (the note as it stands now). A revision
        # hidden now splits the chain for the viewer, as in the timeline: the revisions
        # on its other side are, for them, another note's.
        shown = [e.note_id for e in self.entries]
        at = shown.index(self.note_id) if self.note_id in shown else -1
        nearest = [*shown[at + 1:], *reversed(shown[:at])] if at >= 0 else shown[::-1]
        for note_id in dict.fromkeys([self.note_id, *nearest]):
            try:
                entries = note_history(host.backend, viewer, note_id, now)
            except AnchorError:
                continue  # not there for this viewer now
            break
        if not get_current_worker().is_cancelled:
            self.post_message(RevisionsRead(viewer, entries))

    async def on_revisions_read(self, message: RevisionsRead) -> None:
        if message.viewer != cast(Host, self.app).viewer:
            return  # read for someone else: never shown here
        if not message.entries:
            self.dismiss(None)
            return
        if message.entries == self.entries:
            return
        self.entries = message.entries
        scroll = self.query_one("#history-scroll", VerticalScroll)
        place = self._place(scroll)
        with self.app.batch_update():
            await scroll.remove_children()
            await scroll.mount_all([_revision(entry) for entry in message.entries])
            self.query_one("#history-title", Static).update(_title(len(message.entries)))
        if place is not None:
            scroll.call_after_refresh(self._keep_place, scroll, *place)

    @staticmethod
    def _place(scroll: VerticalScroll) -> tuple[list[int], float] | None:
        """Where the person is: the revisions from the topmost one in view on (to find
        the first of them still there), and how far down that one they have scrolled."""
        top = scroll.scroll_y
        revisions = [(w, w.virtual_region.y) for w in scroll.query(".revision")]
        at = next((i for i, (w, y) in enumerate(revisions)
                   if y + w.virtual_region.height > top), None)
        if at is None:
            return None
        ids = [int(str(w.id).removeprefix("revision-")) for w, _ in revisions[at:]]
        return ids, top - revisions[at][1]

    def _keep_place(self, scroll: VerticalScroll, ids: list[int], offset: float) -> None:
        """Scroll back to the first revision still shown of those that were in view."""
        for note_id in ids:
            found = scroll.query(f"#revision-{note_id}")
            if found:
                y = found.first().virtual_region.y + (offset if note_id == ids[0] else 0)
                scroll.scroll_to(y=y, animate=False)
                return
        scroll.scroll_end(animate=False)  # every one of them went: the newest ones


def _revision(entry: NoteEntry) -> Static:
    return Static(note_content(entry), id=f"revision-{entry.note_id}", classes="revision")


class NotePickerScreen(CaseChoiceScreen):
    """The notes of a case offered for their history (each by its first line)."""

    def __init__(self, case_id: int, choices: Sequence[tuple[str, str]]) -> None:
        super().__init__(case_id, "History of which note?", choices)

    def still_offered(self, host: Host, viewer: Viewer) -> frozenset[str]:
        shown = visible_notes(host.backend, viewer, [int(v) for v, _ in self.choices],
                              moment_on(host.today()))
        return frozenset(str(note_id) for note_id in shown)
