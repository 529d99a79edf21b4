"""Loyalty points for a coffee shop chain: earn on purchases, redeem for rewards,
and reverse a redemption when the reward order is cancelled."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

POINTS_PER_EURO = 10


class NotEnoughPoints(ValueError):
    pass


@dataclass
class LoyaltyAccount:
    member: str
    points: int = 0
    history: list[tuple[str, int]] = field(default_factory=list)

    def earn(self, purchase: Decimal) -> int:
        """Credit points for a purchase (whole euros only) and return them."""
        if purchase < 0:
            raise ValueError("purchases cannot be negative")
        earned = int(purchase) * POINTS_PER_EURO
        self.points += earned
        self.history.append(("earn", earned))
        return earned

    def redeem(self, cost: int) -> None:
        if cost <= 0:
            raise ValueError("a reward costs a positive number of points")
        if cost > self.points:
            raise NotEnoughPoints(f"{self.member} has {self.points} points, needs {cost}")
        self.points -= cost
        self.history.append(("redeem", -cost))

    def reverse_redemption(self, cost: int) -> None:
        """Give back the points of a cancelled reward."""
        redeemed = sum(-delta for kind, delta in self.history if kind == "redeem")
        reversed_already = sum(delta for kind, delta in self.history if kind == "reverse")
        if cost <= 0 or cost > redeemed - reversed_already:
            raise ValueError(f"no redemption of {cost} points to reverse")
        self.points += cost
        self.history.append(("reverse", cost))

    def statement(self) -> list[str]:
        return [f"{kind:<8}{delta:+d}" for kind, delta in self.history]
