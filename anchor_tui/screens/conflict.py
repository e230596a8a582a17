"""When two terminals changed the same case: both versions side by side, and a choice.

Shown when an edit finds the case changed since it was read (``CaseConflict``). Nothing
has been written yet. The person sees what they saw, what the case is now, who changed
it meanwhile and their own change, then chooses: apply their change to the current
version, or keep the current version as it is. Escape keeps the current version too:
nothing is ever written without a choice.
"""

from __future__ import annotations

import datetime as dt
import textwrap

from rich.cells import cell_len
from textual.app import ComposeResult
from textual.binding import Binding
from textual.containers import Vertical
from textual.content import Content
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from anchor_tui.domain import PRIORITY_LABELS
from anchor_tui.services.case_edits import CaseChange, CaseConflict, CaseState
from anchor_tui.settings import TeamConfig
from anchor_tui.widgets.plain_text import plain, printable


def _members(state: CaseState) -> str:
    if state.members is None:
        return "—"
    return ", ".join(mc.display_name for mc in state.members) or "nobody"


def _fields(team: TeamConfig, state: CaseState) -> list[tuple[str, str]]:
    return [
        ("Stage", team.stage_label(state.stage)),
        ("Priority", PRIORITY_LABELS.get(state.priority, str(state.priority))),
        ("Next review", state.next_review.isoformat() if state.next_review else "none"),
        ("Lead", state.lead or "—"),
        ("Members", _members(state)),
        ("Version", str(state.version)),
    ]


def describe_change(team: TeamConfig, change: CaseChange, state: CaseState) -> str:
    """"Priority → high", in the team's words (member changes name the person)."""
    names = {mc.user_id: mc.display_name for mc in state.members or ()}
    value = change.value
    if change.field == "stage":
        return f"Stage → {team.stage_label(str(value))}"
    if change.field == "priority" and isinstance(value, int):
        return f"Priority → {PRIORITY_LABELS.get(value, str(value))}"
    if change.field == "next_review":
        return f"Next review → {value.isoformat() if isinstance(value, dt.date) else 'none'}"
    person = names.get(int(value), "the person") if isinstance(value, int) else "the person"
    if change.field == "member_added":
        return f"Add {person} to the case"
    return f"End {person}'s work on the case"


_LABEL_CELLS = 12
_VALUE_CELLS = 30
"""Two value columns and the label fit the box's 84 cells with "← changed" beside them."""


def _lines_of(value: str) -> list[str]:
    """``value`` (made inert) in lines that fit its column: a long list of members
    wraps within the column instead of pushing "Now" onto the next line."""
    return textwrap.wrap(printable(value), _VALUE_CELLS - 2) or [""]


def _padded(text: str) -> str:
    return text + " " * max(0, _VALUE_CELLS - cell_len(text))


def comparison(team: TeamConfig, conflict: CaseConflict) -> Content:
    seen, now = _fields(team, conflict.seen), _fields(team, conflict.now)
    lines = [Content.assemble(
        (f"{'':<{_LABEL_CELLS}}{'You saw':<{_VALUE_CELLS}}Now", "bold"))]
    for (label, before), (_, after) in zip(seen, now, strict=True):
        left, right = _lines_of(before), _lines_of(after)
        for row in range(max(len(left), len(right))):
            mark = ("← changed", "bold $text-warning") if before != after and row == 0 \
                else ("", "")
            lines.append(Content.assemble(
                f"{label if row == 0 else '':<{_LABEL_CELLS}}",
                plain(_padded(left[row] if row < len(left) else "")),
                plain(_padded(right[row] if row < len(right) else "")), mark))
    return Content("\n").join(lines)


class ConflictScreen(ModalScreen[str | None]):
    """Dismissed with ``apply``, ``keep`` or None (Escape: keep, nothing written)."""

    HELP = ("Someone changed this case after you read it. Compare what you saw with how "
            "it is now, then apply your change to the current version or keep it as it is. "
            "Nothing is written until you choose.")

    DEFAULT_CSS = """
    ConflictScreen { align: center middle; background: $background 60%; }
    ConflictScreen #conflict-options { height: auto; margin-top: 1; }
    """

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("escape", "keep", "Keep current", id="conflict.keep"),
        Binding("a", "choose('apply')", "Apply mine", id="conflict.apply"),
    ]

    def __init__(self, team: TeamConfig, conflict: CaseConflict) -> None:
        super().__init__()
        self.team = team
        self.conflict = conflict

    def compose(self) -> ComposeResult:
        conflict = self.conflict
        who = ", ".join(conflict.changed_by) or "someone on another terminal"
        with Vertical(id="conflict-box", classes="modal-box"):
            yield Static(plain(f"{conflict.now.person_label}'s case changed meanwhile"),
                         classes="modal-title")
            yield Static(comparison(self.team, conflict), id="conflict-table")
            yield Static(Content.assemble(("Changed by: ", "bold"), plain(who)))
            yield Static(Content.assemble(("Your change: ", "bold"), plain(describe_change(
                self.team, conflict.wanted, conflict.now))), id="conflict-mine")
            yield OptionList(
                Option("Apply my change to the current version (a)", id="apply"),
                Option("Keep the current version, without my change (Esc)", id="keep"),
                id="conflict-options")
            yield Static("Nothing is written until you choose.", classes="modal-hint")

    def on_mount(self) -> None:
        self.query_one(OptionList).focus()

    def on_option_list_option_selected(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)

    def action_choose(self, choice: str) -> None:
        self.dismiss(choice)

    def action_keep(self) -> None:
        self.dismiss("keep")
