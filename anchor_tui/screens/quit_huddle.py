"""Quitting while the huddle's end could not be made (the database away or busy).

Quitting with a huddle on ends it through the app's save queue and waits a moment for
it (``terminal_huddle.end_huddle_to_quit``). When the end is not made by then, the app
used to go all the same: the huddle stayed on in the database with no minutes, and
nobody at the terminal knew. This question says so plainly, before the app goes, and
how the huddle will be ended; staying open is the default (Enter and Esc both stay).
Names nobody and no case: it may be asked over a lock, or after a switch of user.
"""

from __future__ import annotations

from anchor_tui.screens.prompt import ChoiceScreen

WAIT = "wait"
QUIT = "quit"


def _hours(minutes: int) -> str:
    if minutes % 60:
        return f"{minutes} minutes"
    hours = minutes // 60
    return "an hour" if hours == 1 else f"{hours} hours"


class QuitWithHuddleOn(ChoiceScreen):
    """Dismissed with ``QUIT``, ``WAIT`` or None (Escape: wait)."""

    def __init__(self, left_on_minutes: int, *, refused: bool = False) -> None:
        if refused:
            why = "The database refused to end it (the error log says why)."
            stay = "Keep anchor-tui open"
            kept = ""
        else:
            why = "The database cannot take its end now (it is away or busy)."
            stay = ("Keep anchor-tui open: the huddle is ended, with its minutes, when the "
                    "database takes it")
            kept = "Kept open, anchor-tui ends it as soon as the database takes it. "
        super().__init__(
            "The huddle is still on",
            [(WAIT, stay), (QUIT, "Quit anyway: the huddle is ended when anchor-tui next "
                                  "starts here")],
            current=WAIT,
            note=f"{why} The huddle stays on and its minutes are not stored yet.\n"
                 f"{kept}If you "
                 "quit, anchor-tui ends it, at its last activity and with its minutes, "
                 "when it next starts on this terminal; or, once it has been quiet for "
                 f"{_hours(left_on_minutes)}, whoever looks after the database ends it "
                 "(anchor-tui huddle end-left-on --apply). Enter or Esc keeps "
                 "anchor-tui open.")
