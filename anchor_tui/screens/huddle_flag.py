"""Flagging a case for the huddle from the board: ``!`` on a card, or "case: flag for
huddle" in the palette. Again takes the flag away. A flagged case is on the next
huddle's agenda; the flag is cleared once a huddle has discussed the case."""

from __future__ import annotations

from collections.abc import Iterable

from textual import work
from textual.binding import Binding
from textual.screen import Screen

from anchor_tui.domain import CaseCard, Viewer
from anchor_tui.palette import PaletteCommand
from anchor_tui.services.backend import Backend
from anchor_tui.services.huddle import toggle_flag
from anchor_tui.widgets.plain_text import printable


class HuddleFlagging(Screen[None]):
    """The flag action of the board (a mixin; the board holds the cards)."""

    BINDINGS = [  # noqa: RUF012 - Textual reads class-level bindings
        Binding("exclamation_mark", "flag_for_huddle", "Flag for huddle", key_display="!",
                show=False, id="board.flag_for_huddle"),
    ]

    _backend: Backend
    viewer: Viewer

    def focused_card(self) -> CaseCard | None:
        raise NotImplementedError

    def action_flag_for_huddle(self) -> None:
        card = self.focused_card()
        if card is not None:
            self.write_flag(card)

    @work(thread=True, group="board-flag", exit_on_error=False)
    def write_flag(self, card: CaseCard) -> None:
        flagged = toggle_flag(self._backend, self.viewer, card.case_id)
        text = (f"{card.person_label} is on the next huddle's agenda." if flagged
                else f"{card.person_label} is no longer flagged for the huddle.")
        self.app.call_from_thread(self.notify, printable(text), title="Huddle",
                                  markup=False)

    def flag_commands(self) -> Iterable[PaletteCommand]:
        card = self.focused_card()
        if card is not None:
            yield PaletteCommand(f"case: flag {card.person_label} for the huddle",
                                 "Put the focused case on the next huddle's agenda, or take "
                                 "it off (!)", self.action_flag_for_huddle)
