"""Recording the statutory child-welfare notification.

Opened by the note editor when a saved note raises a concern about a minor (police,
youth work, health; see ``services.child_welfare``), and from the case view when the
notification's task is marked done. The pending notification and its task already exist:
"Later" (Esc) leaves them for the author's queue; recording says how, to whom and with
which reference the notification was made, closes the task and schedules a check of the
response.

Recorded, the form closes and the record goes through the app's save queue
(``saving.save_or_keep``), as a task added is: with the database away it is kept (and
said so) and recorded when it is back; recorded, it is said so and the screens showing
the case read it again. A recording whose commit reached the server while its answer was
lost is made again too: it carries the moment the person recorded it, and the second
attempt first looks for what the first wrote then (``saving.made_once``,
``services.child_welfare.recorded_at``), so it is recorded once, not refused as already
recorded. Refused (recorded meanwhile from another terminal, the notification gone),
maybe long after, the form comes back with what was typed (how, to whom, the reference)
and why, so nothing typed is lost. Dismissed with None once handed to the queue, False
for later.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical, VerticalScroll
from textual.message import Message
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option

from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.messages import CasesChanged
from anchor_tui.paste_input import OneLineInput
from anchor_tui.saving import context_alive, later_notifier, made_once, save_or_keep
from anchor_tui.screens.confirm import DiscardQuestion
from anchor_tui.screens.kept_form import KeepsTypedForm, KeptFormNote
from anchor_tui.screens.modal import AnchorModal
from anchor_tui.screens.quit_form import QuitQuestion
from anchor_tui.services.backend import Backend
from anchor_tui.services.child_welfare import (
    METHODS,
    NotificationDue,
    NotificationRecorded,
    pending_for,
    record_notification,
    recorded_at,
)
from anchor_tui.services.clock import utcnow
from anchor_tui.widgets.plain_text import plain

DUTY = ("This note raises a concern about a minor. The Child Welfare Act obliges you to "
        "notify child welfare without delay, whatever your duty of secrecy. Record how and "
        "to whom you notified. Until then a task for it stays open in your queue.")


@dataclass(frozen=True)
class TypedRecord:
    """What was typed into a form whose record was refused, to give the form back with."""

    method: str
    recipient: str
    reference: str
    why: str
    """Why it was not recorded, shown in the form given back."""


class NotificationRead(Message):
    def __init__(self, due: NotificationDue) -> None:
        super().__init__()
        self.due = due


class ChildWelfareScreen(AnchorModal[bool | None], KeepsTypedForm):
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

    def __init__(self, notification_id: int, *, again: TypedRecord | None = None) -> None:
        """``again``: a record that was refused, given back with what was typed and why."""
        super().__init__()
        self.notification_id = notification_id
        self.again = again
        self._case_id: int | None = None
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
            yield OneLineInput(self.again.recipient if self.again else "",
                               placeholder="Espoo child welfare services",
                               id="welfare-recipient", max_length=500)
            yield Static("Reference (if you got one)")
            yield OneLineInput(self.again.reference if self.again else "", placeholder="",
                               id="welfare-reference", max_length=200)
            yield KeptFormNote(id="welfare-kept")
            yield Static(plain(self.again.why) if self.again else "", id="welfare-message")
            yield Static("ctrl+s / F2 records · Esc: later (the task stays open)",
                         classes="modal-hint")

    def on_mount(self) -> None:
        methods = self.query_one("#welfare-method", OptionList)
        methods.focus()
        if self.again is not None and self.again.method in METHODS:
            methods.highlighted = list(METHODS).index(self.again.method)
        self.read_due()
        self.offer_kept_form()

    @work(thread=True, exclusive=True, group="welfare-read", exit_on_error=False)
    def read_due(self) -> None:
        viewer = self.host.viewer
        if viewer is not None:
            self.post_message(NotificationRead(pending_for(self.host.backend, viewer,
                                                           self.notification_id)))

    def on_notification_read(self, message: NotificationRead) -> None:
        self._case_id = message.due.case_id
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
        self.forget_kept_form()  # recorded now, or given back with its words if refused
        self.write_record(method, recipient, self.query_one("#welfare-reference", Input).value)

    def _say(self, problem: str) -> None:
        message = self.query_one("#welfare-message", Static)
        message.update(problem)
        message.scroll_visible(animate=False)

    def write_record(self, method: str, recipient: str, reference: str) -> None:
        """Close the form and record the notification through the app's save queue: kept
        while the database is away, recorded once after a lost answer, and, refused, the
        form given back with what was typed."""
        viewer = self.host.viewer
        if viewer is None:
            return
        app, backend, notification_id = self.app, self.host.backend, self.notification_id
        made = utcnow()  # the moment it was recorded, the same for every attempt
        once = made_once(
            partial(record_notification, backend, viewer, notification_id, method=method,
                    recipient=recipient, reference=reference, today=self.host.today(),
                    now=made),
            partial(recorded_at, backend, viewer, notification_id, made))
        tell, alive = later_notifier(app), context_alive(app)

        def saved(recorded: NotificationRecorded) -> None:
            due = recorded.follow_up_due
            check = f" A task checks the response on {due.isoformat()}." if due else ""
            tell(f"Child-welfare notification recorded.{check}",
                 title="Notification recorded", markup=False)
            if alive():  # the case view (and the board) read the case again
                app.post_message(CasesChanged(frozenset({recorded.case_id})))

        def refused(error: AnchorError) -> None:
            # Handed back only to whoever typed it (save_or_keep), maybe long after: the
            # form comes back with their words, on their own screens.
            app.push_screen(ChildWelfareScreen(notification_id, again=TypedRecord(
                method, recipient, reference, f"Not recorded: {error.message} {error.fix}")))

        on_case = f" on case {self._case_id}" if self._case_id is not None else ""
        save_or_keep(app, f"record the child-welfare notification{on_case}",
                     "The child-welfare notification record", once, on_saved=saved,
                     on_refused=refused, keep_if_refused=self.keep_if_refused())
        self.dismiss(None)

    def filled_in(self) -> bool:
        """Something typed: to whom, or a reference; a form given back after a refusal
        holds words not recorded, whatever is in it."""
        if self.again is not None:
            return True
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
                self.discarded()
                self._later()

        self.app.push_screen(DiscardQuestion(
            "Record it later?", "What you wrote here is not recorded yet. Keep editing "
            "(Enter), or leave it for later and discard what was written (ctrl+d)? The "
            "notification's task stays open either way."), callback=answered)

    def _later(self) -> None:
        self.app.notify("The notification is not recorded yet: its task stays in your queue.",
                        title="Child-welfare notification", severity="warning", markup=False)
        self.dismiss(False)

    # --- kept for its author (``kept_form``) --------------------------------------------

    FORM_KIND = "child_welfare"

    def form_target(self) -> tuple[str, int | None]:
        """The notification (its case once read: retention erases the kept record with
        the case's drafts)."""
        return f"notification:{self.notification_id}", self._case_id

    def form_viewer(self) -> Viewer | None:
        return self.host.viewer

    def form_backend(self) -> Backend:
        return self.host.backend

    def form_fields(self) -> dict[str, object]:
        methods = self.query_one("#welfare-method", OptionList)
        method = methods.get_option_at_index(methods.highlighted).id \
            if methods.highlighted is not None else None
        return {"method": method,
                "recipient": self.query_one("#welfare-recipient", Input).value,
                "reference": self.query_one("#welfare-reference", Input).value}

    def fill_form(self, fields: Mapping[str, Any]) -> None:
        method = fields.get("method")
        self.query_one("#welfare-method", OptionList).highlighted = \
            list(METHODS).index(method) if method in METHODS else 0
        self.query_one("#welfare-recipient", Input).value = str(fields.get("recipient") or "")
        self.query_one("#welfare-reference", Input).value = str(fields.get("reference") or "")
