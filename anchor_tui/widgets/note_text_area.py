"""The note's text area: a multi-line editor whose text never drives the terminal.

Textual's ``TextArea`` draws what it holds; a pasted ``\\x1b[2J`` would reach the
terminal and clear it. Here every paste is cleaned first (``services.note_text``:
control characters become their visible escapes, line ends ``\\n``, tabs spaces), and
text loaded from a draft or a note is cleaned too, so the editor shows exactly what will
be saved. Keys typed are printable by nature. Markup means nothing to a text area:
``[bold]`` is seven characters.
"""

from __future__ import annotations

from textual import events
from textual.widgets import TextArea
from textual.widgets.text_area import Edit, EditResult

from anchor_tui.services.note_text import clean_text


class NoteTextArea(TextArea):
    """Where the note is written. Tab moves on to the next field (it does not indent)."""

    HELP = ("Write the note. Arrows, Home/End and PageUp/PageDown move; ctrl+z undoes, "
            "ctrl+y redoes; F6 selects the line, F7 everything. A paste keeps its text, "
            "with control characters shown as escapes (\\x1b). Tab moves to the next field.")

    def __init__(self, text: str = "", *, id: str | None = None) -> None:
        super().__init__(clean_text(text), soft_wrap=True, tab_behavior="focus",
                         show_line_numbers=False, highlight_cursor_line=False, id=id,
                         placeholder="Write the note here…")

    def edit(self, edit: Edit) -> EditResult:
        result = super().edit(edit)
        # A word wrapping onto a new line at the bottom of the area: TextArea scrolls to
        # the cursor before the new line's height counts, and the typed character would
        # stay out of sight until the next key. Once more after the refresh, it shows.
        self.call_after_refresh(self.scroll_cursor_visible)
        return result

    async def _on_paste(self, event: events.Paste) -> None:
        # Runs before TextArea's own _on_paste (Textual calls each class's handler along
        # the MRO), which then inserts the cleaned text.
        event.text = clean_text(event.text)

    def load_body(self, text: str) -> None:
        """Replace the whole text (a template, a recovered draft), cleaned."""
        self.load_text(clean_text(text))
        self.move_cursor(self.document.end)

    def insert_body(self, text: str) -> None:
        """Insert at the cursor (a template added to text already written), cleaned."""
        self.insert(clean_text(text))
