"""Days typed the way people say them: ``fri``, ``tomorrow``, ``+3d``, ``2026-12-01``.

Pure: the same text and ``today`` always give the same day, and nothing here reads a
clock. Used for a task's due date and a case's next review. Forms understood (any case,
surrounding spaces ignored):

- ``today``, ``tomorrow`` (``tmrw``);
- a weekday, ``mon`` ... ``sun`` or in full: the next one *after* today (on a Friday,
  ``fri`` is a week ahead; the form shows the day before anything is saved);
- ``+3d``, ``3d``, ``+2w``, ``+1m``, ``in 3 days``, ``in 2 weeks``, ``in 1 month``
  (months are calendar months; the 31st becomes the month's last day);
- ``2026-12-01`` and the Finnish ``1.12.2026``, ``1.12.`` or ``1.12`` (the next such day).

Anything else, a day in the past or one more than ten years ahead is refused with a
message saying what was typed and what would work.
"""

from __future__ import annotations

import calendar
import datetime as dt
import re

from anchor_tui.errors import AnchorError

MAX_DAYS_AHEAD = 3660
"""Ten years: further is surely a typing slip."""

EXAMPLES = "fri, tomorrow, +3d, +2w, 2026-12-01 or 1.12.2026"

WEEKDAYS: dict[str, int] = {}
for _index, _names in enumerate((("mon", "monday"), ("tue", "tues", "tuesday"),
                                 ("wed", "wednesday"), ("thu", "thur", "thurs", "thursday"),
                                 ("fri", "friday"), ("sat", "saturday"),
                                 ("sun", "sunday"))):
    for _name in _names:
        WEEKDAYS[_name] = _index

_UNITS = {"d": "d", "day": "d", "days": "d", "w": "w", "wk": "w", "week": "w", "weeks": "w",
          "m": "m", "month": "m", "months": "m"}
_RELATIVE = re.compile(r"(?:\+|in\s+)?\s*(\d{1,6})\s*([a-z]+)")
_ISO = re.compile(r"(\d{4})-(\d{1,2})-(\d{1,2})")
_FINNISH = re.compile(r"(\d{1,2})\.(\d{1,2})\.?(\d{4})?")


class DueDateError(AnchorError):
    """Typed text that is not a day, or not an acceptable one."""

    title = "Not a date"


def _not_understood(text: str) -> DueDateError:
    shown = text if len(text) <= 40 else text[:40] + "…"
    return DueDateError(f"“{shown}” is not a day anchor-tui understands.",
                        f"Write for example {EXAMPLES}.")


def add_months(day: dt.date, months: int) -> dt.date:
    """``day`` moved by whole calendar months (the 31st becomes the month's last day)."""
    index = day.year * 12 + (day.month - 1) + months
    year, month = divmod(index, 12)
    last = calendar.monthrange(year, month + 1)[1]
    return dt.date(year, month + 1, min(day.day, last))


def _relative(count: int, unit: str, today: dt.date) -> dt.date:
    if unit == "d":
        return today + dt.timedelta(days=count)
    if unit == "w":
        return today + dt.timedelta(weeks=count)
    return add_months(today, count)


def _calendar_day(year: int, month: int, day: int, text: str) -> dt.date:
    try:
        return dt.date(year, month, day)
    except ValueError:
        raise DueDateError(f"“{text}” is not a day of the calendar.",
                           f"Check the day and month; for example {EXAMPLES}.") from None


def _parse(text: str, today: dt.date) -> dt.date:
    word = " ".join(text.lower().split())
    if word in ("today", "tod"):
        return today
    if word in ("tomorrow", "tmrw", "tmr"):
        return today + dt.timedelta(days=1)
    if word in WEEKDAYS:
        ahead = (WEEKDAYS[word] - today.weekday() - 1) % 7 + 1
        return today + dt.timedelta(days=ahead)
    relative = _RELATIVE.fullmatch(word)
    if relative and relative.group(2) in _UNITS:
        count = int(relative.group(1))
        if count > MAX_DAYS_AHEAD:
            raise _too_far(text)
        return _relative(count, _UNITS[relative.group(2)], today)
    iso = _ISO.fullmatch(word)
    if iso:
        return _calendar_day(int(iso.group(1)), int(iso.group(2)), int(iso.group(3)), text)
    finnish = _FINNISH.fullmatch(word)
    if finnish:
        day, month = int(finnish.group(1)), int(finnish.group(2))
        if finnish.group(3):
            return _calendar_day(int(finnish.group(3)), month, day, text)
        for year in range(today.year, today.year + 9):  # the next such day (29.2 too)
            try:
                candidate = dt.date(year, month, day)
            except ValueError:
                continue
            if candidate >= today:
                return candidate
        raise DueDateError(f"“{text}” is not a day of the calendar.",
                           f"Check the day and month; for example {EXAMPLES}.")
    raise _not_understood(text)


def _too_far(text: str) -> DueDateError:
    return DueDateError(f"“{text.strip()}” is more than ten years ahead.",
                        "Check the number; for example +3d is three days from today.")


def parse_day(text: str, today: dt.date, *, allow_past: bool = False) -> dt.date:
    """The day ``text`` names, seen from ``today``; raises :class:`DueDateError`."""
    if not text.strip():
        raise DueDateError("No day was written.", f"Write for example {EXAMPLES}.")
    day = _parse(text, today)
    if not allow_past and day < today:
        raise DueDateError(f"{day.isoformat()} is in the past.",
                           f"Choose today or later; for example {EXAMPLES}.")
    if (day - today).days > MAX_DAYS_AHEAD:
        raise _too_far(text)
    return day


def parse_optional_day(text: str, today: dt.date) -> dt.date | None:
    """Like :func:`parse_day`, but empty text (or ``none``) means no day at all."""
    if not text.strip() or text.strip().lower() in ("none", "-"):
        return None
    return parse_day(text, today)


def describe_day(day: dt.date, today: dt.date) -> str:
    """``Fri 2026-11-20 (in 4 days)``: what a parsed day is, to confirm before saving."""
    delta = (day - today).days
    if delta == 0:
        when = "today"
    elif delta == 1:
        when = "tomorrow"
    elif delta > 0:
        when = f"in {delta} days"
    elif delta == -1:
        when = "yesterday"
    else:
        when = f"{-delta} days ago"
    return f"{calendar.day_abbr[day.weekday()]} {day.isoformat()} ({when})"
