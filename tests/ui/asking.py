"""Pilot helpers for screens that ask a question (a choice, a reason, a yes/no).

A question is asked from an async worker waiting on ``push_screen_wait``: that worker
ends only when the question is answered, so waiting for *every* worker (``settle``)
would wait forever while a question is open. ``settle_asking`` waits for the other
workers (the reads and writes) and leaves the asking ones be.
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import Input

from anchor_tui.screens.confirm import ConfirmScreen
from anchor_tui.screens.prompt import ChoiceScreen, ReasonScreen

ASKING = frozenset({"queue-ask", "board-ask"})
"""Worker groups that wait for an answer."""


async def settle_asking(pilot: Pilot[None]) -> None:
    """Wait until every worker that is not waiting for an answer has finished."""
    for _ in range(4):
        busy = [w for w in pilot.app.workers if w.group not in ASKING and not w.is_finished]
        if busy:
            await pilot.app.workers.wait_for_complete(busy)
        await pilot.pause()


async def choose(pilot: Pilot[None], value: str) -> ChoiceScreen:
    """Pick the option ``value`` of the choice on top, with j and Enter."""
    await settle_asking(pilot)
    choice = pilot.app.screen
    assert isinstance(choice, ChoiceScreen), type(choice)
    values = [v for v, _ in choice.choices]
    await pilot.press("home", *["j"] * values.index(value), "enter")
    await settle_asking(pilot)
    return choice


async def give_reason(pilot: Pilot[None], reason: str) -> None:
    await settle_asking(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ReasonScreen), type(screen)
    screen.query_one("#reason-input", Input).value = reason
    await pilot.press("enter")
    await settle_asking(pilot)


async def confirm(pilot: Pilot[None], yes: bool) -> ConfirmScreen:
    await settle_asking(pilot)
    screen = pilot.app.screen
    assert isinstance(screen, ConfirmScreen), type(screen)
    await pilot.press("y" if yes else "n")
    await settle_asking(pilot)
    return screen
