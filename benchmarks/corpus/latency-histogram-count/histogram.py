"""A fixed-bucket latency histogram, as exported to the metrics endpoint."""

from __future__ import annotations

import bisect

DEFAULT_BOUNDS = (5.0, 10.0, 25.0, 50.0, 100.0, 250.0, 500.0, 1000.0)


class Histogram:
    """Counts observations per bucket; each bucket holds values up to its upper bound.

    Values above the last bound land in an overflow bucket.
    """

    def __init__(self, bounds: tuple[float, ...] = DEFAULT_BOUNDS) -> None:
        if not bounds or list(bounds) != sorted(set(bounds)):
            raise ValueError("bounds must be strictly increasing")
        self.bounds = bounds
        self.buckets = [0] * (len(bounds) + 1)
        self.count = 0
        self.total = 0.0

    def observe(self, value: float) -> None:
        if value < 0:
            raise ValueError("latencies cannot be negative")
        index = bisect.bisect_left(self.bounds, value)
        self.buckets[index] += 1
        self.total += value

    @property
    def mean(self) -> float | None:
        return self.total / self.count if self.count else None

    def quantile(self, q: float) -> float | None:
        """Upper bound of the bucket that holds the ``q`` quantile (inf for overflow)."""
        if not 0 <= q <= 1:
            raise ValueError("q must be between 0 and 1")
        if not self.count:
            return None
        rank = q * self.count
        seen = 0
        for index, hits in enumerate(self.buckets):
            seen += hits
            if hits and seen >= rank:
                return self.bounds[index] if index < len(self.bounds) else float("inf")
        return float("inf")

    def cumulative(self) -> list[tuple[float, int]]:
        """``(upper bound, observations <= bound)`` pairs, overflow included as inf."""
        pairs = []
        running = 0
        for bound, hits in zip((*self.bounds, float("inf")), self.buckets):
            running += hits
            pairs.append((bound, running))
        return pairs
