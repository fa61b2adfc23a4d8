"""When a failed restream push is tried again, and when it is given up (pure)."""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass

from streaming.errors import InvalidArgument


@dataclass(frozen=True)
class RetryPolicy:
    """How long to wait after the n-th consecutive failure, and when to give up."""

    delays: tuple[float, ...] = (1.0, 2.0, 5.0, 10.0, 30.0)
    max_failures: int = 8
    stable_seconds: float = 30.0

    def __post_init__(self) -> None:
        if not self.delays or any(d < 0 for d in self.delays) or self.max_failures < 1:
            raise InvalidArgument("retry", "delays must be non-negative and max_failures >= 1")

    def delay(self, failures: int) -> float | None:
        """The wait after ``failures`` consecutive failures, or None: give up."""
        if failures >= self.max_failures:
            return None
        return self.delays[min(failures, len(self.delays)) - 1]


class Retries:
    """The consecutive failures of one destination, on a clock (``time.monotonic`` or a fake)."""

    def __init__(self, policy: RetryPolicy, clock: Callable[[], float] = time.monotonic) -> None:
        self.policy = policy
        self.clock = clock
        self.failures = 0
        self._live_at: float | None = None

    def started(self) -> None:
        """An attempt begins."""
        self._live_at = None

    def went_live(self) -> None:
        """The attempt reached the destination and is sending."""
        if self._live_at is None:
            self._live_at = self.clock()

    def ended(self) -> float | None:
        """The attempt ended (ffmpeg exited): the wait before the next one, or None: give up."""
        if self._live_at is not None and self.clock() - self._live_at >= self.policy.stable_seconds:
            self.failures = 0
        self._live_at = None
        self.failures += 1
        return self.policy.delay(self.failures)
