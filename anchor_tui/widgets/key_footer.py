"""The key footer, redrawn only when the keys it shows change.

Textual's footer rebuilds itself on every focus move, and a rebuild lays out the whole
screen again: on a board with hundreds of cards that made each arrow key slow. The
keys shown are the same whichever card has focus, so here a focus move costs nothing.
"""

from __future__ import annotations

from textual.screen import Screen
from textual.widgets import Footer


class KeyFooter(Footer):
    """A footer that skips rebuilding when the shown keys are unchanged.

    The command palette key (``:`` or ctrl+p) is not repeated at the right end: F1 and
    the help name it, and an 80-column footer needs the room for the screen's own keys.
    """

    _shown: tuple[tuple[str, str, str, bool], ...] | None = None

    def __init__(self) -> None:
        super().__init__(show_command_palette=False)

    def bindings_changed(self, screen: Screen[object]) -> None:
        shown = tuple(
            (binding.key, binding.action, binding.description, enabled)
            for (_, binding, enabled, _) in screen.active_bindings.values()
            if binding.show
        )
        if screen.app.app_focus:
            if self._bindings_ready and shown == self._shown:
                return
            self._shown = shown
        super().bindings_changed(screen)
