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
        self._refill(now)
        if self._tokens >= cost:
            self._tokens -= cost
            return True
        return False

    def wait(self, now: float, cost: float = 1.0) -> float:
        """Seconds until ``cost`` tokens are there (0 when they are now); takes nothing."""
        self._refill(now)
        return max(0.0, (cost - self._tokens) / self._rate.per_second)

    def _refill(self, now: float) -> None:
        elapsed = max(0.0, now - self._updated)
        self._tokens = min(float(self._rate.burst), self._tokens + elapsed * self._rate.per_second)
        self._updated = now


class RateLimiter:
    """Buckets per key, forgetting the least recently used beyond ``max_keys``."""

    def __init__(self, rate: Rate, max_keys: int = 100_000) -> None:
        self._rate = rate
        self._max_keys = max_keys
        self._buckets: OrderedDict[str, TokenBucket] = OrderedDict()

    def allow(self, key: str, now: float) -> bool:
        """Whether ``key`` may act now (taking a token when it may)."""
        return self._bucket(key, now).allow(now)

    def retry_after(self, key: str, now: float) -> float:
        """Seconds until ``key`` may act (0: now); takes nothing."""
        bucket = self._buckets.get(key)
        return 0.0 if bucket is None else bucket.wait(now)

    def _bucket(self, key: str, now: float) -> TokenBucket:
        bucket = self._buckets.get(key)
        if bucket is None:
            bucket = self._buckets[key] = TokenBucket(self._rate, now)
            if len(self._buckets) > self._max_keys:
                self._buckets.popitem(last=False)
        else:
            self._buckets.move_to_end(key)
        return bucket
