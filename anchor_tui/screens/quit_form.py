"""A form that asks before the app quits with what was typed into it (ctrl+q).

The app asks every screen on the stack with an ``ask_before_quit`` (``app.action_quit``).
A form with this mixin says what would be discarded, staying the default (Enter and Esc
both go back to it); choosing to quit asks the app again, which passes this form by and
asks the other screens (a note below) and about changes kept for the database.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, ClassVar

from textual.screen import Screen

from anchor_tui.screens.confirm import DiscardQuestion


@dataclass(frozen=True)
class QuitQuestion:
    """What the form asks: its title, the two answers and a note."""

    title: str
    stay: str
    quit: str
    note: str


class AsksBeforeQuit(Screen[Any]):
    """Mixed into a form: ``QUIT_QUESTION`` and ``filled_in()`` say what and when."""

    QUIT_QUESTION: ClassVar[QuitQuestion]
    _asking_quit = False
    _quit_chosen = False

    def filled_in(self) -> bool:
        """Whether anything was typed in (a form says)."""
        raise NotImplementedError

    def ask_before_quit(self) -> bool:
        """The app is quitting: with something typed in, ask first, staying the default
        (True: the question is up, or already was)."""
        if self._quit_chosen or not self.is_mounted or not self.filled_in():
            return False
        if not self._asking_quit:
            from anchor_tui.screens.prompt import ChoiceScreen  # (prompt's forms use this)

            self._asking_quit = True
            asked = self.QUIT_QUESTION
            self.app.push_screen(ChoiceScreen(
                asked.title, [("stay", asked.stay), ("quit", asked.quit)], current="stay",
                note=asked.note), callback=self._quit_answered)
        return True

    def dismiss_or_ask(self, title: str, question: str) -> None:
        """Esc: close the form, asking first when something was typed into it (keeping
        it is the question's default)."""
        if not self.filled_in():
            self.dismiss(None)
            return

        def answered(yes: bool | None) -> None:
            if yes:
                self.discarded()
                self.dismiss(None)

        self.app.push_screen(DiscardQuestion(title, question), callback=answered)

    def discarded(self) -> None:
        """Its author chose to discard what was typed (a kept form goes too:
        ``kept_form``)."""

    async def _quit_answered(self, choice: str | None) -> None:
        self._asking_quit = False
        if choice != "quit":
            return
        # Its author chose to discard what was typed: a kept copy it was filled in from
        # goes, as with Esc's discard (should a later question keep the app open, the
        # words are still on screen, and kept again if the terminal passes on).
        self.discarded()
        # Asked again, the app passes this form by and asks the other screens (a note
        # below) and about changes kept while the database was away.
        self._quit_chosen = True
        try:
            await self.app.action_quit()
        finally:
            self._quit_chosen = False
