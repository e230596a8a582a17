"""The moment records are read at, from the app's calendar day; the clock the app reads."""

from __future__ import annotations

import datetime as dt
import time
from typing import Protocol


def utcnow() -> dt.datetime:
    """Now, in UTC (as ``db.types.utcnow``; not imported from there, so the clock, which
    the first screen uses, does not load SQLAlchemy)."""
    return dt.datetime.now(dt.UTC)


def moment_on(today: dt.date) -> dt.datetime:
    """Now, unless the app's calendar is fixed to another day (the demo week and the
    tests), then noon of that day: what is shown then does not drift with the clock."""
    now = utcnow()
    if now.astimezone().date() == today:
        return now
    return dt.datetime.combine(today, dt.time(12)).astimezone().astimezone(dt.UTC)


class Clock(Protocol):
    """Where the app reads the time: the wall clock, or a clock a test moves by hand.

    ``now`` is an aware UTC datetime (sign-in delays and lockouts); ``monotonic`` counts
    seconds for durations that must not jump with the wall clock (idle lock, the
    huddle's per-case timer).
    """

    def now(self) -> dt.datetime: ...

    def monotonic(self) -> float: ...


class SystemClock:
    """The real clock."""

    def now(self) -> dt.datetime:
        return utcnow()

    def monotonic(self) -> float:
        return time.monotonic()


class ManualClock:
    """A clock that moves only when told (tests, benchmarks): ``advance(seconds)``."""

    def __init__(self, start: dt.datetime | None = None) -> None:
        self._now = start or utcnow()
        self._monotonic = 1000.0

    def now(self) -> dt.datetime:
        return self._now

    def monotonic(self) -> float:
        return self._monotonic

    def advance(self, seconds: float) -> None:
        self._now += dt.timedelta(seconds=seconds)
        self._monotonic += seconds
