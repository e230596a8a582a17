"""Small questions asked from the keyboard: pick one of a few choices, or write a reason.

Both are modal and plain: choices and typed text are user text, shown without markup.
Escape cancels (the result is None); nothing is changed until the caller acts. Escape on
a reason with something written asks first (:class:`DiscardQuestion`: keeping it is the
default), and a reason can be asked again with what was written (``value``) and why
it was not saved (``note``), so a refused or conflicting change never loses its words.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.message import Message
from textual.screen import ModalScreen
from textual.widgets import Input, OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from anchor_tui.domain import Viewer
from anchor_tui.messages import CasesChanged
from anchor_tui.paste_input import OneLineInput
from anchor_tui.saving import KeepIfRefused
from anchor_tui.screens.confirm import DiscardQuestion
from anchor_tui.screens.kept_form import KeepsTypedForm, KeptFormNote
from anchor_tui.screens.modal import Host
from anchor_tui.screens.quit_form import QuitQuestion
from anchor_tui.services.backend import Backend
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
        found = self.query("#choice-list").results(OptionList)
        options = next(found, None)
        if options is None:
            # Mounted as its context was being removed (someone took the terminal over
            # while the question was on its way): its widgets are gone, nothing to focus.
            return
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

    def keep_choices(self, still: set[str]) -> None:
        """Only the choices whose value is in ``still`` stay offered (what they name was
        read again, and the viewer may no longer see some of it); none left: closed."""
        kept = [(value, label) for value, label in self.choices if value in still]
        if not kept:
            self.dismiss(None)
            return
        if kept == self.choices:
            return
        options = self.query_one("#choice-list", OptionList)
        at = options.highlighted or 0
        current = self.choices[at][0] if at < len(self.choices) else None
        # The highlight stays on its choice, or moves to the next one still offered.
        following = [value for value, _ in self.choices[at:] if value in still]
        place = current if current in dict(kept) else (following[0] if following
                                                        else kept[-1][0])
        self.choices = kept
        options.clear_options()
        options.add_options([Option(plain(label), id=value) for value, label in kept])
        options.highlighted = [value for value, _ in kept].index(place)


class StillOffered(Message):
    """Which of a case question's choices ``viewer`` may still be offered."""

    def __init__(self, viewer: Viewer, values: frozenset[str]) -> None:
        super().__init__()
        self.viewer = viewer
        self.values = values


class CaseChoiceScreen(ChoiceScreen):
    """A question whose choices name things of one case (its notes, its tasks), filled
    from what was read when it was asked. At every change to the case it reads again
    which of them the viewer may still see (:meth:`still_offered`, database work off
    the UI thread) and keeps only those (:meth:`offered`; none left: closed): a consent
    withdrawn meanwhile never leaves a note's or a task's words on screen."""

    def __init__(self, case_id: int, title: str, choices: Sequence[tuple[str, str]],
                 note: str = "") -> None:
        super().__init__(title, choices, note=note)
        self.case_id = case_id

    def still_offered(self, host: Host, viewer: Viewer) -> frozenset[str]:
        """The values of the choices the viewer may still see (runs in a thread)."""
        raise NotImplementedError

    def offered(self, values: frozenset[str]) -> None:
        self.keep_choices(set(values))

    def on_cases_changed(self, message: CasesChanged) -> None:
        if message.touches(self.case_id):
            self.read_again()

    @work(thread=True, exclusive=True, group="case-choice", exit_on_error=False)
    def read_again(self) -> None:
        host = cast(Host, self.app)
        viewer = host.viewer
        if viewer is None:
            return
        still = self.still_offered(host, viewer)
        if not get_current_worker().is_cancelled:
            self.post_message(StillOffered(viewer, still))

    def on_still_offered(self, message: StillOffered) -> None:
        if message.viewer == cast(Host, self.app).viewer:
            self.offered(message.values)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        if event.state == WorkerState.ERROR:  # to the app's one error handler
            self.app.post_message(Worker.StateChanged(event.worker, event.state))


def reason_kept_if_refused(viewer: Viewer | None, backend: Backend,
                           kept_as: tuple[str, str, int | None], reason: str
                           ) -> KeepIfRefused | None:
    """A reason given to a change (its prompt closed with it): should the database
    refuse the change after its author has left the terminal, the reason is kept for
    them as the ``kept_as`` reason form, as :class:`ReasonScreen` keeps its own."""
    if viewer is None:
        return None
    kind, target, case_id = kept_as
    return KeepIfRefused(viewer, backend, kind, target, case_id, {"reason": reason})


class ReasonScreen(ModalScreen[str | None], KeepsTypedForm):
    """Write a short reason (one line); Enter with text saves it, Escape cancels (asked
    first when something is written), and so does ctrl+q: a huddle's decision, a refused
    change's words asked again, are nowhere else.

    Opened with ``kept_as`` (the kind of reason, its target and case: a snooze of case
    12 is ``("reason:snooze", "case:12", 12)``), what is written is kept for its author
    if the terminal passes to someone else while it is open, and given back the next
    time they give that reason for that case (``kept_form``)."""

    FORM_KIND = "reason"

    QUIT_QUESTION = QuitQuestion(
        "Quit and discard what was written?",
        "Go back to it",
        "Quit: discard what was written",
        "It is not saved yet. Esc goes back to it.")

    HELP_NAME = "a reason"
    HELP = ("Write the reason in a line (it is kept with the change, for the record). "
            "Enter saves it; Esc cancels and nothing is changed (with something written, "
            "it asks first). A paste of several lines is joined into one.")

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "cancel", "Cancel", id="reason.cancel"),
    ]

    def __init__(self, title: str, question: str, placeholder: str = "Reason", *,
                 value: str = "", note: str = "",
                 kept_as: tuple[str, str, int | None] | None = None) -> None:
        """``value``: what was written before (asked again); ``note``: why it is asked
        again (our words), shown under the field; ``kept_as``: see the class."""
        super().__init__()
        self.kept_as = kept_as
        self.title_text = title
        self.question = question
        self.placeholder = placeholder
        self.value = value
        self.note = note
        self._asking_discard = False

    def compose(self) -> ComposeResult:
        with Vertical(id="reason-box", classes="modal-box"):
            yield Static(plain(self.title_text), classes="modal-title")
            yield Static(plain(self.question, one_line=False), classes="modal-note")
            yield OneLineInput(self.value, placeholder=self.placeholder, id="reason-input",
                               max_length=500)
            yield KeptFormNote(id="reason-kept")
            yield Static(plain(self.note, one_line=False), id="reason-message",
                         classes="modal-hint")
            yield Static("Enter saves · Esc cancels", classes="modal-hint")

    def on_mount(self) -> None:
        self.query_one("#reason-input", Input).focus()
        if self.kept_as is not None:
            self.offer_kept_form()

    def on_one_line_input_paste_adjusted(self, event: OneLineInput.PasteAdjusted) -> None:
        event.stop()
        self.query_one("#reason-message", Static).update(plain(event.note, one_line=False))

    def on_input_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        if not event.value.strip():
            self.query_one("#reason-message", Static).update("Write a reason first.")
            return
        self.forget_kept_form()  # given to the change now (given back if it is refused)
        self.dismiss(event.value.strip())

    def action_cancel(self) -> None:
        if not self.query_one("#reason-input", Input).value.strip():
            self.dismiss(None)
            return
        if self._asking_discard:
            return

        def answered(discard: bool | None) -> None:
            self._asking_discard = False
            if discard:
                self.discarded()
                self.dismiss(None)

        self._asking_discard = True
        self.app.push_screen(DiscardQuestion(
            "Discard what was written?",
            "It is not saved yet. Keep editing (Enter), or discard it (ctrl+d)?"),
            callback=answered)

    def filled_in(self) -> bool:
        return bool(self.query_one("#reason-input", Input).value.strip())

    # --- kept for its author (``kept_form``) --------------------------------------------

    def form_kind(self) -> str:
        return self.kept_as[0] if self.kept_as is not None else self.FORM_KIND

    def form_target(self) -> tuple[str, int | None]:
        assert self.kept_as is not None  # (offered only then)
        return self.kept_as[1], self.kept_as[2]

    def form_viewer(self) -> Viewer | None:
        return cast(Host, self.app).viewer

    def form_backend(self) -> Backend:
        return cast(Host, self.app).backend

    def form_fields(self) -> dict[str, object]:
        return {"reason": self.query_one("#reason-input", Input).value}

    def fill_form(self, fields: Mapping[str, Any]) -> None:
        self.query_one("#reason-input", Input).value = str(fields.get("reason") or "")
