"""The monthly report's month is YYYY-MM and nothing else, up to this month."""

from __future__ import annotations

import pytest

from mall.core.errors import ValidationFailed
from supervision.prices.reports import parse_month


@pytest.mark.parametrize("text", ["+2026-+12", "2026-0012", "2_026-12", "2026-1", "２０２６-01",
                                  "2026-13", "0001-01", "2999-01"])
def test_odd_months_are_refused_next_to_the_field(text):
    with pytest.raises(ValidationFailed) as refused:
        parse_month(text)
    assert set(refused.value.errors) == {"month"}


def test_a_plain_month_is_its_first_day():
    assert parse_month("2026-11").isoformat() == "2026-11-01"
