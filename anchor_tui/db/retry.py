"""A bounded retry of a unit of work that PostgreSQL aborted for consistency's sake.

Under concurrent terminals PostgreSQL may abort a transaction with a serialization
failure (SQLSTATE 40001) or as the victim of a deadlock (40P01). Nothing of it was
committed, so the whole unit of work can run again from its first read: a retried
change still checks the version the person saw, so it can never overwrite someone
else's change (that stays a conflict, shown to the person). After ``ATTEMPTS`` the
error reaches the person ("nothing was saved, try again").
"""

from __future__ import annotations

import functools
import logging
import random
import time
from collections.abc import Callable
from typing import ParamSpec, TypeVar

from anchor_tui.errors import TransientError

TRANSIENT_SQLSTATES = {"40001": "serialization failure", "40P01": "deadlock"}
ATTEMPTS = 4
"""Runs of the unit of work at most (the first and three repeats)."""
BACKOFF_SECONDS = 0.02
"""The first pause before a repeat; doubled each time, with jitter."""

P = ParamSpec("P")
T = TypeVar("T")
log = logging.getLogger("anchor_tui.retry")


def transient_sqlstate(error: BaseException) -> str | None:
    """The SQLSTATE of a serialization failure or deadlock behind ``error``, if it is one."""
    seen: set[int] = set()
    current: BaseException | None = error
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        for candidate in (current, getattr(current, "orig", None)):
            state = getattr(candidate, "sqlstate", None)
            if state in TRANSIENT_SQLSTATES:
                return str(state)
        current = current.__cause__ or current.__context__
    return None


def transient_error(error: BaseException) -> TransientError | None:
    state = transient_sqlstate(error)
    if state is None:
        return None
    return TransientError(
        f"The database stopped the change to keep two terminals' changes apart "
        f"({TRANSIENT_SQLSTATES[state]}, repeated {ATTEMPTS - 1} times).",
        "Nothing was saved. Try again in a moment.")


def retry_transient(work: Callable[P, T]) -> Callable[P, T]:
    """Run ``work`` again (at most ``ATTEMPTS`` times in all) when its unit of work was
    aborted with SQLSTATE 40001 or 40P01. ``work`` must be one unit of work (or begin
    with reads only), so that repeating it repeats nothing that was committed."""

    @functools.wraps(work)
    def repeating(*args: P.args, **kwargs: P.kwargs) -> T:
        pause = BACKOFF_SECONDS
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return work(*args, **kwargs)
            except TransientError:
                if attempt == ATTEMPTS:
                    raise
                log.info("%s: transaction aborted by the database, repeat %d",
                         work.__name__, attempt)
                time.sleep(pause * (1 + random.random()))
                pause *= 2
        raise AssertionError("unreachable")

    return repeating
