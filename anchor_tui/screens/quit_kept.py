"""Quitting while changes wait for the database (kept while it was away).

They are kept in this process only (``saving.SaveQueue``): quitting loses them. The
question says how many, names those made in the context in use (never at the lock:
whoever stands there, or has signed in since, may not see whose case moved), and keeps
the app open by default: Enter and Esc both wait; quitting anyway is a second choice.
"""

from __future__ import annotations

from collections.abc import Sequence

from anchor_tui.screens.prompt import ChoiceScreen

WAIT = "wait"
QUIT = "quit"


class QuitWithKeptSaves(ChoiceScreen):
    """Dismissed with ``QUIT``, ``WAIT`` or None (Escape: wait)."""

    def __init__(self, count: int, labels: Sequence[str]) -> None:
        changes = "1 change waits" if count == 1 else f"{count} changes wait"
        listed = "".join(f"\n  · {label}" for label in labels)
        if labels and len(labels) < count:
            listed += f"\n  · {count - len(labels)} more, made before a switch of user"
        super().__init__(
            f"{changes} for the database",
            [(WAIT, "Keep anchor-tui open: they are saved when the database takes them"),
             (QUIT, "Quit now and lose them")],
            current=WAIT,
            note=f"Not saved yet: the database is away or busy, or the save before them is "
                 f"still on its way. They are kept in this window until it takes them."
                 f"{listed}")
