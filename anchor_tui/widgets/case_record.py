"""How the parts of a case read on screen: summary, notes, history, tasks, consents, members.

All user text goes through ``plain`` (never markup, control characters inert). Every
status is a word (``Overdue``, ``Superseded``, ``Withdrawn``); colour only repeats it.
Times are shown in the terminal's local time zone, as the team's calendar is.
"""

from __future__ import annotations

import datetime as dt

from rich.style import Style
from textual import events
from textual.content import Content
from textual.geometry import Size
from textual.scroll_view import ScrollView
from textual.strip import Strip
from textual.visual import Visual
from textual.widgets import Static

from anchor_tui.services.case_view import (
    CaseSummary,
    ConsentEntry,
    HistoryEntry,
    MemberEntry,
    NoteEntry,
    TaskEntry,
)
from anchor_tui.widgets.plain_text import plain
from anchor_tui.widgets.wrapped_stack import Stack, set_virtual_size, stack


def when(moment: dt.datetime) -> str:
    return moment.astimezone().strftime("%Y-%m-%d %H:%M")


def day(value: dt.date | None, missing: str = "—") -> str:
    return value.isoformat() if value is not None else missing


def title_content(summary: CaseSummary) -> Content:
    return Content.assemble(
        plain(summary.person_label, "bold"),
        f"  ·  case {summary.case_id}  ·  ",
        plain(summary.stage),
        f"  ·  {summary.priority.capitalize()} priority",
    )


def summary_content(summary: CaseSummary, today: dt.date) -> Content:
    person: list[Content] = []
    if summary.birth_date is not None:
        person.append(Content(f"Born {summary.birth_date.isoformat()}"))
    if summary.municipality is not None:
        person.append(plain(summary.municipality))
    person.append(plain(summary.category))
    if summary.next_review is None:
        review = Content("No review date")
    elif summary.next_review < today:
        review = Content.assemble((f"Review overdue {summary.next_review.isoformat()}",
                                   "bold $text-error"))
    else:
        review = Content(f"Review {summary.next_review.isoformat()}")
    state = [Content(f"Opened {when(summary.opened_at)[:10]}"), review]
    if summary.closed_at is not None:
        closed = f"Closed {when(summary.closed_at)[:10]}"
        state[1] = plain(f"{closed} ({summary.closed_reason})" if summary.closed_reason
                         else closed)
    if summary.lead is not None:
        state.append(Content.assemble("Lead ", plain(summary.lead)))
    lines = [Content(" · ").join(person), Content(" · ").join(state)]
    if summary.summary is not None:
        lines.append(plain(summary.summary, "italic"))
    return Content("\n").join(lines)


def note_content(note: NoteEntry) -> Content:
    header = Content.assemble(
        (when(note.created_at), "bold"), "  ", plain(note.author), " (", plain(note.profession),
        ")  ·  ", plain(note.category),
    )
    marks: list[Content] = []
    if note.corrects:
        marks.append(Content(f"Revision {note.revision}, corrects an earlier note"))
    if note.superseded:
        marks.append(Content.assemble(("Superseded by a later revision", "bold $text-warning")))
    if note.entered_in_error:
        reason = f": {note.error_reason}" if note.error_reason else ""
        marks.append(Content.assemble(("Entered in error", "bold $text-error"), plain(reason)))
    if note.erased:
        marks.append(Content("Text erased under the retention rules"))
    parts = [header]
    if marks:
        parts.append(Content(" · ").join(marks))
    parts.append(plain(note.body, "dim" if note.superseded or note.entered_in_error else "",
                       one_line=False))
    return Content("\n").join(parts)


class NotesTimeline(ScrollView, can_focus=True):
    """The notes drawn so far, newest first, and a last line saying whether more come:
    one virtual widget that scrolls itself, drawn a line at a time (Textual's line API).

    A widget per note took Textual longer to style and lay out than the notes took to
    read; one ``Static`` in a scroll still wrapped and drew every note on each layout,
    and laid the case out again once its scroll bar appeared. Here, as in the board's
    columns (``card_column``), the notes are values: each is wrapped once per width into
    strips (kept), and ``render_line`` draws only the lines on screen. A note's text is
    plain (``note_content``: never markup, control characters made visible).
    """

    def __init__(self, *, id: str | None = None, classes: str | None = None) -> None:
        super().__init__(id=id, classes=classes)
        self.notes: tuple[NoteEntry, ...] = ()
        """The notes shown, in order (only what the viewer may read)."""
        self._contents: list[Content] = []
        self._known: dict[NoteEntry, Content] = {}
        """The content of each note shown (kept when the next batch is added)."""
        self._footer = ""
        self._stack = Stack()
        """Where each note and the last line (``_footer``) start at the width laid out;
        one blank line between them."""
        self._laid_out_width = -1
        self._strips: dict[int, list[Strip]] = {}
        self._base_style: Style | None = None
        """The widget's own style (its background), kept until its styles change."""

    # --- what it shows ------------------------------------------------------------------

    def show(self, notes: tuple[NoteEntry, ...], more: bool) -> None:
        """Show ``notes`` (a note already shown keeps its content) and the last line."""
        self.notes = notes
        self._contents = [self._known.get(note) or note_content(note) for note in notes]
        self._known = dict(zip(notes, self._contents, strict=True))
        if more:
            self._footer = f"{len(notes)} notes shown. Scroll down or press m for older notes."
        elif notes:
            self._footer = f"All {len(notes)} notes shown."
        else:
            self._footer = "No notes."
        self._laid_out_width = -1
        self._strips.clear()
        self._ensure_layout()
        self.refresh()

    @property
    def contents(self) -> tuple[Content, ...]:
        """What each note says, in order (plain text where it is user text)."""
        return tuple(self._contents)

    @property
    def footer(self) -> str:
        """The last line (``12 notes shown. …``, ``All 5 notes shown.``, ``No notes.``)."""
        return self._footer

    @property
    def text(self) -> str:
        """All it shows, unwrapped, as the lines of the notes and the last line."""
        return "\n\n".join([*(content.plain for content in self._contents), self._footer])

    # --- layout -------------------------------------------------------------------------

    def _items(self) -> list[Content]:
        return [*self._contents, self._item(len(self._contents))]

    def _item(self, index: int) -> Content:
        if index < len(self._contents):
            return self._contents[index]
        return Content.styled(self._footer, "$text-muted")

    def _ensure_layout(self) -> None:
        self._layout_for(self.scrollable_content_region.width if self.is_attached else 0)

    @property
    def _end(self) -> int:
        """Lines in all (no blank line after the last)."""
        return max(0, self._stack.end - 1)

    def get_content_height(self, container: Size, viewport: Size, width: int) -> int:
        # (For ``height: auto``: every line at the width offered.)
        self._layout_for(width)
        return self._end

    def _layout_for(self, width: int) -> None:
        """Where each note starts: only the heights here (the text wrapped, not styled);
        a note is drawn when it first comes into view."""
        if width == self._laid_out_width:
            return
        self._laid_out_width = width
        self._strips.clear()
        self._stack = stack(self, self._items(), width, 1)
        set_virtual_size(self, Size(width, self._end))

    def on_resize(self, _event: events.Resize) -> None:
        self._ensure_layout()
        self.refresh()

    def notify_style_update(self) -> None:
        super().notify_style_update()
        self._strips.clear()
        self._base_style = None

    # --- drawing ------------------------------------------------------------------------

    def _item_strips(self, index: int) -> list[Strip]:
        cached = self._strips.get(index)
        if cached is not None:
            return cached
        width = max(1, self._laid_out_width)
        strips = Visual.to_strips(self, self._item(index), width, None,
                                  self.visual_style, pad=True)
        self._strips[index] = strips = strips[:self._stack.heights[index]]
        return strips

    def render_line(self, y: int) -> Strip:
        # (The region and the widget's style are looked up once per line, not twice:
        # profiled, each lookup cost about as much as drawing the line.)
        width = self.scrollable_content_region.width
        self._layout_for(width)
        line = y + self.scroll_offset.y
        base = self._base_style
        if base is None:
            base = self._base_style = self.rich_style
        index = self._stack.block_at(line) if line < self._end else None
        if index is not None:
            strips = self._item_strips(index)
            row = line - self._stack.tops[index]
            if row < len(strips):
                return strips[row].crop_extend(0, width, base)
        return Strip.blank(width, base)


TAB_LABELS = {"notes": "Notes", "history": "History", "tasks": "Tasks",
              "consents": "Consents", "members": "Members"}


class CaseTabs(Static):
    """The case's parts with their keys (``1 Notes  2 History ...``); the one shown is
    marked by a ``▸`` (and bold, reversed: never by colour alone)."""

    def show(self, active: str, present: tuple[str, ...]) -> None:
        parts = []
        for index, tab in enumerate(TAB_LABELS, start=1):
            if tab not in present:
                continue  # not a case field for this viewer: no trace of it
            if tab == active:
                parts.append(Content.styled(f"▸{index} {TAB_LABELS[tab]} ", "bold reverse"))
            else:
                parts.append(Content(f" {index} {TAB_LABELS[tab]} "))
        self.update(Content(" ").join(parts))


def history_content(entries: tuple[HistoryEntry, ...]) -> Content:
    if not entries:
        return Content("No changes recorded yet.")
    lines = []
    for entry in entries:
        line = [Content(when(entry.at)), Content("  "), Content.assemble((entry.label, "bold"))]
        if entry.from_value is not None or entry.to_value is not None:
            line += [Content(": "), plain(entry.from_value or "—"), Content(" → "),
                     plain(entry.to_value or "—")]
        if entry.reason:
            line += [Content(" ("), plain(entry.reason), Content(")")]
        if entry.actor:
            line += [Content(" · by "), plain(entry.actor)]
        lines.append(Content.assemble(*line))
    return Content("\n").join(lines)


def task_status(task: TaskEntry, today: dt.date) -> tuple[str, str]:
    if task.done:
        return "Done", "dim"
    if task.due is not None and task.due < today:
        return "Overdue", "bold $text-error"
    return "Open", ""


def tasks_content(tasks: tuple[TaskEntry, ...], today: dt.date) -> Content:
    if not tasks:
        return Content("No tasks.")
    lines = []
    for task in tasks:
        status, style = task_status(task, today)
        lines.append(Content.assemble(
            (f"{status:<8}", style), f" due {day(task.due)}  ", plain(task.title),
            " · ", plain(task.assignee or "nobody assigned"),
        ))
    return Content("\n").join(lines)


def consents_content(consents: tuple[ConsentEntry, ...] | None) -> Content:
    if consents is None:
        return Content("The young person's consents are shown to the case's members and "
                       "leads, in their own work (not in a huddle).")
    if not consents:
        return Content("No consents recorded.")
    lines = []
    for c in consents:
        style = "" if c.status == "in force" else "dim"
        until = f" until {c.valid_to.isoformat()}" if c.valid_to is not None else ""
        withdrawn = f", withdrawn {when(c.withdrawn_at)[:10]}" if c.withdrawn_at else ""
        lines.append(Content.assemble(
            (f"{c.status.capitalize():<17}", style or "bold"),
            plain(c.grantor.capitalize()), f" {c.decision} ", plain(c.category),
            " to ", plain(c.receiving_profession),
            f" · from {c.valid_from.isoformat()}{until}{withdrawn}",
        ))
    return Content("\n").join(lines)


def members_content(members: tuple[MemberEntry, ...]) -> Content:
    if not members:
        return Content("Nobody works this case.")
    lines = []
    for member in members:
        period = f"since {member.valid_from.isoformat()}" if member.valid_to is None \
            else f"{member.valid_from.isoformat()} – {member.valid_to.isoformat()} (left)"
        lines.append(Content.assemble(plain(member.name, "bold"), " · ",
                                      plain(member.profession), " · ", period))
    return Content("\n").join(lines)
