"""The one error modal: a title, what went wrong and how to fix it. Never a traceback.

An :class:`~anchor_tui.errors.AnchorError` brings its own title, message and fix (they
are written for a shared screen). Anything else is an internal error: the modal says
so in general words and points at the log, which holds no client data.
"""

from __future__ import annotations

from pathlib import Path

from textual.app import App, ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Button, Static

from anchor_tui.errors import AnchorError
from anchor_tui.widgets.plain_text import plain

INTERNAL_TITLE = "Something went wrong"
INTERNAL_MESSAGE = "Something went wrong. Nothing was saved or shown."


def internal_fix(log_path: Path | None) -> str:
    if log_path is None:
        return "The error log could not be written; please tell whoever maintains anchor-tui."
    return f"Details without client data: {log_path}"


class ErrorScreen(ModalScreen[None]):
    """Shows one problem until dismissed with Enter or Escape."""

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "dismiss", "Close", id="error.close"),
    ]

    def __init__(self, title: str, message: str, fix: str) -> None:
        super().__init__()
        self.error_title = title
        self.error_message = message
        self.error_fix = fix

    @classmethod
    def for_error(cls, error: BaseException, log_path: Path | None) -> ErrorScreen:
        if isinstance(error, AnchorError):
            return cls(error.title, error.message, error.fix)
        return cls(INTERNAL_TITLE, INTERNAL_MESSAGE, internal_fix(log_path))

    def compose(self) -> ComposeResult:
        with Vertical(id="error-box"):
            yield Static(plain(self.error_title), id="error-title")
            yield Static(plain(self.error_message, one_line=False), id="error-message")
            if self.error_fix:
                yield Static(plain(self.error_fix, one_line=False), id="error-fix")
            yield Button("OK", id="error-ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#error-ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)


def show_held(app: App[object], modal: ErrorScreen) -> None:
    """Show ``modal``, made by the app's own work for the person signed in (a change
    kept while the database was away, refused when it came back): the terminal holds it
    while locked (``SharedTerminal.show_error_modal``) and shows it on unlocking, never
    over the lock, where it would quote the person's words to whoever stands there."""
    show = getattr(app, "show_error_modal", app.push_screen)
    show(modal)
