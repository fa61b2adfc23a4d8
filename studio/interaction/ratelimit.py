"""Token-bucket rate limits, keyed by viewer or address. Pure: callers pass the time."""

from __future__ import annotations

from collections import OrderedDict
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Rate:
    """``burst`` actions at once, refilled at ``per_second``."""

    per_second: float
    burst: int


class TokenBucket:
    """One bucket: allows an action when a token is left, refills continuously."""

    __slots__ = ("_rate", "_tokens", "_updated")

    def __init__(self, rate: Rate, now: float) -> None:
        self._rate = rate
        self._tokens = float(rate.burst)
        self._updated = now

    def allow(self, now: float, cost: float = 1.0) -> bool:
        """Take ``cost`` tokens if there are enough; return whether the action may happen."""
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self._rate.burst), self._tokens + elapsed * self._rate.per_second)
        self._updated = now
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False


class RateLimiter:
    """Buckets per key, forgetting the least recently used beyond ``max_keys``."""

    def __init__(self, rate: Rate, max_keys: int = 100_000) -> None:
        self._rate = rate
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def allow(self, key: str, now: float) -> bool:
        """Whether ``key`` may act now."""
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._rate, now)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket.allow(now)
