"""UTC storage, Shanghai display, and working days on the Chinese statutory calendar."""

from datetime import UTC, date, datetime

import pytest

from mall.core.clock import (
    add_working_days,
    format_local,
    frozen_clock,
    is_working_day,
    now,
    working_day_deadline,
    working_days_between,
)


def test_two_working_days_after_the_eve_of_national_day_skip_the_golden_week():
    # 2026-10-01..07 are holidays: the 2nd working day after 30 Sep is 9 Oct.
    assert add_working_days(date(2026, 9, 30), 2) == date(2026, 10, 9)


def test_an_adjusted_saturday_counts_as_a_working_day():
    # Saturday 10 Oct 2026 is a make-up working day (调休).
    assert date(2026, 10, 10).weekday() == 5
    assert is_working_day(date(2026, 10, 10))
    assert add_working_days(date(2026, 10, 9), 1) == date(2026, 10, 10)


def test_an_adjusted_sunday_counts_and_an_ordinary_weekend_does_not():
    # Sunday 20 Sep 2026 is worked; Saturday 19 Sep is not.
    assert add_working_days(date(2026, 9, 18), 2) == date(2026, 9, 21)
    assert not is_working_day(date(2026, 9, 19))


def test_working_days_between_counts_the_holiday_week_as_nothing():
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 8)) == 1


def test_a_year_without_a_published_calendar_falls_back_to_weekdays():
    assert is_working_day(date(2099, 6, 1))  # a Monday
    assert not is_working_day(date(2099, 6, 6))  # a Saturday


def test_deadlines_end_at_midnight_beijing_time_and_are_stored_in_utc():
    award = datetime(2026, 9, 30, 3, 0, tzinfo=UTC)  # 11:00 in Beijing
    deadline = working_day_deadline(award, 2)
    assert deadline == datetime(2026, 10, 9, 15, 59, 59, tzinfo=UTC)
    assert format_local(deadline) == "2026-10-09 23:59"


def test_display_is_in_shanghai_time():
    assert format_local(datetime(2026, 11, 23, 16, 30, tzinfo=UTC)) == "2026-11-24 00:30"


def test_the_clock_can_be_frozen_and_moved_by_tests():
    start = datetime(2026, 1, 1, tzinfo=UTC)
    with frozen_clock(start) as cell:
        assert now() == start
        cell[0] = datetime(2026, 1, 5, tzinfo=UTC)
        assert now().day == 5
    assert now().year >= 2026 and now() != start


def test_naive_datetimes_are_refused():
    with pytest.raises(ValueError):
        format_local(datetime(2026, 1, 1))
