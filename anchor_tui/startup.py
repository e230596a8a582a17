"""The cycle collector paused while the app starts, until its first screen is drawn.

Starting imports Textual and the app, reads the team's configuration and builds the
sign-in screen: objects nearly all of which live as long as the app (some 37,000 that
the cycle collector tracks, after the imports and the settings alone). The collector
ran 85 times over them during those imports alone, freeing next to nothing (12 ms on a
2-CPU machine, where the first screen's time to beat is about 0.3 s).

``until_drawn()`` turns it off around ``anchor-tui run`` and ``demo`` (``pause()``);
the app calls ``resume()`` once the first screen is drawn, which moves what exists then
into the permanent generation (``gc.freeze``: later collections do not walk those
objects again) and turns collection back on (as leaving ``until_drawn`` does, if the
app stopped before drawing). Reference counting frees memory as usual meanwhile; only
cycles wait. Tests make many apps in one process and never pause, so ``resume`` does
nothing for them.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator
from contextlib import contextmanager

_paused = False


def pause() -> None:
    """Stop cycle collection until ``resume()`` (only if it is on now)."""
    global _paused
    if gc.isenabled():
        gc.disable()
        _paused = True


def resume() -> None:
    """Freeze what exists and collect again, if ``pause()`` stopped collection."""
    global _paused
    if _paused:
        _paused = False
        gc.freeze()
        gc.enable()


@contextmanager
def until_drawn() -> Iterator[None]:
    """No cycle collection until the app resumes it (or this block ends)."""
    pause()
    try:
        yield
    finally:
        resume()
