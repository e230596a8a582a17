"""Moving a case between stages from the board: propose, confirm, then write.

A stage change is a suggestion, never a lock: ``<``/``>`` propose the previous or next
stage and ``m`` any stage. The confirmation names the case and both stages; closing asks
why. The move carries the case version the board showed, so a case someone else changed
meanwhile is not overwritten: the app's error modal shows both versions and the board
reads the case again. Moves go through the app's save queue: one made while the
database cannot be reached is kept and saved when it is back. One whose commit reached
the server while its answer was lost is made again too: it is written with the moment
the person confirmed it, and the second attempt first looks for the move the first
wrote at that moment (``saving.made_once``), so it is said done, not shown as a
conflict with the person's own move.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from functools import partial

from textual import work
from textual.screen import Screen

from anchor_tui.domain import CaseCard, CaseRef, Viewer
from anchor_tui.saving import later_notifier, made_once, save_queue
from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.prompt import ChoiceScreen
from anchor_tui.services.backend import Backend
from anchor_tui.services.case_actions import move_stage, moved_at
from anchor_tui.services.clock import utcnow
from anchor_tui.widgets.plain_text import printable


class BoardMoves(Screen[None]):
    """The stage-move actions of the board screen (a mixin; the board holds the data)."""

    _backend: Backend
    viewer: Viewer
    _today: Callable[[], dt.date]

    def focused_card(self) -> CaseCard | None:
        raise NotImplementedError

    def load_board(self) -> object:
        raise NotImplementedError

    def action_move_stage(self, step: int) -> None:
        card = self.focused_card()
        if card is None:
            return
        stages = [s.id for s in self._backend.team.stages]
        index = stages.index(card.stage) + step if card.stage in stages else -1
        if not 0 <= index < len(stages):
            where = "first" if step < 0 else "last"
            self.notify(printable(f"{self._backend.team.stage_label(card.stage)} is the "
                                  f"{where} stage. Press m to choose any stage."),
                        title="No stage there", markup=False)
            return
        self.propose_move(card, stages[index])

    def action_move_to(self) -> None:
        card = self.focused_card()
        if card is not None:
            self.propose_move(card, None)

    @work(exclusive=True, group="board-ask")
    async def propose_move(self, card: CaseCard, to_stage: str | None) -> None:
        team = self._backend.team
        if to_stage is None:
            choices = [(s.id, s.label) for s in team.stages if s.id != card.stage]
            to_stage = await self.app.push_screen_wait(ChoiceScreen(
                f"Move {card.person_label} to which stage?", choices,
                note=f"Now in {team.stage_label(card.stage)}. Any stage may be chosen."))
            if to_stage is None:
                return
        closed_reason = None
        if next((s.closed for s in team.stages if s.id == to_stage), False):
            closed_reason = await self.app.push_screen_wait(ChoiceScreen(
                f"Why is {card.person_label}'s case closed?",
                [(c.id, c.label) for c in team.closed_reasons]))
            if closed_reason is None:
                return
        question = (f"Move {card.person_label} ({team.category_label(card.category)}) "
                    f"from {team.stage_label(card.stage)} to {team.stage_label(to_stage)}?")
        if await self.app.push_screen_wait(ConfirmScreen("Move case", question, yes="Move")):
            self.write_move(card, to_stage, closed_reason)

    def write_move(self, card: CaseCard, to_stage: str, closed_reason: str | None) -> None:
        """Save the move; with the connection lost it is kept and saved when it is back
        (still at the version the board showed: a case changed meanwhile is a conflict)."""
        team = self._backend.team
        tell = later_notifier(self.app)

        def moved(ref: CaseRef) -> None:
            # User text (the name) in a notification: never markup, never a control code.
            tell(printable(f"Moved {ref.person_label} to "
                                      f"{team.stage_label(ref.stage)}."),
                            title="Case moved", markup=False)
            read_again()

        def read_again(_error: BaseException | None = None) -> None:
            if self.is_attached:  # (a kept move may be saved after its board is gone)
                self.load_board()

        at = utcnow()  # the moment of the move, the same for every attempt
        save_queue(self.app).submit(
            f"move {card.person_label} to {team.stage_label(to_stage)}",
            made_once(partial(move_stage, self._backend, self.viewer, card.case_id,
                              card.version, to_stage, closed_reason=closed_reason, at=at),
                      partial(moved_at, self._backend, self.viewer, card.case_id, to_stage,
                              at)),
            on_saved=moved, on_failed=read_again)
