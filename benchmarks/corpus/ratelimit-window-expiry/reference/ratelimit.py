"""Sliding-window rate limiting for API clients.

A :class:`SlidingWindowLimiter` remembers when each recent request was let through and
allows a new one only while fewer than ``limit`` requests happened inside the last
``window`` seconds. Time comes from an injectable clock, so callers can drive it.
"""

from __future__ import annotations

import time
from collections import deque
from collections.abc import Callable


class RateLimitExceeded(RuntimeError):
    """Raised by :meth:`SlidingWindowLimiter.acquire` when no slot is free."""

    def __init__(self, retry_after: float) -> None:
        super().__init__(f"rate limit exceeded, retry in {retry_after:.2f}s")
        self.retry_after = retry_after


class SlidingWindowLimiter:
    """Allow at most ``limit`` calls in any span of ``window`` seconds."""

    def __init__(
        self, limit: int, window: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if limit < 1:
            raise ValueError("limit must be at least 1")
        if window <= 0:
            raise ValueError("window must be positive")
        self.limit = limit
        self.window = window
        self._clock = clock
        self._stamps: deque[float] = deque()

    def _expire(self, now: float) -> None:
        """Forget requests that are a full window old or older."""
        while self._stamps and now - self._stamps[0] >= self.window:
            self._stamps.popleft()

    def try_acquire(self) -> bool:
        """Take a slot if one is free; return whether it was taken."""
        now = self._clock()
        self._expire(now)
        if len(self._stamps) < self.limit:
            self._stamps.append(now)
            return True
        return False

    def acquire(self) -> None:
        """Take a slot or raise :class:`RateLimitExceeded` with the wait time."""
        if not self.try_acquire():
            raise RateLimitExceeded(self.retry_after())

    def retry_after(self) -> float:
        """Seconds until the next slot frees up (0.0 when one is free now)."""
        now = self._clock()
        self._expire(now)
        if len(self._stamps) < self.limit:
            return 0.0
        return self._stamps[0] + self.window - now

    @property
    def remaining(self) -> int:
        """Slots that are free right now."""
        self._expire(self._clock())
        return self.limit - len(self._stamps)
