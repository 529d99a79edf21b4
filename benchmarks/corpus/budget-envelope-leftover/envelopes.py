"""Envelope budgeting: income is split across named envelopes by weight, spending
draws from one envelope at a time."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_DOWN, Decimal

CENT = Decimal("0.01")


class Overspent(ValueError):
    """The envelope does not hold enough money for the expense."""


@dataclass
class Envelope:
    name: str
    weight: int
    balance: Decimal = Decimal("0")


class Budget:
    def __init__(self) -> None:
        self.envelopes: dict[str, Envelope] = {}

    def add_envelope(self, name: str, weight: int) -> None:
        if weight <= 0:
            raise ValueError("weights must be positive")
        if name in self.envelopes:
            raise ValueError(f"envelope {name!r} exists")
        self.envelopes[name] = Envelope(name, weight)

    def allocate(self, income: Decimal) -> Decimal:
        """Split ``income`` by weight, rounding each share down to the cent.

        Returns the cents that could not be split evenly, for the caller to carry over.
        """
        if not self.envelopes:
            raise ValueError("add an envelope first")
        total_weight = sum(envelope.weight for envelope in self.envelopes.values())
        remaining = income
        for envelope in self.envelopes.values():
            share = (income * envelope.weight / total_weight).quantize(CENT, rounding=ROUND_DOWN)
            envelope.balance += share
            remaining -= share
        return income

    def spend(self, name: str, amount: Decimal) -> Decimal:
        """Take ``amount`` out of an envelope and return what is left in it."""
        envelope = self.envelopes[name]
        if amount <= 0:
            raise ValueError("amounts must be positive")
        if amount > envelope.balance:
            raise Overspent(f"{name} holds {envelope.balance}, cannot spend {amount}")
        envelope.balance -= amount
        return envelope.balance

    def total(self) -> Decimal:
        return sum((e.balance for e in self.envelopes.values()), Decimal("0"))
