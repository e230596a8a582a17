"""The huddle's questions: join with one's own passphrase, record an action, and the note
that the huddle has ended (where its minutes are).

Joining is the sign-in form (its waits and lockout) over the whole screen: the person
joining types their own username and passphrase; nobody is added without it.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from textual import events
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Button, Input, OptionList, Static
from textual.widgets.option_list import Option

from anchor_tui.domain import MemberChoice, Viewer
from anchor_tui.errors import AnchorError, SignInError
from anchor_tui.paste_input import OneLineInput
from anchor_tui.screens.confirm import DiscardQuestion
from anchor_tui.screens.quit_form import AsksBeforeQuit, QuitQuestion
from anchor_tui.screens.sign_in import SignInScreen
from anchor_tui.screens.terminal_messages import JoinWritten, RosterChanged
from anchor_tui.services.backend import Backend
from anchor_tui.services.clock import Clock
from anchor_tui.services.huddle import join_huddle
from anchor_tui.settings import Settings
from anchor_tui.widgets.plain_text import plain

DEFAULT_DUE_DAYS = 7


class JoinScreen(SignInScreen):
    """Someone joins the huddle by signing in with their own passphrase."""

    HELP = ("Join the huddle: the person joining types their own username and passphrase. "
            "Once they are in, the screen shows only what everyone present may see. Esc "
            "goes back without adding anyone.")
    HEADING = "Join the huddle: your own username and passphrase"
    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "cancel", "Back", id="huddle_join.cancel"),
    ]

    def __init__(self, backend: Backend, settings: Settings, clock: Clock, viewer: Viewer,
                 today: dt.date, resume_case: int | None) -> None:
        super().__init__(backend, settings, clock)
        self._viewer = viewer
        self._today = today
        self._resume_case = resume_case

    def check(self, username: str, passphrase: str) -> Message:
        app = self.app
        try:
            roster = join_huddle(self._backend.opened(), self._viewer, username, passphrase,
                                 self._today, self._clock.now())
        except SignInError:
            raise
        except AnchorError as error:  # present already: said on the form, like a refusal
            raise SignInError(error.message, error.fix) from error
        # Written: the person is present, so the screen must show only what they may see
        # too, even if this form has gone meanwhile (another roster change opened the
        # huddle's screens anew, cancelling this worker): to the terminal, not the form.
        app.post_message(RosterChanged(roster, self._resume_case))
        return JoinWritten()

    def action_cancel(self) -> None:
        self.dismiss()


@dataclass(frozen=True)
class ActionDraft:
    """An action as typed: what, who (None: nobody yet) and by when."""

    text: str
    assignee_id: int | None
    due: dt.date


def parse_due(value: str, today: dt.date) -> dt.date:
    """``2026-11-23``, ``+3`` (days from today) or empty (a week from today)."""
    value = value.strip()
    if not value:
        return today + dt.timedelta(days=DEFAULT_DUE_DAYS)
    if value.startswith("+") and value[1:].isdigit():
        return today + dt.timedelta(days=int(value[1:]))
    try:
        return dt.date.fromisoformat(value)
    except ValueError:
        raise AnchorError(f"“{value[:20]}” is not a date.",
                          "Write it as 2026-11-23, or +3 for three days from today.") from None


class ActionField(OneLineInput):
    """An input of the action form whose Enter moves on at once (as the sign-in form's do):
    keys typed ahead, or sent by tmux, land in the next field, not in this one."""

    async def _on_key(self, event: events.Key) -> None:
        screen = self.screen
        if isinstance(screen, ActionScreen):
            focused = screen.focused
            if focused is not None and focused is not self:
                event.stop()
                event.prevent_default()
                focused._forward_event(events.Key(event.key, event.character))
                return
            if event.key == "enter":
                event.stop()
                event.prevent_default()
                screen.field_entered(self)
                return
        await super()._on_key(event)


class ActionScreen(ModalScreen[ActionDraft | None], AsksBeforeQuit):
    """What is to be done on the case, by whom (a member of the case) and by when.

    Opened again with the action as it was typed (``draft``) and why (``note``) when its
    save was refused: the words are never lost to a refusal."""

    QUIT_QUESTION = QuitQuestion(
        "Quit and discard this action?",
        "Go back to the action",
        "Quit: discard what was written",
        "The action is not added yet. Esc goes back to it.")

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "cancel", "Cancel", id="huddle_action.cancel"),
    ]
    DEFAULT_CSS = """
    ActionScreen { align: center middle; background: $background 60%; }
    ActionScreen #action-assignee { height: auto; max-height: 8; }
    ActionScreen #action-message { color: $text-error; }
    """

    def __init__(self, case_label: str, members: Sequence[MemberChoice], today: dt.date,
                 professions: dict[str, str], *, draft: ActionDraft | None = None,
                 note: str = "") -> None:
        super().__init__()
        self.case_label = case_label
        self.members = list(members)
        self.today = today
        self.professions = professions
        self.draft = draft
        self.note = note

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(plain(f"Action on {self.case_label}"), classes="modal-title")
            yield ActionField(self.draft.text if self.draft else "",
                              placeholder="What is to be done", id="action-text",
                              max_length=500)
            yield Static("Who does it (↑/↓):", classes="modal-note")
            yield OptionList(Option("Nobody yet", id="nobody"), *(
                Option(plain(f"{m.display_name} · "
                             f"{self.professions.get(m.profession, m.profession)}"),
                       id=str(m.user_id)) for m in self.members), id="action-assignee")
            yield ActionField(self.draft.due.isoformat() if self.draft else "",
                              placeholder=f"Due (empty: in {DEFAULT_DUE_DAYS} days; "
                              "2026-11-23 or +3)", id="action-due", max_length=20)
            yield Static(plain(self.note, one_line=False), id="action-message")
            yield Static("Enter in the due field saves · Tab moves · Esc cancels",
                         classes="modal-hint")

    def on_mount(self) -> None:
        ids = ["nobody", *(str(m.user_id) for m in self.members)]
        chosen = (str(self.draft.assignee_id) if self.draft is not None
                  and self.draft.assignee_id is not None else "nobody")
        self.query_one("#action-assignee", OptionList).highlighted = (
            ids.index(chosen) if chosen in ids else 0)
        self.query_one("#action-text", Input).focus()

    def on_one_line_input_paste_adjusted(self, event: OneLineInput.PasteAdjusted) -> None:
        event.stop()
        self.query_one("#action-message", Static).update(plain(event.note, one_line=False))

    def field_entered(self, field: Input) -> None:
        """Enter: from the text to who does it; in the due field, save."""
        if field.id == "action-text":
            self.set_focus(self.query_one("#action-assignee", OptionList))
        else:
            self._save()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.set_focus(self.query_one("#action-due", Input))

    def _save(self) -> None:
        text = self.query_one("#action-text", Input).value.strip()
        message = self.query_one("#action-message", Static)
        if not text:
            message.update("Write what is to be done first.")
            self.query_one("#action-text", Input).focus()
            return
        try:
            due = parse_due(self.query_one("#action-due", Input).value, self.today)
        except AnchorError as error:
            message.update(plain(f"{error.message} {error.fix}"))
            return
        if due < self.today:
            message.update("The due date is in the past: give today or a later day.")
            return
        options = self.query_one("#action-assignee", OptionList)
        index = options.highlighted or 0
        chosen = options.get_option_at_index(index).id
        self.dismiss(ActionDraft(text, None if chosen in (None, "nobody") else int(chosen),
                                 due))

    def filled_in(self) -> bool:
        """Something typed: what is to be done, or a due day."""
        return any(self.query_one(f"#{field}", Input).value.strip()
                   for field in ("action-text", "action-due"))

    def action_cancel(self) -> None:
        """Esc: an empty form closes; with something written it asks, and keeping it is
        the default (Enter, n, Esc): one key too many must not throw an action away."""
        if not self.filled_in():
            self.dismiss(None)
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self.dismiss(None)

        self.app.push_screen(DiscardQuestion(
            "Discard this action?", "The action is not added yet. Discard what was "
            "written?"), callback=answered)


class NoticeScreen(ModalScreen[None]):
    """A short note (our words, never client data) until Enter or Escape."""

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "close", "Close", id="notice.close"),
    ]
    DEFAULT_CSS = """
    NoticeScreen { align: center middle; background: $background 60%; }
    """

    def __init__(self, title: str, message: str) -> None:
        super().__init__()
        self.title_text = title
        self.message = message

    def compose(self) -> ComposeResult:
        with Vertical(classes="modal-box"):
            yield Static(plain(self.title_text), classes="modal-title")
            yield Static(plain(self.message, one_line=False), id="notice-message")
            yield Button("OK", id="notice-ok", variant="primary")

    def on_mount(self) -> None:
        self.query_one("#notice-ok", Button).focus()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        self.dismiss(None)

    def action_close(self) -> None:
        self.dismiss(None)


def minutes_notice(path: Path | None, problem: str) -> NoticeScreen:
    if path is None:
        return NoticeScreen("Huddle ended", problem)
    return NoticeScreen("Huddle ended",
                        f"The minutes are stored and written to\n{path}\n(readable by this "
                        "computer account only).")
