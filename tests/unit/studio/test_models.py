"""The pure rules of the programme's records: the accepted range of times."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

import pytest

from studio.errors import InvalidInput
from studio.models import check_instant, check_times, in_range


def test_range_is_the_years_2000_to_2100_in_utc() -> None:
    """The first instant of 2000 and the last of 2100 (UTC) are in; one step outside is not."""
    assert in_range(datetime(2000, 1, 1, tzinfo=UTC))
    assert in_range(datetime(2100, 12, 31, 23, 59, 59, 999999, tzinfo=UTC))
    assert not in_range(datetime(1999, 12, 31, 23, 59, 59, tzinfo=UTC))
    assert not in_range(datetime(2101, 1, 1, tzinfo=UTC))
    plus_two = timezone(timedelta(hours=2))
    assert not in_range(datetime(2000, 1, 1, 1, 0, tzinfo=plus_two))  # 1999-12-31T23:00Z
    assert in_range(datetime(2101, 1, 1, 1, 0, tzinfo=plus_two))  # 2100-12-31T23:00Z


def test_extreme_offsets_near_year_1_and_9999_are_refused_without_overflow() -> None:
    """Times whose UTC conversion would overflow are refused, naming the field."""
    for moment in (
        datetime(1, 1, 1, tzinfo=timezone(timedelta(hours=14))),
        datetime(9999, 12, 31, 23, tzinfo=timezone(timedelta(hours=-14))),
    ):
        with pytest.raises(
            InvalidInput, match=r"^when: must lie in the years 2000 to 2100 \(UTC\)$"
        ):
            check_instant("when", moment)


def test_check_times_names_the_time_out_of_range() -> None:
    """A session's start or end out of range is named before the order of the two is checked."""
    start = datetime(2026, 5, 20, 9, tzinfo=UTC)
    with pytest.raises(InvalidInput, match=r"^ends_at: must lie"):
        check_times(start, datetime(2101, 1, 1, tzinfo=UTC))
    with pytest.raises(InvalidInput, match=r"^starts_at: must lie"):
        check_times(datetime(1999, 1, 1, tzinfo=UTC), start)
