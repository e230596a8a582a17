"""Flagging a case for the huddle from the board: ``!`` on a card, or "case: flag for
huddle" in the palette. Again takes the flag away. A flagged case is on the next
huddle's agenda; the flag is cleared once a huddle has discussed the case.

Each ``!`` goes through the app's save queue (``saving.save_or_keep``): made while the
database is away it is kept (and said so) and made when it is back, in the order pressed.
It is saved as "set to", not "turn over" (``huddle.turn_flag``): the board does not
show the flag, so the state is read in line, just before the write, by the save's first
attempt that reaches the database (read when ``!`` is pressed, it would miss an earlier
``!`` still in line), and the wanted state is then fixed for that save. Made again after
its commit's answer was lost, it finds the case already as wanted and writes nothing: a
flag made twice never takes itself away again.
"""

from __future__ import annotations

from collections.abc import Iterable

from textual.binding import Binding
from textual.screen import Screen

from anchor_tui.domain import CaseCard, Viewer
from anchor_tui.palette import PaletteCommand
from anchor_tui.saving import later_notifier, save_or_keep
from anchor_tui.services.backend import Backend
from anchor_tui.services.clock import utcnow
from anchor_tui.services.huddle_flags import turn_flag
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

    def write_flag(self, card: CaseCard) -> None:
        """Flag the case, or take its flag away, through the app's save queue."""
        backend, viewer, case_id = self._backend, self.viewer, card.case_id
        # The moment it was flagged, the same for every attempt; the state is read and
        # fixed by the save's first attempt that reaches the database (huddle.turn_flag).
        save = turn_flag(backend, viewer, case_id, utcnow())
        tell = later_notifier(self.app)

        def saved(flagged: bool) -> None:
            # User text (the name) in a notification: never markup, never a control code.
            text = (f"{card.person_label} is on the next huddle's agenda." if flagged
                    else f"{card.person_label} is no longer flagged for the huddle.")
            tell(printable(text), title="Huddle", markup=False)

        save_or_keep(self.app, f"flag case {case_id} for the huddle, or take its flag away",
                     f"The huddle flag on {card.person_label}", save, on_saved=saved)

    def flag_commands(self) -> Iterable[PaletteCommand]:
        card = self.focused_card()
        if card is not None:
            yield PaletteCommand(f"case: flag {card.person_label} for the huddle",
                                 "Put the focused case on the next huddle's agenda, or take "
                                 "it off (!)", self.action_flag_for_huddle)
