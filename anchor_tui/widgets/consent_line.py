"""How a consent record reads on the consent screen: one line in the list, and details.

Labels come from the team's words (``ConsentChoices``); the evidence and names are user
text and go through ``plain``. The status is always a word; colour only repeats it.
"""

from __future__ import annotations

from collections.abc import Sequence

from textual.content import Content

from anchor_tui.services.consents import ConsentChoices, ConsentLine
from anchor_tui.widgets.case_record import when
from anchor_tui.widgets.plain_text import plain

STATUS_STYLES = {"in force": "bold", "withdrawn": "dim", "expired": "dim",
                 "not yet in force": "italic"}


STATUS_WIDTH = 18


def consent_sentence(line: ConsentLine, choices: ConsentChoices) -> str:
    """``The young person permits Health to Police``."""
    verb = "permits" if line.decision == "permit" else "refuses"
    return (f"{choices.label('grantors', line.grantor)} {verb} "
            f"{choices.label('categories', line.category)} to "
            f"{choices.label('professions', line.profession)}")


def consent_label(line: ConsentLine, choices: ConsentChoices) -> Content:
    """Two lines: status and who permits what to whom; then the period."""
    until = f"until {line.valid_to.isoformat()}" if line.valid_to is not None else "no end"
    return Content.assemble(
        (f"{line.status.capitalize():<{STATUS_WIDTH}}", STATUS_STYLES.get(line.status, "")),
        plain(consent_sentence(line, choices)), "\n", " " * STATUS_WIDTH,
        f"from {line.valid_from.isoformat()}, {until}",
    )


def consent_detail(line: ConsentLine) -> Content:
    """Who recorded it and when, whether it was withdrawn, and the evidence."""
    withdrawn = f" · withdrawn {when(line.withdrawn_at)}" if line.withdrawn_at else ""
    return Content.assemble(
        f"Consent {line.consent_id} · recorded {when(line.recorded_at)} by ",
        plain(line.recorded_by), withdrawn, "\n", ("Evidence: ", "bold"),
        plain(line.evidence or "—", one_line=False),
    )


def consent_summary(lines: Sequence[ConsentLine]) -> Content:
    """``3 consents, 1 in force`` (or how to record the first one)."""
    if not lines:
        return Content("No consents recorded. Press n to record one.")
    in_force = sum(1 for line in lines if line.status == "in force")
    total = f"{len(lines)} consent{'s' if len(lines) != 1 else ''}"
    return Content(f"{total}, {in_force} in force · n new · w withdraw · Esc back")
