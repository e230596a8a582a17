"""The audit trail for auditors: who saw or changed what, when, for what purpose.

Reached with ctrl+y or "audit: trail" in the palette, both offered to the auditor role
only (the app checks the role; so does this screen, and the service refuses anyone
else and records the refusal). The events are read in a thread worker through
``services.access_report.auditor_events``, newest ``LIMIT`` of those matching the
filters, and the reading itself is recorded. The disclosure ledger shows as "was shown
a note of another profession" with its basis (consent ids, rule ids). Ids and names of
professionals only: the trail holds no note text.

Filters: young person id, username, from/until day (YYYY-MM-DD) and action. Enter in a
filter field (or ctrl+r) reads again; ``/`` goes to the filters, Escape back to the
table, and from the table back to the board.
"""

from __future__ import annotations

import datetime as dt
from typing import cast

from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Horizontal
from textual.message import Message
from textual.widgets import DataTable, Input, Select, Static
from textual.worker import get_current_worker

from anchor_tui.domain import Viewer
from anchor_tui.palette import PaletteCommand
from anchor_tui.screens.base import AnchorScreen
from anchor_tui.screens.case import AppHost
from anchor_tui.services.access_report import (
    ACTION_LABELS,
    AccessFilter,
    AccessLine,
    auditor_events,
)
from anchor_tui.widgets.case_record import when
from anchor_tui.widgets.key_footer import KeyFooter
from anchor_tui.widgets.plain_text import plain, printable

LIMIT = 500
COLUMNS = ("When", "Who", "Profession", "Action", "Purpose", "Huddle", "Person", "Object",
           "Basis")


class FilterProblem(Exception):
    def __init__(self, field: str, message: str) -> None:
        super().__init__(message)
        self.field = field
        self.message = message


class AuditEventsRead(Message):
    """Audit events matching ``flt`` were read for ``viewer`` (an auditor)."""

    def __init__(self, viewer: Viewer, flt: AccessFilter, lines: tuple[AccessLine, ...]
                 ) -> None:
        super().__init__()
        self.viewer = viewer
        self.flt = flt
        self.lines = lines


def cells(line: AccessLine, professions: dict[str, str]) -> tuple[Text, ...]:
    """One event as table cells: plain text, never markup."""
    values = (when(line.at), line.who, professions.get(line.profession, line.profession),
              line.action_label, line.purpose,
              str(line.huddle_id or ""), str(line.person_id or ""), line.what,
              line.basis if line.action == "note.disclosed" else ", ".join(line.rule_ids))
    return tuple(Text(printable(value)) for value in values)


class AuditScreen(AnchorScreen):
    """The audit trail with filters (auditors only)."""

    HELP = ("The audit trail: every sign-in, case view, note list, disclosure to another "
            "profession (with its basis: consent or rule), note written, consent change, "
            "export and refused access; newest last. Filter by young person id, username, "
            "days (YYYY-MM-DD) and action; Enter in a filter reads again. / goes to the "
            "filters, Esc back. Reading the trail is recorded too.")

    DEFAULT_CSS = """
    AuditScreen #audit-title { height: 1; background: $panel; padding: 0 1; }
    AuditScreen #audit-filters { height: 1; padding: 0 1; }
    AuditScreen #audit-filters Input { width: 14; margin-right: 1; }
    AuditScreen #audit-filters #audit-username { width: 16; }
    AuditScreen #audit-filters Select { width: 1fr; }
    AuditScreen #audit-status { height: 1; padding: 0 1; color: $text-muted; }
    AuditScreen #audit-table { height: 1fr; }
    """

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "back", "Back", id="audit.back"),
        Binding("slash", "filters", "Filters", key_display="/", id="audit.filters"),
        Binding("ctrl+r", "refresh", "Read again", id="audit.refresh"),
    ]

    def __init__(self) -> None:
        super().__init__()
        self.lines: tuple[AccessLine, ...] = ()
        self.flt = AccessFilter()

    @property
    def host(self) -> AppHost:
        return cast(AppHost, self.app)

    def compose(self) -> ComposeResult:
        yield Static("Audit trail", id="audit-title")
        with Horizontal(id="audit-filters"):
            yield Input(placeholder="person id", id="audit-person", restrict=r"[0-9]*",
                        max_length=12, compact=True)
            yield Input(placeholder="username", id="audit-username", max_length=64,
                        compact=True)
            yield Input(placeholder="from day", id="audit-since", max_length=10,
                        compact=True)
            yield Input(placeholder="until day", id="audit-until", max_length=10,
                        compact=True)
            yield Select([(plain(label), action) for action, label in ACTION_LABELS.items()],
                         prompt="every action", id="audit-action", compact=True)
        yield Static("Reading the audit trail…", id="audit-status")
        table: DataTable[Text] = DataTable(id="audit-table", cursor_type="row",
                                           zebra_stripes=True)
        yield table
        yield KeyFooter()

    def on_mount(self) -> None:
        table = self.query_one("#audit-table", DataTable)
        table.add_columns(*COLUMNS)
        table.focus()
        viewer = self.host.viewer
        if viewer is None or viewer.role != "auditor" or viewer.purpose != "individual":
            self.query_one("#audit-status", Static).update("For auditors only.")
            return
        self.load_events(self.flt)

    # --- filters ------------------------------------------------------------------------

    def _text(self, field: str) -> str:
        return self.query_one(f"#{field}", Input).value.strip()

    def _day(self, field: str, label: str) -> dt.date | None:
        text = self._text(field)
        if not text:
            return None
        try:
            return dt.date.fromisoformat(text)
        except ValueError:
            raise FilterProblem(field, f"{label}: write the day as YYYY-MM-DD "
                                "(e.g. 2026-11-16), or leave it empty.") from None

    def read_filter(self) -> AccessFilter:
        person = self._text("audit-person")
        action = self.query_one("#audit-action", Select).value
        since = self._day("audit-since", "From")
        until = self._day("audit-until", "Until")
        if since and until and until < since:
            raise FilterProblem("audit-until", "Until is before from: give a later day.")
        return AccessFilter(person_id=int(person) if person else None,
                            username=self._text("audit-username") or None,
                            since=since, until=until,
                            action=action if isinstance(action, str) else None)

    def action_refresh(self) -> None:
        try:
            flt = self.read_filter()
        except FilterProblem as problem:
            self.query_one("#audit-status", Static).update(plain(problem.message))
            self.query_one(f"#{problem.field}", Input).focus()
            return
        self.query_one("#audit-status", Static).update("Reading the audit trail…")
        self.load_events(flt)

    @on(Input.Submitted)
    def filter_submitted(self, event: Input.Submitted) -> None:
        event.stop()
        self.action_refresh()

    @on(Select.Changed, "#audit-action")
    def action_chosen(self) -> None:
        self.action_refresh()

    def action_filters(self) -> None:
        self.query_one("#audit-person", Input).focus()

    def action_back(self) -> None:
        if self.focused is not None and self.focused.id != "audit-table":
            self.query_one("#audit-table", DataTable).focus()
            return
        self.dismiss()

    # --- reading ------------------------------------------------------------------------

    @work(thread=True, exclusive=True, group="audit", exit_on_error=False)
    def load_events(self, flt: AccessFilter) -> None:
        viewer = self.host.viewer
        if viewer is None:
            return
        lines = auditor_events(self.host.backend, viewer, flt, limit=LIMIT)
        if not get_current_worker().is_cancelled:
            self.post_message(AuditEventsRead(viewer, flt, lines))

    def on_audit_events_read(self, message: AuditEventsRead) -> None:
        if message.viewer != self.host.viewer:
            return
        self.flt = message.flt
        self.lines = message.lines
        table = self.query_one("#audit-table", DataTable)
        table.clear()
        professions = self.host.backend.policy.professions
        for line in message.lines:
            table.add_row(*cells(line, professions), key=str(line.event_id))
        if message.lines:
            table.move_cursor(row=len(message.lines) - 1)
        count = len(message.lines)
        newest = f" (the newest {LIMIT})" if count >= LIMIT else ""
        disclosures = sum(1 for line in message.lines if line.action == "note.disclosed")
        self.query_one("#audit-status", Static).update(
            f"{count} event{'s' if count != 1 else ''}{newest}, {disclosures} "
            "disclosures to another profession · / filters · ctrl+r reads again")

    def palette_commands(self) -> list[PaletteCommand]:
        return [
            PaletteCommand("audit: filters", "Filter by person, user, day or action (/)",
                           self.action_filters),
            PaletteCommand("audit: read again", "Read the trail again (ctrl+r)",
                           self.action_refresh),
        ]
