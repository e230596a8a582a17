"""A list where several choices can be marked, each shown as ``[x]`` or ``[ ]``.

Textual's ``SelectionList`` shows a marked choice by colour alone; here the mark is a
character too (status is never colour alone). Space or Enter marks or unmarks the
highlighted choice; arrows and j/k move.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from textual.binding import Binding
from textual.content import Content
from textual.widgets import OptionList
from textual.widgets.option_list import Option

from anchor_tui.widgets.plain_text import plain


class MarkList(OptionList):
    """Choices (value, label) that may be marked; :attr:`marked` is in list order."""

    HELP = "Space (or Enter) marks or unmarks the highlighted choice; several may be marked."

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("space,enter", "mark", "Mark", id="marks.toggle"),
        Binding("j", "cursor_down", "Down", show=False, id="marks.down"),
        Binding("k", "cursor_up", "Up", show=False, id="marks.up"),
    ]

    def __init__(self, choices: Sequence[tuple[str, str]], *, id: str | None = None,
                 compact: bool = False, marked: Iterable[str] = ()) -> None:
        """``marked``: the choices marked to begin with (a form given back as typed)."""
        self.choices = list(choices)
        self._marked: set[str] = set(marked)
        super().__init__(*(Option(self._prompt(v, label), id=v) for v, label in self.choices),
                         id=id, compact=compact)

    def _prompt(self, value: str, label: str) -> Content:
        return Content.assemble("[x] " if value in self._marked else "[ ] ", plain(label))

    @property
    def marked(self) -> tuple[str, ...]:
        return tuple(v for v, _ in self.choices if v in self._marked)

    def action_mark(self) -> None:
        index = self.highlighted
        if index is None:
            return
        value, label = self.choices[index]
        self._marked ^= {value}
        self.replace_option_prompt_at_index(index, self._prompt(value, label))

    def mark_only(self, values: Iterable[str]) -> None:
        """Mark exactly ``values`` (those offered; a form filled in again)."""
        self._marked = set(values) & {v for v, _ in self.choices}
        for index, (value, label) in enumerate(self.choices):
            self.replace_option_prompt_at_index(index, self._prompt(value, label))
