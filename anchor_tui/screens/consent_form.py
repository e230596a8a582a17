"""The form that records a consent or a refusal, from the keyboard only.

Tab and shift+tab move between the fields; Enter opens a list (and picks from it);
Space marks a receiving profession (several may be marked, each becomes one record);
dates are written ``YYYY-MM-DD`` (the end may be left empty). ctrl+s, or Enter in the
evidence field, saves; Escape cancels, asking first when something was filled in.

A problem is named in the form, next to nothing lost: the form stays as it was typed,
with the cursor on the field to fix. Saving runs in a thread worker; if it fails (a
refusal, the database) the app's error modal opens over the form, which keeps its
values.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.message import Message
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static
from textual.worker import Worker, WorkerState

from anchor_tui.domain import Viewer
from anchor_tui.paste_input import OneLineInput
from anchor_tui.screens.case import AppHost
from anchor_tui.screens.confirm import DiscardQuestion
from anchor_tui.screens.quit_form import AsksBeforeQuit, QuitQuestion
from anchor_tui.services.clock import moment_on
from anchor_tui.services.consents import (
    ConsentChoices,
    ConsentInput,
    ConsentInputError,
    check_input,
    record_consent,
)
from anchor_tui.widgets.mark_list import MarkList
from anchor_tui.widgets.plain_text import plain

DATE_HINT = "YYYY-MM-DD"


class ConsentSaved(Message):
    """The form's consent was recorded for ``viewer``: one id per receiving profession."""

    def __init__(self, viewer: Viewer, ids: tuple[int, ...]) -> None:
        super().__init__()
        self.viewer = viewer
        self.ids = ids


class FormProblem(Exception):
    """A field to fix (``field`` is its widget id) and what to tell the person."""

    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


def parse_day(value: str, field: str, label: str, *, optional: bool) -> dt.date | None:
    text = value.strip()
    if not text and optional:
        return None
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        empty = " or leave it empty for no end" if optional else ""
        raise FormProblem(field, f"{label}: write the date as {DATE_HINT} "
                          f"(e.g. 2026-11-16){empty}.") from None


class ConsentFormScreen(ModalScreen[tuple[int, ...] | None], AsksBeforeQuit):
    """Record a consent for the young person of case ``case_id``; dismissed with the new
    consent ids, or None when cancelled."""

    QUIT_QUESTION = QuitQuestion(
        "Quit and discard this consent?",
        "Go back to the consent form",
        "Quit: discard what was filled in",
        "Nothing has been recorded yet. Esc goes back to the form.")

    HELP = ("Record a consent or refusal. Given by: the young person, a guardian or a "
            "legal representative (the young person's own refusal beats a guardian's "
            "permit). Category: the notes it concerns. To: the professions that may (or "
            "may not) receive them; Space marks one, several may be marked ([x]). Valid "
            "from/until: YYYY-MM-DD, the end may be empty. Evidence: how it was given. Tab "
            "moves, ctrl+s saves, Esc cancels.")

    DEFAULT_CSS = """
    ConsentFormScreen { align: center middle; background: $background 60%; }
    ConsentFormScreen #consent-form { width: 76; max-width: 100%; height: auto;
        max-height: 100%; padding: 0 1; border: thick $primary; background: $surface; }
    ConsentFormScreen .form-row { height: auto; margin-bottom: 1; }
    ConsentFormScreen #consent-form-title { margin-bottom: 1; }
    ConsentFormScreen .form-label { width: 14; padding-right: 1; }
    ConsentFormScreen Select, ConsentFormScreen Input { width: 1fr; }
    ConsentFormScreen MarkList { width: 1fr; height: auto; max-height: 6; }
    ConsentFormScreen #consent-valid-from, ConsentFormScreen #consent-valid-to { width: 14; }
    ConsentFormScreen .until { width: auto; padding: 0 1; }
    ConsentFormScreen #consent-form-message { height: auto; color: $text-error;
        text-style: bold; }
    ConsentFormScreen .form-buttons { height: auto; }
    ConsentFormScreen .form-buttons Button { margin-right: 2; min-width: 12; }
    """

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("ctrl+s", "save", "Save", id="consent_form.save"),
        Binding("escape", "cancel", "Cancel", id="consent_form.cancel"),
    ]

    def __init__(self, case_id: int, person_label: str, choices: ConsentChoices,
                 today: dt.date) -> None:
        super().__init__()
        self.case_id = case_id
        self.person_label = person_label
        self.choices = choices
        self.today = today
        self._saving = False

    @property
    def host(self) -> AppHost:
        return cast(AppHost, self.app)

    def compose(self) -> ComposeResult:
        c = self.choices
        with VerticalScroll(id="consent-form"):
            yield Static(plain(f"New consent for {self.person_label} (case {self.case_id})",
                               "bold"), id="consent-form-title")
            with Horizontal(classes="form-row"):
                yield Label("Given by", classes="form-label")
                yield Select([(plain(label), value) for value, label in c.grantors],
                             prompt="who gave it", id="consent-grantor", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Decision", classes="form-label")
                yield Select([(plain(label), value) for value, label in c.decisions],
                             prompt="permits or refuses", id="consent-decision", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Category", classes="form-label")
                yield Select([(plain(label), value) for value, label in c.categories],
                             prompt="which notes", id="consent-category", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("To (Space)", classes="form-label")
                yield MarkList(c.professions, id="consent-professions", compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Valid from", classes="form-label")
                yield Input(self.today.isoformat(), placeholder=DATE_HINT, max_length=10,
                            id="consent-valid-from", compact=True)
                yield Label("until", classes="until")
                yield Input("", placeholder="no end", max_length=10, id="consent-valid-to",
                            compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Evidence", classes="form-label")
                yield OneLineInput("", placeholder="how it was given, e.g. signed form in the "
                            "anchor meeting", max_length=500, id="consent-evidence",
                            compact=True)
            yield Static("", id="consent-form-message")
            with Horizontal(classes="form-buttons"):
                yield Button("Save (ctrl+s)", id="consent-save", variant="primary",
                             compact=True)
                yield Button("Cancel (Esc)", id="consent-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#consent-grantor", Select).focus()

    # --- reading the form -------------------------------------------------------------

    def _select(self, field: str) -> str:
        value = self.query_one(f"#{field}", Select).value
        return value if isinstance(value, str) else ""

    def _text(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value

    def form_input(self) -> ConsentInput:
        """The form as a consent, or :class:`FormProblem` naming the first field to fix."""
        grantor = self._select("consent-grantor")
        if not grantor:
            raise FormProblem("consent-grantor", "Choose who gave it: the young person, a "
                              "guardian or a legal representative.")
        decision = self._select("consent-decision")
        if not decision:
            raise FormProblem("consent-decision", "Choose whether it permits or refuses.")
        category = self._select("consent-category")
        if not category:
            raise FormProblem("consent-category", "Choose the category of notes it concerns.")
        professions = tuple(self.query_one("#consent-professions", MarkList).marked)
        if not professions:
            raise FormProblem("consent-professions", "Mark at least one receiving "
                              "profession (Space marks the highlighted one).")
        valid_from = parse_day(self._text("consent-valid-from"), "consent-valid-from",
                               "Valid from", optional=False)
        assert valid_from is not None
        valid_to = parse_day(self._text("consent-valid-to"), "consent-valid-to",
                             "Valid until", optional=True)
        data = ConsentInput(grantor, decision, category, professions, valid_from, valid_to,
                            self._text("consent-evidence"))
        try:
            check_input(self.host.backend, data)
        except ConsentInputError as problem:
            field = "consent-" + problem.field.replace("_", "-")
            raise FormProblem(field, f"{problem.message} {problem.fix}".strip()) from None
        return data

    def filled_in(self) -> bool:
        return any((self._select("consent-grantor"), self._select("consent-decision"),
                    self._select("consent-category"),
                    self.query_one("#consent-professions", MarkList).marked,
                    self._text("consent-valid-to").strip(),
                    self._text("consent-evidence").strip(),
                    self._text("consent-valid-from") != self.today.isoformat()))

    def _say(self, text: str) -> None:
        self.query_one("#consent-form-message", Static).update(plain(text, one_line=False))

    # --- saving -----------------------------------------------------------------------

    def action_save(self) -> None:
        if self._saving:
            return
        try:
            data = self.form_input()
        except FormProblem as problem:
            self._say(problem.message)
            self.query_one(f"#{problem.field}", Widget).focus()
            return
        self._say("")
        self._saving = True
        self.save(data)

    @work(thread=True, exclusive=True, group="consent-save", exit_on_error=False)
    def save(self, data: ConsentInput) -> None:
        viewer = self.host.viewer
        if viewer is None:
            return
        ids = record_consent(self.host.backend, viewer, self.case_id, data,
                             now=moment_on(self.today))
        self.post_message(ConsentSaved(viewer, ids))

    def on_consent_saved(self, message: ConsentSaved) -> None:
        if message.viewer == self.host.viewer:
            self.dismiss(message.ids)

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The app's one error handler shows the modal over this form; the form keeps
        # everything typed, so it can be saved again.
        if event.state == WorkerState.ERROR:
            self._saving = False
            self._say("Not recorded. Close the message, then save again or cancel.")
            self.app.post_message(Worker.StateChanged(event.worker, event.state))

    # --- moving and leaving -----------------------------------------------------------

    @on(Input.Submitted)
    def next_field(self, event: Input.Submitted) -> None:
        event.stop()
        if event.input.id == "consent-evidence":
            self.action_save()
        else:
            self.focus_next()

    def on_button_pressed(self, event: Button.Pressed) -> None:
        event.stop()
        if event.button.id == "consent-save":
            self.action_save()
        else:
            self.action_cancel()

    def action_cancel(self) -> None:
        if not self.filled_in():
            self.dismiss(None)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.dismiss(None)

        self.app.push_screen(DiscardQuestion("Discard this consent?", "Nothing has been "
                                             "recorded yet. Discard what was filled in?"),
                             callback=answered)
