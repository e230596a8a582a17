"""A case on the board: who, what about, how urgent, when it is next reviewed, who leads.

The lead line is there only for a viewer whose profession may see the lead (the
policy's case fields): it names the lead or says there is none. For anyone else the
card says nothing about a lead at all.

Every status is a text label (``High priority``, ``Review overdue``); colour only
repeats what the text already says.
"""

from __future__ import annotations

import datetime as dt

from textual.content import Content

from anchor_tui.domain import CaseCard
from anchor_tui.widgets.plain_text import plain


def review_label(next_review: dt.date | None, today: dt.date) -> tuple[str, str]:
    """The next-review line and its style."""
    if next_review is None:
        return "No review date", "dim"
    if next_review < today:
        return f"Overdue {next_review.isoformat()}", "bold $text-error"
    return f"Review {next_review.isoformat()}", ""


def lead_label(card: CaseCard) -> Content:
    if card.lead is None:
        return Content.assemble(("No lead", "dim"))
    return Content.assemble("Lead ", plain(card.lead))


def card_content(card: CaseCard, category_label: str, today: dt.date,
                 show_lead: bool = False) -> Content:
    review, review_style = review_label(card.next_review, today)
    priority = f"{card.priority_label.capitalize()} priority"
    priority_style = "bold $text-warning" if card.priority == 1 else ""
    lines = [
        plain(card.person_label, "bold"),
        plain(category_label),
        Content.assemble((priority, priority_style)),
        Content.assemble((review, review_style)),
    ]
    if show_lead:
        lines.append(lead_label(card))
    return Content("\n").join(lines)


def card_classes(card: CaseCard, today: dt.date) -> set[str]:
    classes = {f"priority-{card.priority_label}"}
    if card.next_review is not None and card.next_review < today:
        classes.add("overdue")
    return classes
