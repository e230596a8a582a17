"""The consents of a case's young person: history, record (``n``), withdraw (``w``).

Opened from the case view (``c``, or "case: consents" in the palette). The history is
read in a thread worker through ``services.consents`` (which refuses, and records the
refusal, for anyone who neither works the case nor leads the team); every consent ever
recorded is listed newest first with its status as a word (in force, withdrawn,
expired, not yet in force). A consent is never edited or deleted: it is withdrawn, after
a confirmation that names it, and from the next query on the notes it let through are
hidden again, on every terminal.

A consent recorded (the form) and a withdrawal confirmed go through the app's save queue
(``saving.save_or_keep``): with the database away they are kept (and said so) and made
when it is back, and made once after a commit whose answer was lost (a withdrawal
carries the moment it was confirmed, and the attempt made again first looks for it:
``services.consents.withdrawn_at``). Once made, every screen reads again what it shows
(``CasesChanged``); this one, as the case view does, reads the history again whenever a
consent may have changed, here or on another terminal.
"""

from __future__ import annotations

from functools import partial
from typing import cast

from textual import work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.message import Message
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option
from textual.worker import Worker, WorkerState, get_current_worker

from anchor_tui.domain import Viewer
from anchor_tui.errors import DatabaseError
from anchor_tui.messages import CasesChanged
from anchor_tui.palette import PaletteCommand
from anchor_tui.saving import (
    context_alive,
    later_notifier,
    made_once,
    save_or_keep,
    save_queue,
)
from anchor_tui.screens.base import AnchorScreen
from anchor_tui.screens.case import AppHost
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.consent_form import ConsentFormScreen
from anchor_tui.services.clock import moment_on
from anchor_tui.services.consents import (
    ConsentChoices,
    ConsentHistory,
    ConsentLine,
    consent_choices,
    consent_history,
    withdraw_consent,
    withdrawn_at,
)
from anchor_tui.widgets.consent_line import (
    consent_detail,
    consent_label,
    consent_sentence,
    consent_summary,
)
from anchor_tui.widgets.key_footer import KeyFooter
from anchor_tui.widgets.plain_text import plain


class ConsentsRead(Message):
    """The consent history of a case's young person was read for ``viewer``."""

    def __init__(self, viewer: Viewer, history: ConsentHistory) -> None:
        super().__init__()
        self.viewer = viewer
        self.history = history


class ConsentScreen(AnchorScreen):
    """Consents of the young person of case ``case_id``, for the signed-in viewer."""

    HELP = ("Consents of this case's young person, newest first, each with its status. "
            "n records a new consent or refusal (given by the young person, a guardian or "
            "a legal representative; for one category of notes, to one or more "
            "professions). w withdraws the highlighted one after a confirmation: the notes "
            "it let through are hidden from the next read on. A consent is never edited "
            "or deleted. The young person's own refusal beats a guardian's permit.")

    DEFAULT_CSS = """
    ConsentScreen #consent-title { height: 1; background: $panel; padding: 0 1; }
    ConsentScreen #consent-status { height: 1; padding: 0 1; color: $text-muted; }
    ConsentScreen #consent-list { height: 1fr; }
    ConsentScreen #consent-list > .option-list--option { padding: 0 1; }
    ConsentScreen #consent-detail { height: auto; max-height: 8; padding: 0 1;
        border-top: hkey $panel-lighten-2; }
    """

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "back", "Back", id="consent.back"),
        Binding("n", "new", "New consent", id="consent.new"),
        Binding("w", "withdraw", "Withdraw", id="consent.withdraw"),
        Binding("r", "refresh", "Refresh", id="consent.refresh"),
        Binding("j", "step(1)", "Down", show=False, id="consent.down"),
        Binding("k", "step(-1)", "Up", show=False, id="consent.up"),
    ]

    def __init__(self, case_id: int) -> None:
        super().__init__()
        self.case_id = case_id
        self.history: ConsentHistory | None = None
        self._choices: ConsentChoices | None = None

    @property
    def host(self) -> AppHost:
        return cast(AppHost, self.app)

    @property
    def choices(self) -> ConsentChoices:
        if self._choices is None:
            self._choices = consent_choices(self.host.backend)
        return self._choices

    def compose(self) -> ComposeResult:
        yield Static(f"Consents · case {self.case_id}", id="consent-title")
        yield Static("Reading the consents…", id="consent-status")
        yield OptionList(id="consent-list")
        yield Static("", id="consent-detail")
        yield KeyFooter()

    def on_mount(self) -> None:
        self.query_one("#consent-list", OptionList).focus()
        self.load_history()

    # --- reading ----------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="consents", exit_on_error=False)
    def load_history(self) -> None:
        viewer = self.host.viewer
        if viewer is None:
            return
        history = consent_history(self.host.backend, viewer, self.case_id,
                                  now=moment_on(self.host.today()))
        if not get_current_worker().is_cancelled:
            self.post_message(ConsentsRead(viewer, history))

    def on_consents_read(self, message: ConsentsRead) -> None:
        if message.viewer != self.host.viewer or message.history.case_id != self.case_id:
            return  # read for someone else: never shown here
        history = message.history
        self.history = history
        self.query_one("#consent-title", Static).update(plain(
            f"Consents · {history.person_label} · case {self.case_id}"))
        self.query_one("#consent-status", Static).update(consent_summary(history.lines))
        options = self.query_one("#consent-list", OptionList)
        keep = options.highlighted
        options.clear_options()
        options.add_options([Option(consent_label(line, self.choices),
                                    id=str(line.consent_id)) for line in history.lines])
        if history.lines:
            options.highlighted = min(keep or 0, len(history.lines) - 1)
        self._show_detail()

    def on_cases_changed(self, message: CasesChanged) -> None:
        """A consent may have changed (recorded or withdrawn here, or on any terminal):
        read the history again, keeping the place in it. Nothing is read before the first
        read came (or was refused)."""
        if message.touches(self.case_id) and self.history is not None:
            self.load_history()

    def on_worker_state_changed(self, event: Worker.StateChanged) -> None:
        # The app shows what went wrong (a refusal, a database problem): nothing is shown
        # here that was not read. Read again and refused (the viewer's membership ended,
        # at midnight or on another terminal), what was read before goes too: it is no
        # longer theirs to see. (The database away: what was read stays, as elsewhere.)
        if event.state != WorkerState.ERROR or event.worker.group != "consents":
            return
        if self.history is not None and isinstance(event.worker.error, DatabaseError):
            return
        self.history = None
        self.query_one("#consent-title", Static).update("Consents")
        self.query_one("#consent-list", OptionList).clear_options()
        self.query_one("#consent-detail", Static).update("")
        self.query_one("#consent-status", Static).update("Nothing to show.")

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        event.stop()
        self._show_detail()

    def _show_detail(self) -> None:
        line = self.highlighted_line()
        detail = self.query_one("#consent-detail", Static)
        detail.update(consent_detail(line) if line is not None else "")

    def highlighted_line(self) -> ConsentLine | None:
        if self.history is None:
            return None
        index = self.query_one("#consent-list", OptionList).highlighted
        if index is None or not 0 <= index < len(self.history.lines):
            return None
        return self.history.lines[index]

    # --- actions ----------------------------------------------------------------------

    def action_back(self) -> None:
        self.dismiss()

    def action_refresh(self) -> None:
        self.load_history()

    def action_step(self, step: int) -> None:
        options = self.query_one("#consent-list", OptionList)
        if step > 0:
            options.action_cursor_down()
        else:
            options.action_cursor_up()

    def action_new(self) -> None:
        if self.history is None:
            return  # not read (or refused): nothing to add to

        # Recorded (through the save queue), the app tells every screen to read again:
        # this one among them (on_cases_changed).
        self.app.push_screen(ConsentFormScreen(self.case_id, self.history.person_label,
                                               self.choices, self.host.today()))

    def action_withdraw(self) -> None:
        line = self.highlighted_line()
        if line is None:
            return
        if line.withdrawn_at is not None:
            self.notify(f"Consent {line.consent_id} was already withdrawn.")
            return
        if self._withdrawal_label(line.consent_id) in save_queue(self.app).waiting_here:
            # Kept for the database (or in line): a second one would only be refused.
            self.notify(f"Consent {line.consent_id} is being withdrawn: the withdrawal is "
                        "kept and made when the database can take it.", markup=False)
            return
        question = (f"Withdraw consent {line.consent_id}: "
                    f"{consent_sentence(line, self.choices)}? From now on the "
                    "notes it let through are hidden, on every terminal. It stays in the "
                    "history as withdrawn.")

        def answered(yes: bool | None) -> None:
            if yes:
                self.withdraw(line.consent_id)

        self.app.push_screen(ConfirmScreen("Withdraw a consent", question, yes="Withdraw"),
                             callback=answered)

    def withdraw(self, consent_id: int) -> None:
        """Withdraw the consent through the app's save queue: kept while the database is
        away, made once after a lost answer (found by the moment it was confirmed, not
        refused as already withdrawn)."""
        viewer = self.host.viewer
        if viewer is None or self.history is None:
            return
        app, backend, case_id = self.app, self.host.backend, self.case_id
        # The moment it is withdrawn from, on the app's day (the notes it let through are
        # hidden from then), the same for every attempt.
        made = moment_on(self.host.today())
        once = made_once(
            partial(withdraw_consent, backend, viewer, case_id, consent_id, now=made),
            partial(withdrawn_at, backend, viewer, case_id, consent_id, made))
        tell, alive = later_notifier(app), context_alive(app)

        def saved(_: object) -> None:
            tell(f"Consent {consent_id} withdrawn.", title="Consent withdrawn", markup=False)
            if alive():  # every screen reads again what it shows (this one too)
                app.post_message(CasesChanged(None))

        # Refused (no longer on the case, withdrawn by someone else meanwhile), the app's
        # error modal says why, as for any save: there is nothing typed to give back.
        save_or_keep(app, self._withdrawal_label(consent_id), "The withdrawal", once,
                     on_saved=saved)

    def _withdrawal_label(self, consent_id: int) -> str:
        """The withdrawal's save, in the team's words (the quit question names it)."""
        person = self.history.person_label if self.history is not None else "the young person"
        return f"withdraw consent {consent_id} for {person} (case {self.case_id})"

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand("consent: new", "Record a consent or refusal (n)", self.action_new),
            PaletteCommand("consent: withdraw", "Withdraw the highlighted consent (w)",
                           self.action_withdraw),
            PaletteCommand("consent: refresh", "Read the consents again (r)",
                           self.action_refresh),
            PaletteCommand("consent: back", "Back to the case (Esc)", self.action_back),
        ]
