"""The moment records are read at, from the app's calendar day."""

from __future__ import annotations

import datetime as dt

from anchor_tui.db.types import utcnow


def moment_on(today: dt.date) -> dt.datetime:
    """Now, unless the app's calendar is fixed to another day (the demo week and the
    tests), then noon of that day: what is shown then does not drift with the clock."""
    now = utcnow()
    if now.astimezone().date() == today:
        return now
    return dt.datetime.combine(today, dt.time(12)).astimezone().astimezone(dt.UTC)
