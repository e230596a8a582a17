"""How the huddle screen reads: agenda entries, the case under discussion, its decisions.

Everything a person typed goes through ``plain``; statuses are words, colour repeats them.
"""

from __future__ import annotations

import datetime as dt

from textual.content import Content

from anchor_tui.services.huddle_agenda import AgendaEntry, HuddleCaseView, ItemEntry
from anchor_tui.services.minutes import duration_words
from anchor_tui.widgets.case_record import (
    note_content,
    summary_content,
    tasks_content,
    title_content,
)
from anchor_tui.widgets.plain_text import plain


def agenda_content(entry: AgendaEntry) -> Content:
    """``3. Aino A. · Substance use`` over ``New notification · 2 min``."""
    first = Content.assemble(f"{entry.position}. ", plain(entry.person_label, "bold"),
                             " · ", plain(entry.category))
    second = Content.assemble("   ", plain(" · ".join(entry.reasons), "dim"))
    if entry.seconds_spent:
        second = Content.assemble(second, f" · {duration_words(entry.seconds_spent)}")
    return Content("\n").join([first, second])


def case_heading(view: HuddleCaseView) -> Content:
    return title_content(view.record.summary)


def case_body(view: HuddleCaseView, today: dt.date) -> Content:
    """The summary, then the notes and the tasks everyone present may see."""
    record = view.record
    parts = [summary_content(record.summary, today)]
    notes = record.notes.notes
    parts.append(Content.assemble(("Notes everyone present may see", "bold"),
                                  f" ({len(notes)}{'+' if record.notes.more else ''})"))
    parts += [note_content(note) for note in notes] or [Content("No notes to show.")]
    parts.append(Content.assemble(("Tasks", "bold")))
    parts.append(tasks_content(record.tasks, today))
    return Content("\n\n").join(parts)


def items_content(items: tuple[ItemEntry, ...]) -> Content:
    lines = [Content.assemble(("Decisions and actions of this huddle", "bold"))]
    if not items:
        lines.append(Content("None yet: d records a decision, a an action."))
    for item in items:
        if item.kind == "decision":
            lines.append(Content.assemble(("Decision ", "bold"), plain(item.text)))
            continue
        who = item.assignee or "nobody assigned"
        due = f", due {item.due.isoformat()}" if item.due is not None else ""
        lines.append(Content.assemble(("Action ", "bold"), plain(item.text), " (",
                                      plain(who), due, ")"))
    return Content("\n").join(lines)
