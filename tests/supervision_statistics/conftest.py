"""Fixtures of the statistics tests: the hand-worked mall (statistics_mall)."""

from tests.supervision_statistics.statistics_mall import clock, mall  # noqa: F401
