"""The token-bucket rate limiter: bursts, refills, bounded memory, and how long a key has to
wait without spending anything."""

from __future__ import annotations

from studio.interaction.ratelimit import Rate, RateLimiter


def test_rate_limiter_bursts_then_refills() -> None:
    """A key gets its burst at once, then one per refill interval; keys are independent."""
    limiter = RateLimiter(Rate(per_second=2, burst=3))
    assert [limiter.allow("a", 0.0) for _ in range(4)] == [True, True, True, False]
    assert limiter.allow("b", 0.0)
    assert not limiter.allow("a", 0.2)
    assert limiter.allow("a", 0.5)


def test_rate_limiter_forgets_old_keys() -> None:
    """Beyond max_keys the least recently used key is forgotten (memory stays bounded)."""
    limiter = RateLimiter(Rate(per_second=1, burst=1), max_keys=2)
    limiter.allow("a", 0.0)
    limiter.allow("b", 0.0)
    limiter.allow("c", 0.0)
    assert limiter.allow("a", 0.0)  # a was forgotten, so it has a fresh bucket


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
