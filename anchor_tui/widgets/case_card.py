"""A case on the board: who, what about, how urgent and when it is next reviewed.

Every status is a text label (``High priority``, ``Review overdue``); colour only
repeats what the text already says.
"""

from __future__ import annotations

import datetime as dt

from textual.content import Content
from textual.widgets import Static

from anchor_tui.domain import CaseCard
from anchor_tui.widgets.plain_text import plain


def review_label(next_review: dt.date | None, today: dt.date) -> tuple[str, str]:
    """The next-review line and its style."""
    if next_review is None:
        return "No review date", "dim"
    if next_review < today:
        return f"Overdue {next_review.isoformat()}", "bold $text-error"
    return f"Review {next_review.isoformat()}", ""


def card_content(card: CaseCard, category_label: str, today: dt.date) -> Content:
    review, review_style = review_label(card.next_review, today)
    priority = f"{card.priority_label.capitalize()} priority"
    priority_style = "bold $text-warning" if card.priority == 1 else ""
    return Content("\n").join([
        plain(card.person_label, "bold"),
        plain(category_label),
        Content.assemble((priority, priority_style)),
        Content.assemble((review, review_style)),
    ])


class CaseCardView(Static, can_focus=True):
    """One focusable case card. Holds only what the viewer may see (a ``CaseCard``)."""

    def __init__(self, card: CaseCard, category_label: str, today: dt.date) -> None:
        classes = f"priority-{card.priority_label}"
        if card.next_review is not None and card.next_review < today:
            classes += " overdue"
        super().__init__(card_content(card, category_label, today), classes=classes,
                         id=f"case-{card.case_id}")
        self.card = card
