"""Recording the statutory child-welfare notification.

Opened by the note editor when a saved note raises a concern about a minor (police,
youth work, health; see ``services.child_welfare``), and from the case view when the
notification's task is marked done. The pending notification and its task already exist:
"Later" (Esc) leaves them for the author's queue; recording says how, to whom and with
which reference the notification was made, closes the task and schedules a check of the
response. Dismissed with True once recorded.
"""

from __future__ import annotations

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState

from anchor_tui.paste_input import OneLineInput
from anchor_tui.screens.confirm import DiscardQuestion
from anchor_tui.screens.modal import AnchorModal
from anchor_tui.screens.quit_form import AsksBeforeQuit, QuitQuestion
from anchor_tui.services.child_welfare import (
    METHODS,
    NotificationDue,
    NotificationRecorded,
    pending_for,
    record_notification,
)
from anchor_tui.widgets.plain_text import plain

DUTY = ("This note raises a concern about a minor. The Child Welfare Act obliges you to "
        "notify child welfare without delay, whatever your duty of secrecy. Record how and "
        "to whom you notified. Until then a task for it stays open in your queue.")


class NotificationRead(Message):
    def __init__(self, due: NotificationDue) -> None:
        super().__init__()
        self.due = due


class NotificationWritten(Message):
    def __init__(self, recorded: NotificationRecorded) -> None:
        super().__init__()
        self.recorded = recorded


class ChildWelfareScreen(AnchorModal[bool], AsksBeforeQuit):
    """Record one pending notification, or leave it for later."""

    QUIT_QUESTION = QuitQuestion(
        "Quit and discard this notification record?",
        "Go back to the notification record",
        "Quit: discard what was written (the task stays open)",
        "The notification is not recorded yet; its task stays in your queue. "
        "Esc goes back to it.")

    HELP = ("The statutory child-welfare notification. Choose how you notified, write to "
            "whom (e.g. the municipality's child welfare services or the emergency social "
            "services) and the reference if you got one; ctrl+s or F2 records it. Esc: "
            "later; the task stays in your queue until it is recorded.")

    DEFAULT_CSS = """
    ChildWelfareScreen { align: center middle; background: $background 60%; }
    ChildWelfareScreen #welfare-fields { height: auto; max-height: 100%; }
    ChildWelfareScreen #welfare-method { height: auto; max-height: 6; }
    ChildWelfareScreen #welfare-message { color: $text-error; }
    """

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "later", "Later", id="child_welfare.later"),
        Binding("ctrl+s", "record", "Record", id="child_welfare.record"),
        Binding("f2", "record", "Record", id="child_welfare.record_f2"),
    ]

    def __init__(self, notification_id: int) -> None:
        super().__init__()
        self.notification_id = notification_id
        self._saving = False

    def compose(self) -> ComposeResult:
        # Scrolled within the box: at 80x24 the whole form does not fit, and the field
        # that has focus (the reference, a message saying what is missing) must show.
        with Vertical(id="welfare-box", classes="modal-box"), \
                VerticalScroll(id="welfare-fields"):
            yield Static("Child-welfare notification (statutory)", id="welfare-title",
                         classes="modal-title")
            yield Static(DUTY, classes="modal-note")
            yield Static("How did you notify?")
            yield OptionList(*(Option(label, id=key) for key, label in METHODS.items()),
                             id="welfare-method")
            yield Static("To whom")
            yield OneLineInput(placeholder="Espoo child welfare services", id="welfare-recipient",
                        max_length=500)
            yield Static("Reference (if you got one)")
            yield OneLineInput(placeholder="", id="welfare-reference", max_length=200)
            yield Static("", id="welfare-message")
            yield Static("ctrl+s / F2 records · Esc: later (the task stays open)",
                         classes="modal-hint")

    def on_mount(self) -> None:
        self.query_one("#welfare-method", OptionList).focus()
        self.read_due()

    @work(thread=True, exclusive=True, group="welfare-read", exit_on_error=False)
    def read_due(self) -> None:
        viewer = self.host.viewer
        if viewer is not None:
            self.post_message(NotificationRead(pending_for(self.host.backend, viewer,
                                                           self.notification_id)))

    def on_notification_read(self, message: NotificationRead) -> None:
        self.query_one("#welfare-title", Static).update(plain(
            f"Child-welfare notification (statutory) · {message.due.person_label}"))

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.query_one("#welfare-recipient", Input).focus()

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "welfare-recipient":
            self.query_one("#welfare-reference", Input).focus()
        else:
            self.action_record()

    def action_record(self) -> None:
        if self._saving:
            return
        methods = self.query_one("#welfare-method", OptionList)
        recipient = self.query_one("#welfare-recipient", Input).value
        if methods.highlighted is None:
            self._say("Choose how you notified.")
            return
        if not recipient.strip():
            self._say("Write to whom you notified.")
            self.query_one("#welfare-recipient", Input).focus()
            return
        method = str(methods.get_option_at_index(methods.highlighted).id)
        self._saving = True
        self.write_record(method, recipient, self.query_one("#welfare-reference", Input).value)

    def _say(self, problem: str) -> None:
        message = self.query_one("#welfare-message", Static)
        message.update(problem)
        message.scroll_visible(animate=False)

    @work(thread=True, exclusive=True, group="welfare-save", exit_on_error=False)
    def write_record(self, method: str, recipient: str, reference: str) -> None:
        viewer = self.host.viewer
        if viewer is None:
            return
        recorded = record_notification(self.host.backend, viewer, self.notification_id,
                                       method=method, recipient=recipient,
                                       reference=reference, today=self.host.today())
        self.post_message(NotificationWritten(recorded))

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.worker.group == "welfare-save" and event.state == WorkerState.ERROR:
            self._saving = False

    def on_notification_written(self, message: NotificationWritten) -> None:
        due = message.recorded.follow_up_due
        check = f" A task checks the response on {due.isoformat()}." if due else ""
        self.app.notify(f"Child-welfare notification recorded.{check}",
                        title="Notification recorded", markup=False)
        self.dismiss(True)

    def filled_in(self) -> bool:
        """Something typed: to whom, or a reference."""
        return any(self.query_one(f"#{field}", Input).value.strip()
                   for field in ("welfare-recipient", "welfare-reference"))

    def action_later(self) -> None:
        """Esc: record it later (its task stays open); with to whom or a reference typed
        in, asked first, keeping them the default: they went with the form at once."""
        if not self.filled_in():
            self._later()
            return

        def answered(discard: bool | None) -> None:
            if discard:
                self._later()

        self.app.push_screen(DiscardQuestion(
            "Record it later?", "What you wrote here is not recorded yet. Keep editing "
            "(Enter), or leave it for later and discard what was written (ctrl+d)? The "
            "notification's task stays open either way."), callback=answered)

    def _later(self) -> None:
        self.app.notify("The notification is not recorded yet: its task stays in your queue.",
                        title="Child-welfare notification", severity="warning", markup=False)
        self.dismiss(False)
