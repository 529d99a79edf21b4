"""Split a shared bill between people, in whole cents, so the shares add up exactly."""

from __future__ import annotations

from fractions import Fraction


def split_cents(total_cents: int, weights: list[int]) -> list[int]:
    """Shares of ``total_cents`` proportional to ``weights`` that sum to the total.

    Every share is the exact proportional amount rounded down; the cents left over go,
    one each, to the shares that lost the most to rounding (earlier people win ties).
    """
    if total_cents < 0:
        raise ValueError("the total cannot be negative")
    if not weights or any(weight < 0 for weight in weights) or sum(weights) == 0:
        raise ValueError("weights must be non-negative and not all zero")
    exact = [Fraction(total_cents * weight, sum(weights)) for weight in weights]
    shares = [int(amount) for amount in exact]
    leftover = total_cents - sum(shares)
    by_loss = sorted(range(len(weights)), key=lambda i: (-(exact[i] - shares[i]), i))
    for index in by_loss[:leftover]:
        shares[index] += 1
    return shares


def split_evenly(total_cents: int, people: int) -> list[int]:
    if people < 1:
        raise ValueError("at least one person pays")
    return split_cents(total_cents, [1] * people)


def format_shares(names: list[str], shares: list[int]) -> list[str]:
    return [f"{name}: {cents // 100}.{cents % 100:02d}" for name, cents in zip(names, shares)]
