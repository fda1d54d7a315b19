"""The one clock of the mall, Asia/Shanghai display, and working days on the statutory calendar.

Services ask ``now()`` for the time; tests move it with ``frozen_clock``/``set_clock``
instead of sleeping. Working days (工作日) skip weekends and statutory holidays and
count the adjusted working weekends (调休), as published by the State Council and
packaged in ``chinese-calendar``.
"""

from __future__ import annotations

import contextlib
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, date, datetime, timedelta
from zoneinfo import ZoneInfo

import chinese_calendar

SHANGHAI = ZoneInfo("Asia/Shanghai")
log = logging.getLogger(__name__)

_source: Callable[[], datetime] = lambda: datetime.now(UTC)  # noqa: E731


def now() -> datetime:
    """The current time as an aware UTC datetime."""
    return _source()


def set_clock(source: Callable[[], datetime] | None) -> None:
    """Replace the clock (None restores the system clock)."""
    global _source
    _source = source or (lambda: datetime.now(UTC))


@contextlib.contextmanager
def frozen_clock(at: datetime) -> Iterator[list[datetime]]:
    """Freeze the clock at ``at``; the yielded one-item list can be changed to move it."""
    if at.tzinfo is None:
        raise ValueError("frozen_clock needs an aware datetime")
    cell = [at]
    previous = _source
    set_clock(lambda: cell[0])
    try:
        yield cell
    finally:
        set_clock(previous)


def to_local(moment: datetime) -> datetime:
    """Convert a stored UTC time to Asia/Shanghai for display."""
    if moment.tzinfo is None:
        raise ValueError("naive datetime")
    return moment.astimezone(SHANGHAI)


def local_today() -> date:
    """Today's date in Asia/Shanghai (a deadline's day is a Chinese day)."""
    return to_local(now()).date()


def format_local(moment: datetime | None, with_seconds: bool = False) -> str:
    """Format a UTC time as Shanghai wall-clock text, e.g. 2026-11-23 21:13."""
    if moment is None:
        return ""
    return to_local(moment).strftime("%Y-%m-%d %H:%M:%S" if with_seconds else "%Y-%m-%d %H:%M")


_WARNED_YEARS: set[int] = set()


def is_working_day(day: date) -> bool:
    """True on a working day; outside the published calendar's years, Monday–Friday."""
    try:
        return chinese_calendar.is_workday(day)
    except NotImplementedError:
        # The State Council publishes each year's calendar in late autumn; until the
        # package knows a year we fall back to plain weekdays and say so in the log.
        if day.year not in _WARNED_YEARS:  # once per year and process, not per day counted
            _WARNED_YEARS.add(day.year)
            log.warning("no statutory calendar for %s; counting Monday-Friday", day.year)
        return day.weekday() < 5


def add_working_days(start: date, days: int) -> date:
    """The date ``days`` working days after ``start`` (start itself is not counted)."""
    if days < 0:
        raise ValueError("days must be >= 0")
    current = start
    remaining = days
    while remaining:
        current += timedelta(days=1)
        if is_working_day(current):
            remaining -= 1
    return current


def working_days_between(start: date, end: date) -> int:
    """How many working days lie after ``start`` up to and including ``end``."""
    count = 0
    current = start
    while current < end:
        current += timedelta(days=1)
        if is_working_day(current):
            count += 1
    return count


def working_day_deadline(moment: datetime, days: int) -> datetime:
    """End of the Shanghai day ``days`` working days after ``moment``, as UTC."""
    day = add_working_days(to_local(moment).date(), days)
    end = datetime(day.year, day.month, day.day, 23, 59, 59, tzinfo=SHANGHAI)
    return end.astimezone(UTC)
