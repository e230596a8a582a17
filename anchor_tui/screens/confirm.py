"""A yes/no question that names exactly what will happen ("Move Aino A. from Screening to
Joint assessment?"). Enter or y says yes, Escape or n says no."""

from __future__ import annotations

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from anchor_tui.widgets.plain_text import plain


class ConfirmScreen(ModalScreen[bool]):
    """Dismissed with True (yes) or False (no)."""

    HELP_NAME = "a confirmation"
    HELP = ("The question names exactly what will change. y (or Enter on Yes) does it; "
            "n or Esc cancels and nothing is changed.")

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("y", "answer(True)", "Yes", id="confirm.yes"),
        Binding("n,escape", "answer(False)", "No", id="confirm.no"),
    ]
    YES_KEY = "y"
    """The key the yes button names."""

    def __init__(self, title: str, question: str, yes: str = "Yes", no: str = "Cancel",
                 *, default: bool = True) -> None:
        """``default``: the answer Enter gives when the question opens (its button is
        focused as the screen mounts, so an Enter typed at once cannot meet the other)."""
        super().__init__()
        self.title_text = title
        self.question = question
        self.yes = yes
        self.no = no
        self.default = default

    def compose(self) -> ComposeResult:
        with Vertical(id="confirm-box", classes="modal-box"):
            yield Static(plain(self.title_text), classes="modal-title")
            yield Static(plain(self.question, one_line=False), id="confirm-question")
            with Horizontal(classes="modal-buttons"):
                # A str label would be parsed as markup: the labels may name user text.
                yield Button(plain(f"{self.yes} ({self.YES_KEY})"), id="confirm-yes",
                             variant="primary")
                yield Button(plain(f"{self.no} (n)"), id="confirm-no")

    def on_mount(self) -> None:
        self.query_one("#confirm-yes" if self.default else "#confirm-no", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(event.button.id == "confirm-yes")

    def action_answer(self, yes: bool) -> None:
        self.dismiss(yes)


class DiscardQuestion(ConfirmScreen):
    """"Discard what was written?": keeping it is the default (Enter, n and Esc keep
    editing); only ctrl+d (or the Discard button) throws the text away.

    Not y: the question often comes up from a stray Esc while someone is typing, and
    their next key then answers it; a word beginning with y ("yes", "yhteys") would
    have thrown away what they wrote. A letter typed into the question keeps it."""

    HELP_NAME = "a question before discarding"
    HELP = ("What was written is not saved yet. Enter, n or Esc keeps editing; ctrl+d "
            "(or Enter on Discard) throws it away.")

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("ctrl+d", "answer(True)", "Discard", id="discard.yes"),
        Binding("n,escape", "answer(False)", "Keep editing", id="discard.no"),
        # Over the confirmation's y, which would discard: here it does nothing.
        Binding("y", "typed_on", "", show=False, id="discard.typed_on"),
    ]
    YES_KEY = "ctrl+d"

    def action_typed_on(self) -> None:
        """A letter typed on into the question: what was written is kept."""

    def __init__(self, title: str, question: str) -> None:
        # Keeping is focused as the question mounts: focusing it a refresh later let an
        # Enter typed straight after Esc meet Discard and throw the text away.
        super().__init__(title, question, yes="Discard", no="Keep editing", default=False)
