"""The triage queue's parts: the bar of sections with their counts, and a section's items.

Every status is a word ("Overdue", "Due", "5 of 120 shown"); the current section is
marked with ``▸`` and the highlighted item with a bar ``▌`` as well as their style, so
nothing depends on colour. What a person or
a colleague wrote (a task's title, a question) is shown plain, never as markup.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from textual.content import Content
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from anchor_tui.domain import QUEUE_COUNT_AT_MOST, QueueItem, QueueSection
from anchor_tui.settings import TeamConfig
from anchor_tui.widgets import counts
from anchor_tui.widgets.plain_text import plain

SHORT_LABELS = {
    "to_screen": "To screen",
    "my_tasks": "My tasks",
    "input_asked": "Input asked",
    "consents_expiring": "Consents",
    "reviews_due": "Reviews",
}
"""Section names short enough for five to fit on an 80-column line with their counts."""


def count_text(total: int) -> str:
    """A section's count: ``999+`` when it counted past the limit."""
    return counts.count_text(min(total, QUEUE_COUNT_AT_MOST), total <= QUEUE_COUNT_AT_MOST)


def bar_content(sections: Sequence[QueueSection], current: int) -> Content:
    """``▸1 To screen 26   2 My tasks 3 ...``: every section, its number key and count."""
    parts: list[Content] = []
    for index, section in enumerate(sections):
        label = SHORT_LABELS.get(section.id, section.label)
        text = f"{index + 1} {label} {count_text(section.total)}"
        if index == current:
            parts.append(Content.assemble(("▸" + text, "bold reverse")))
        else:
            parts.append(Content.assemble((" " + text, "" if section.total else "dim")))
    return Content(" ").join(parts)


def section_title(section: QueueSection) -> Content:
    shown = len(section.items)
    if section.total == 0:
        tail = "nothing waiting"
    elif shown < section.total:
        tail = f"{shown} of {count_text(section.total)} shown · more as you go down"
    else:
        tail = "1 item" if section.total == 1 else f"{count_text(section.total)} items"
    return Content.assemble((section.label, "bold"), f" · {tail}")


def due_label(item: QueueItem) -> tuple[str, str]:
    """The item's date as words, and its style."""
    if item.due is None:
        return "", ""
    if item.overdue:
        return f"Overdue since {item.due.isoformat()}", "bold $text-error"
    return f"Due {item.due.isoformat()}", ""


def item_content(item: QueueItem, team: TeamConfig, today: dt.date,
                 highlighted: bool = False) -> Content:
    """Two lines: who and which case, then what waits (and when it is due); a bar in
    front of both when the item is highlighted."""
    who = Content.assemble(
        plain(item.person_label, "bold"), " · ", plain(team.category_label(item.category)),
        " · ", plain(team.stage_label(item.stage)), f" · case {item.case_id}",
    )
    what = [plain(item.what)]
    if item.section == "my_tasks":  # the other sections say their date in ``what``
        due, style = due_label(item)
        what.append(Content.assemble((due or "No due date", style or "dim")))
    gutter = Content.assemble(("▌ ", "bold $accent")) if highlighted else Content("  ")
    return Content("\n").join([gutter + who, gutter + Content(" · ").join(what)])


def item_key(item: QueueItem) -> tuple[str, int, int | None, int | None, int | None]:
    """What identifies an item across readings (to keep the person's place)."""
    return (item.section, item.case_id, item.task_id, item.input_request_id, item.consent_id)


class SectionBar(Static):
    """The sections of the queue with their counts; the current one marked ``▸``."""

    DEFAULT_CSS = """
    SectionBar { height: auto; padding: 0 1; background: $boost; }
    """


class QueueList(OptionList, inherit_bindings=False):
    """The items of one section. The queue screen owns the keys (so j/k and the arrows
    stop at a section's ends, and h/l change section)."""

    HELP = ("The items of the section shown: up/down or j/k move, Enter opens the case. "
            "t takes the case, a assigns its lead (or a task), z snoozes it in your "
            "queue, s records the screening decision.")

    DEFAULT_CSS = """
    QueueList { height: 1fr; border: none; padding: 0; text-wrap: nowrap;
        text-overflow: ellipsis; }
    QueueList:focus { border: none; }
    QueueList > .option-list--option { padding: 0 1; }
    """

    _items: Sequence[QueueItem] = ()
    _team: TeamConfig | None = None
    _day: dt.date = dt.date.min
    _marked: int | None = None

    def show(self, items: Sequence[QueueItem], team: TeamConfig, today: dt.date,
             highlighted: int | None) -> None:
        self._items, self._team, self._day = items, team, today
        index = max(0, min(highlighted or 0, len(items) - 1)) if items else None
        self.set_options(Option(item_content(item, team, today, i == index), id=f"item-{i}")
                         for i, item in enumerate(items))
        self._marked = index
        if index is not None:
            self.highlighted = index
            self.scroll_to_highlight()

    def on_option_list_option_highlighted(self, event: OptionList.OptionHighlighted) -> None:
        """Move the bar to the highlighted item (the event goes on to the screen)."""
        self._mark(event.option_index)

    def _mark(self, new: int | None) -> None:
        if self._team is None:
            return
        for index in {self._marked, new}:
            if index is not None and 0 <= index < min(len(self._items), self.option_count):
                self.replace_option_prompt_at_index(index, item_content(
                    self._items[index], self._team, self._day, index == new))
        self._marked = new
