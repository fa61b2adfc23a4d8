"""The back-off between restream attempts and when a push is given up."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from streaming.errors import InvalidArgument
from streaming.restream.retry import Retries, RetryPolicy


@dataclass
class Ticks:
    """A monotonic clock moved by hand."""

    now: float = 100.0

    def __call__(self) -> float:
        return self.now


def test_the_policy_backs_off_then_gives_up() -> None:
    """1, 2, 5, 10, 30 s, then 30 s again, until the eighth failure in a row gives up."""
    policy = RetryPolicy()
    assert [policy.delay(n) for n in range(1, 9)] == [1, 2, 5, 10, 30, 30, 30, None]


def test_a_bad_policy_is_refused() -> None:
    """A policy without delays or that never tries cannot be made."""
    with pytest.raises(InvalidArgument):
        RetryPolicy(delays=())
    with pytest.raises(InvalidArgument):
        RetryPolicy(max_failures=0)


def test_failures_count_until_a_push_stays_up() -> None:
    """Quick failures add up; a push that stayed live long enough starts the count afresh,
    one that dropped soon after connecting does not."""
    clock = Ticks()
    retries = Retries(RetryPolicy(delays=(1, 2, 5), max_failures=4, stable_seconds=30), clock)
    retries.started()
    assert retries.ended() == 1
    retries.started()
    retries.went_live()
    clock.now += 10  # live, but not for long
    assert retries.ended() == 2
    assert retries.failures == 2
    retries.started()
    retries.went_live()
    clock.now += 31  # stayed up: the count starts again
    assert retries.ended() == 1
    assert retries.failures == 1
    for expected in (2, 5, None):
        retries.started()
        clock.now += 5
        assert retries.ended() == expected
    assert retries.failures == 4
