"""When Python's cyclic garbage collector runs: between keystrokes, not during them.

A full collection scans every object that could hold a reference cycle. With SQLAlchemy,
Textual and a board of cards on screen that is some 250,000 objects, and a full
collection took 100-250 ms on a 2-core machine; with Python's default thresholds one
came every few seconds of use, in the middle of whatever key was pressed (opening a
case took twice as long when one fell inside it). Textual pauses collection while
scrolling for the same reason (``App.PAUSE_GC_ON_SCROLL``).

- ``settle()``, once the app's code and data layer are loaded: what exists then lives
  as long as the process (modules, mappers, compiled statements and CSS), so it is
  frozen out of every later collection (``gc.freeze``); and the young generations are
  collected less often.
- ``tidy(idle_for)``, called every second: a full collection once the terminal has had
  no input for a moment, at most every ``every`` seconds, so the widgets of closed
  screens are freed while nobody is waiting.

Automatic collections still run (rarely), so memory never grows unbounded even when
the terminal is never idle.

Freed memory is not always returned to the operating system: glibc's allocator keeps
free space in each thread's heap for reuse. ``release()`` (``malloc_trim``) hands it
back after each idle-time collection: after a few filters, a search and a case, the
app's resident memory at idle was 2-4 MiB lower with it (bench at 100,000 cases).
Right after the board is first drawn it gave nothing back (nothing much is free yet),
so it is not called there. Elsewhere (macOS, Windows, musl) it does nothing.
"""

from __future__ import annotations

import gc
import sys
import time
from collections.abc import Callable

YOUNG = 10_000
"""Allocations between collections of the youngest generation (Python's default: 700)."""
OLDER = 10
"""Young collections per collection of the middle generation (Python's default)."""
FULL = 100
"""Middle collections per automatic full collection (Python's default: 10)."""


def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's ``malloc_trim``, or None where there is none. (ctypes is imported here,
    at the first idle collection: the sign-in screen is drawn without it.)"""
    if not sys.platform.startswith("linux"):
        return None
    import ctypes
    import platform

    if platform.libc_ver()[0] != "glibc":
        return None
    try:
        trim: Callable[[int], int] = ctypes.CDLL("libc.so.6").malloc_trim
    except (OSError, AttributeError):
        return None
    return trim


class Collector:
    """The app's garbage collection policy (one per process)."""

    def __init__(self, quiet_after: float = 1.0, every: float = 20.0) -> None:
        self.quiet_after = quiet_after
        """Seconds without input before a full collection may run."""
        self.every = every
        """Seconds at least between two idle-time full collections."""
        self._last = time.monotonic()
        self.settled = False
        self._trim: Callable[[int], int] | None = None
        self._trim_looked_up = False

    def release(self) -> bool:
        """Return freed memory to the operating system where the C library can (glibc:
        ``malloc_trim``, a few milliseconds); True when it did."""
        if not self._trim_looked_up:
            self._trim = _malloc_trim()
            self._trim_looked_up = True
        if self._trim is None:
            return False
        self._trim(0)
        return True

    def settle(self) -> None:
        """Freeze what exists now out of later collections; collect young objects less
        often. Once per process: later calls do nothing."""
        if self.settled:
            return
        self.settled = True
        gc.collect()
        gc.freeze()
        gc.set_threshold(YOUNG, OLDER, FULL)

    def tidy(self, idle_for: float) -> bool:
        """A full collection if the terminal has been idle long enough and none ran
        lately; True when one ran."""
        now = time.monotonic()
        if not self.settled or idle_for < self.quiet_after or now - self._last < self.every:
            return False
        gc.collect()
        self.release()
        self._last = time.monotonic()
        return True


COLLECTOR = Collector()
"""The process's one policy (the app settles it once its code is loaded)."""
