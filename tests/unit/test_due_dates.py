"""Days typed naturally: examples, and rules that hold for every day and every text."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given
from hypothesis import strategies as st

from anchor_tui.services.due_dates import (
    MAX_DAYS_AHEAD,
    WEEKDAYS,
    DueDateError,
    add_months,
    describe_day,
    parse_day,
    parse_optional_day,
)

MONDAY = dt.date(2026, 11, 16)
days = st.dates(min_value=dt.date(2000, 1, 1), max_value=dt.date(2090, 12, 31))


@pytest.mark.parametrize(("text", "expected"), [
    ("today", MONDAY), ("tomorrow", dt.date(2026, 11, 17)), ("TMRW", dt.date(2026, 11, 17)),
    ("fri", dt.date(2026, 11, 20)), ("Friday", dt.date(2026, 11, 20)),
    ("mon", dt.date(2026, 11, 23)), ("sun", dt.date(2026, 11, 22)),
    ("+3d", dt.date(2026, 11, 19)), ("3d", dt.date(2026, 11, 19)),
    (" + 3 d ", dt.date(2026, 11, 19)), ("in 3 days", dt.date(2026, 11, 19)),
    ("+2w", dt.date(2026, 11, 30)), ("in 1 week", dt.date(2026, 11, 23)),
    ("+1m", dt.date(2026, 12, 16)), ("+0d", MONDAY),
    ("2026-12-01", dt.date(2026, 12, 1)), ("1.12.2026", dt.date(2026, 12, 1)),
    ("1.12.", dt.date(2026, 12, 1)), ("1.12", dt.date(2026, 12, 1)),
    ("15.11", dt.date(2027, 11, 15)), ("16.11", MONDAY), ("29.2", dt.date(2028, 2, 29)),
])
def test_examples(text: str, expected: dt.date) -> None:
    assert parse_day(text, MONDAY) == expected


@pytest.mark.parametrize(("text", "says"), [
    ("", "No day"), ("soon", "not a day"), ("next friday", "not a day"),
    ("2026-02-30", "not a day of the calendar"), ("31.4.", "not a day of the calendar"),
    ("2026-11-15", "in the past"), ("1.1.2020", "in the past"),
    ("+99999d", "ten years"), ("+900m", "ten years"), ("+3x", "not a day"),
    ("[bold]fri[/bold]", "not a day"),
])
def test_bad_input_is_refused_with_a_clear_message(text: str, says: str) -> None:
    with pytest.raises(DueDateError) as info:
        parse_day(text, MONDAY)
    assert says in info.value.message
    assert "for example" in info.value.fix.lower() or "check" in info.value.fix.lower() \
        or "choose" in info.value.fix.lower()


def test_no_day_at_all_is_allowed_where_optional() -> None:
    assert parse_optional_day("  ", MONDAY) is None
    assert parse_optional_day("none", MONDAY) is None
    assert parse_optional_day("fri", MONDAY) == dt.date(2026, 11, 20)


def test_the_day_is_described_before_it_is_saved() -> None:
    assert describe_day(dt.date(2026, 11, 20), MONDAY) == "Fri 2026-11-20 (in 4 days)"
    assert describe_day(MONDAY, MONDAY) == "Mon 2026-11-16 (today)"


@given(today=days, count=st.integers(0, MAX_DAYS_AHEAD))
def test_relative_days_are_that_many_days_ahead(today: dt.date, count: int) -> None:
    assert parse_day(f"+{count}d", today) == today + dt.timedelta(days=count)
    assert parse_day(f"in {count} days", today) == today + dt.timedelta(days=count)


@given(today=days, name=st.sampled_from(sorted(WEEKDAYS)))
def test_a_weekday_is_the_next_such_day_within_a_week(today: dt.date, name: str) -> None:
    day = parse_day(name, today)
    assert day.weekday() == WEEKDAYS[name]
    assert 1 <= (day - today).days <= 7


@given(today=days, ahead=st.integers(0, MAX_DAYS_AHEAD))
def test_written_dates_read_back_as_themselves(today: dt.date, ahead: int) -> None:
    day = today + dt.timedelta(days=ahead)
    assert parse_day(day.isoformat(), today) == day
    assert parse_day(f"{day.day}.{day.month}.{day.year}", today) == day


@given(today=days, months=st.integers(0, 60))
def test_months_land_in_the_right_month_never_overflowing(today: dt.date, months: int) -> None:
    day = add_months(today, months)
    assert (day.year * 12 + day.month) - (today.year * 12 + today.month) == months
    assert day.day <= today.day


@given(today=days, text=st.text(max_size=30))
def test_any_text_gives_a_day_from_today_on_or_a_clear_refusal(today: dt.date,
                                                                text: str) -> None:
    try:
        day = parse_day(text, today)
    except DueDateError as error:
        assert error.message and error.fix
    else:
        assert today <= day <= today + dt.timedelta(days=MAX_DAYS_AHEAD)
