"""The cycle collector paused while the app starts, until its first screen is drawn.

Starting imports Textual and the app, reads the team's configuration and builds the
sign-in screen: some 300,000 objects, nearly all of which live as long as the app. The
cycle collector ran about 90 times meanwhile, freeing next to nothing, a full pass over
everything among them (10-30 ms of the launch on a 2-CPU machine, the first screen's
time to beat being about 0.3 s). ``pause()`` turns it off at the start of ``anchor-tui
run``; ``resume()``, once the first screen is drawn, moves what exists then into the
permanent generation (``gc.freeze``: later collections do not walk those objects
again) and turns collection back on. Reference counting frees memory as usual
meanwhile; only cycles wait. Tests make many apps in one process and never pause, so
``resume`` does nothing for them.
"""

from __future__ import annotations

import gc

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
