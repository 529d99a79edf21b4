"""How often to retry and how long to wait in between."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass


@dataclass(frozen=True)
class RetryPolicy:
    """``attempts`` calls in total; waits grow by ``factor`` from ``base_delay`` up to a cap."""

    attempts: int = 3
    base_delay: float = 0.1
    factor: float = 2.0
    max_delay: float = 5.0

    def __post_init__(self) -> None:
        if self.attempts < 1:
            raise ValueError("attempts must be at least 1")
        if self.base_delay < 0 or self.max_delay < 0:
            raise ValueError("delays cannot be negative")
        if self.factor < 1:
            raise ValueError("factor must be at least 1")

    def delays(self) -> Iterator[float]:
        """The waits between consecutive attempts (one fewer than the attempts)."""
        for attempt in range(1, self.attempts):
            yield backoff_delay(self, attempt)


def backoff_delay(policy: RetryPolicy, attempt: int) -> float:
    """Seconds to wait after failed attempt number ``attempt`` (1-based)."""
    exponent = attempt - 1
    if exponent < 0:
        raise ValueError("attempts are numbered from 1")
    return min(policy.base_delay * policy.factor**exponent, policy.max_delay)
