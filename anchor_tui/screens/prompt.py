"""Small questions asked from the keyboard: pick one of a few choices, or write a reason.

Both are modal and plain: choices and typed text are user text, shown without markup.
Escape cancels (the result is None); nothing is changed until the caller acts.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from anchor_tui.widgets.plain_text import plain


class ChoiceScreen(ModalScreen[str | None]):
    """Pick one of ``choices`` (value, label) with arrows or j/k and Enter."""

    HELP_NAME = "a choice"
    HELP = ("Pick one of the answers: arrows or j/k move, Enter chooses. Esc cancels and "
            "nothing is changed.")

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "cancel", "Cancel", id="choice.cancel"),
        Binding("j", "step(1)", "Down", show=False, id="choice.down"),
        Binding("k", "step(-1)", "Up", show=False, id="choice.up"),
    ]

    def __init__(self, title: str, choices: Sequence[tuple[str, str]],
                 current: str | None = None, note: str = "") -> None:
        super().__init__()
        self.title_text = title
        self.choices = list(choices)
        self.current = current
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(id="choice-box", classes="modal-box"):
            yield Static(plain(self.title_text), classes="modal-title")
            if self.note:
                yield Static(plain(self.note, one_line=False), classes="modal-note")
            yield OptionList(*(Option(plain(label), id=value) for value, label in self.choices),
                             id="choice-list")
            yield Static("Enter chooses · Esc cancels", classes="modal-hint")

    def on_mount(self) -> None:
        options = self.query_one("#choice-list", OptionList)
        ids = [value for value, _ in self.choices]
        options.highlighted = ids.index(self.current) if self.current in ids else 0
        options.focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_step(self, step: int) -> None:
        options = self.query_one("#choice-list", OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_cancel(self) -> None:
        self.dismiss(None)


class ReasonScreen(ModalScreen[str | None]):
    """Write a short reason (one line); Enter with text saves it, Escape cancels."""

    HELP_NAME = "a reason"
    HELP = ("Write the reason in a line (it is kept with the change, for the record). "
            "Enter saves it; Esc cancels and nothing is changed.")

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "cancel", "Cancel", id="reason.cancel"),
    ]

    def __init__(self, title: str, question: str, placeholder: str = "Reason") -> None:
        super().__init__()
        self.title_text = title
        self.question = question
        self.placeholder = placeholder

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-box", classes="modal-box"):
            yield Static(plain(self.title_text), classes="modal-title")
            yield Static(plain(self.question, one_line=False), classes="modal-note")
            yield Input(placeholder=self.placeholder, id="reason-input", max_length=500)
            yield Static("", id="reason-message", classes="modal-hint")
            yield Static("Enter saves · Esc cancels", classes="modal-hint")

    def on_mount(self) -> None:
        self.query_one("#reason-input", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.query_one("#reason-message", Static).update("Write a reason first.")
            return
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        self.dismiss(None)
