"""The form that records a consent or a refusal, from the keyboard only.

Tab and shift+tab move between the fields; Enter opens a list (and picks from it);
Space marks a receiving profession (several may be marked, each becomes one record);
dates are written ``YYYY-MM-DD`` (the end may be left empty). ctrl+s, or Enter in the
evidence field, saves; Escape cancels, asking first when something was filled in.

A problem is named in the form, next to nothing lost: the form stays as it was typed,
with the cursor on the field to fix.

Saved, the form closes and the consent goes through the app's save queue
(``saving.save_or_keep``), as a task does: with the database away it is kept (and said
so) and recorded when it is back; recorded, that is said and every screen showing the
young person's cases reads them again (the consent screen too). A recording whose commit
reached the server while its answer was lost is made again too: it carries the moment
the person saved it, and the second attempt first looks for the rows the first wrote
then (``saving.made_once``, ``services.consents.recorded_at``), so it is recorded once.
Refused (the person no longer works the case, a choice the team no longer has), maybe
long after, the form comes back with what was filled in and why, so nothing is lost.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal, VerticalScroll
from textual.screen import ModalScreen
from textual.widget import Widget
from textual.widgets import Button, Input, Label, Select, Static
from textual.widgets.select import NoSelection

from anchor_tui.domain import Viewer
from anchor_tui.errors import AnchorError
from anchor_tui.messages import CasesChanged
from anchor_tui.paste_input import OneLineInput
from anchor_tui.saving import context_alive, later_notifier, made_once, save_or_keep
from anchor_tui.screens.case import AppHost
from anchor_tui.screens.confirm import DiscardQuestion
from anchor_tui.screens.kept_form import KeepsTypedForm, KeptFormNote
from anchor_tui.screens.quit_form import QuitQuestion
from anchor_tui.services.backend import Backend
from anchor_tui.services.clock import moment_on, utcnow
from anchor_tui.services.consents import (
    ConsentChoices,
    ConsentInput,
    ConsentInputError,
    check_input,
    record_consent,
    recorded_at,
)
from anchor_tui.services.form_drafts import case_target
from anchor_tui.widgets.mark_list import MarkList
from anchor_tui.widgets.plain_text import plain

DATE_HINT = "YYYY-MM-DD"


@dataclass(frozen=True)
class TypedConsent:
    """What was filled into a form whose consent was refused, to give the form back with."""

    data: ConsentInput
    why: str
    """Why it was not recorded, shown in the form given back."""


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


class ConsentFormScreen(ModalScreen[None], KeepsTypedForm):
    """Record a consent for the young person of case ``case_id``: saved through the app's
    save queue once the form has closed. What was filled in (its evidence too) is kept
    for its author if the terminal passes to someone else while it is open
    (``kept_form``), and given back the next time they add a consent on the case."""

    FORM_KIND = "consent"

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
                 today: dt.date, *, again: TypedConsent | None = None) -> None:
        """``again``: a consent that was refused, given back with what was filled in and
        why."""
        super().__init__()
        self.case_id = case_id
        self.person_label = person_label
        self.choices = choices
        self.today = today
        self.again = again
        self._saving = False

    @property
    def host(self) -> AppHost:
        return cast(AppHost, self.app)

    def compose(self) -> ComposeResult:
        c = self.choices
        typed = self.again.data if self.again is not None else None

        def chosen(field: str, pairs: tuple[tuple[str, str], ...]) -> str | NoSelection:
            """What was chosen in ``field`` of a form given back (if still offered)."""
            value = getattr(typed, field, None)
            return value if value in {key for key, _ in pairs} else Select.NULL

        with VerticalScroll(id="consent-form"):
            yield Static(plain(f"New consent for {self.person_label} (case {self.case_id})",
                               "bold"), id="consent-form-title")
            with Horizontal(classes="form-row"):
                yield Label("Given by", classes="form-label")
                yield Select([(plain(label), value) for value, label in c.grantors],
                             prompt="who gave it", id="consent-grantor", compact=True,
                             value=chosen("grantor", c.grantors))
            with Horizontal(classes="form-row"):
                yield Label("Decision", classes="form-label")
                yield Select([(plain(label), value) for value, label in c.decisions],
                             prompt="permits or refuses", id="consent-decision", compact=True,
                             value=chosen("decision", c.decisions))
            with Horizontal(classes="form-row"):
                yield Label("Category", classes="form-label")
                yield Select([(plain(label), value) for value, label in c.categories],
                             prompt="which notes", id="consent-category", compact=True,
                             value=chosen("category", c.categories))
            with Horizontal(classes="form-row"):
                yield Label("To (Space)", classes="form-label")
                yield MarkList(c.professions, id="consent-professions", compact=True,
                               marked=typed.professions if typed else ())
            with Horizontal(classes="form-row"):
                yield Label("Valid from", classes="form-label")
                yield Input((typed.valid_from if typed else self.today).isoformat(),
                            placeholder=DATE_HINT, max_length=10, id="consent-valid-from",
                            compact=True)
                yield Label("until", classes="until")
                yield Input(typed.valid_to.isoformat() if typed and typed.valid_to else "",
                            placeholder="no end", max_length=10, id="consent-valid-to",
                            compact=True)
            with Horizontal(classes="form-row"):
                yield Label("Evidence", classes="form-label")
                yield OneLineInput(typed.evidence if typed else "",
                                   placeholder="how it was given, e.g. signed form in the "
                                   "anchor meeting", max_length=500, id="consent-evidence",
                                   compact=True)
            yield KeptFormNote(id="consent-kept")
            yield Static("", id="consent-form-message")
            with Horizontal(classes="form-buttons"):
                yield Button("Save (ctrl+s)", id="consent-save", variant="primary",
                             compact=True)
                yield Button("Cancel (Esc)", id="consent-cancel", compact=True)

    def on_mount(self) -> None:
        self.query_one("#consent-grantor", Select).focus()
        if self.again is not None:
            self._say(self.again.why)
        self.offer_kept_form()

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
        """Something filled in; a form given back after a refusal holds what was not
        recorded, whatever is in it now."""
        if self.again is not None:
            return True
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
        self.forget_kept_form()  # recorded now, or given back with its words if refused
        self.save(data)

    def save(self, data: ConsentInput) -> None:
        """Close the form and record the consent through the app's save queue: kept while
        the database is away, recorded once after a lost answer, and, refused, the form
        given back with what was filled in."""
        viewer = self.host.viewer
        if viewer is None:
            return
        app, backend = self.app, self.host.backend
        case_id, person_label, choices, today = (self.case_id, self.person_label,
                                                 self.choices, self.today)
        now = moment_on(today)  # who may record it is judged on the app's day, as before
        made = utcnow()  # the moment it was saved, the same for every attempt
        once = made_once(
            partial(record_consent, backend, viewer, case_id, data, now, at=made),
            partial(recorded_at, backend, viewer, case_id, data, made, now))
        tell, alive = later_notifier(app), context_alive(app)

        def saved(ids: tuple[int, ...]) -> None:
            tell(f"Recorded {len(ids)} consent{'s' if len(ids) > 1 else ''}.",
                 title="Consent recorded", markup=False)
            if alive():  # the consent screen, the case view and the board read again
                app.post_message(CasesChanged(None))

        def refused(error: AnchorError) -> None:
            # Handed back only to whoever filled it in (save_or_keep), maybe long after:
            # the form comes back with what they wrote, on their own screens.
            app.push_screen(ConsentFormScreen(case_id, person_label, choices, today,
                                              again=TypedConsent(data, f"Not recorded: "
                                                                 f"{error.message} {error.fix}")))

        save_or_keep(app, f"record a consent for {person_label} (case {case_id})",
                     "The consent", once, on_saved=saved, on_refused=refused,
                     keep_if_refused=self.keep_if_refused())
        self.dismiss(None)

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
                self.discarded()
                self.dismiss(None)

        self.app.push_screen(DiscardQuestion("Discard this consent?", "Nothing has been "
                                             "recorded yet. Discard what was filled in?"),
                             callback=answered)

    # --- kept for its author (``kept_form``) --------------------------------------------

    def form_target(self) -> tuple[str, int | None]:
        return case_target(self.case_id), self.case_id

    def form_viewer(self) -> Viewer | None:
        return self.host.viewer

    def form_backend(self) -> Backend:
        return self.host.backend

    def form_fields(self) -> dict[str, object]:
        return {"grantor": self._select("consent-grantor"),
                "decision": self._select("consent-decision"),
                "category": self._select("consent-category"),
                "professions": list(self.query_one("#consent-professions", MarkList).marked),
                "valid_from": self._text("consent-valid-from"),
                "valid_to": self._text("consent-valid-to"),
                "evidence": self._text("consent-evidence")}

    def fill_form(self, fields: Mapping[str, Any]) -> None:
        c = self.choices
        for field, pairs in (("grantor", c.grantors), ("decision", c.decisions),
                             ("category", c.categories)):
            select: Select[str] = self.query_one(f"#consent-{field}", Select)
            value = fields.get(field)
            if value in {key for key, _ in pairs}:  # a choice the team still has
                select.value = value
            else:
                select.clear()
        professions = fields.get("professions")
        self.query_one("#consent-professions", MarkList).mark_only(
            [str(p) for p in professions] if isinstance(professions, list) else [])
        self.query_one("#consent-valid-from", Input).value = str(
            fields.get("valid_from") or self.today.isoformat())
        self.query_one("#consent-valid-to", Input).value = str(fields.get("valid_to") or "")
        self.query_one("#consent-evidence", Input).value = str(fields.get("evidence") or "")
