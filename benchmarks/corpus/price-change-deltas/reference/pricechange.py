"""Day-over-day price movements for a watch list."""

from __future__ import annotations


def daily_changes(prices: list[float]) -> list[float]:
    """Percentage change of each price against the price before it, rounded to 0.01."""
    if len(prices) < 2:
        return []
    previous = prices[0]
    changes = []
    for price in prices[1:]:
        if previous == 0:
            raise ValueError("a price of zero has no percentage change")
        changes.append(round((price - previous) / previous * 100, 2))
        previous = price
    return changes


def biggest_move(prices: list[float]) -> float:
    """The largest absolute day-over-day change, 0.0 for fewer than two prices."""
    changes = daily_changes(prices)
    return max((abs(change) for change in changes), default=0.0)
