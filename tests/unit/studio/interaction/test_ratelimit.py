"""The token buckets: how long a key has to wait, without spending anything."""

from __future__ import annotations

from studio.interaction.ratelimit import Rate, RateLimiter


def test_retry_after_says_when_the_next_token_comes_and_takes_nothing() -> None:
    """A fresh key may act now; an empty bucket names the wait; asking spends no token."""
    limiter = RateLimiter(Rate(per_second=0.5, burst=2))
    assert limiter.retry_after("a", 0.0) == 0.0
    assert limiter.allow("a", 0.0)
    assert limiter.allow("a", 0.0)
    assert limiter.retry_after("a", 0.0) == 2.0
    assert limiter.retry_after("a", 1.5) == 0.5
    assert limiter.retry_after("a", 1.5) == 0.5  # asking twice waits no longer
    assert limiter.retry_after("a", 2.0) == 0.0
    assert limiter.allow("a", 2.0)
    assert not limiter.allow("a", 2.0)
    assert limiter.retry_after("b", 2.0) == 0.0
