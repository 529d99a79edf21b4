"""Invoices: line items, volume discounts and tax totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from tax import rate_for, tax_on, to_cents

# Volume discount tiers (subtotal threshold, rate), largest first.
DISCOUNT_TIERS = ((Decimal("1000.00"), Decimal("0.10")), (Decimal("500.00"), Decimal("0.05")))


@dataclass(frozen=True)
class Line:
    description: str
    quantity: int
    unit_price: Decimal
    tax_category: str = "standard"

    @property
    def net(self) -> Decimal:
        return self.unit_price * self.quantity


def discount_rate(subtotal: Decimal) -> Decimal:
    """The volume discount rate for an order subtotal."""
    for threshold, rate in DISCOUNT_TIERS:
        if subtotal > threshold:
            return rate
    return Decimal("0")


@dataclass
class Invoice:
    customer: str
    lines: list[Line] = field(default_factory=list)

    def add(
        self, description: str, quantity: int, unit_price: str, tax_category: str = "standard"
    ) -> None:
        if quantity < 1:
            raise ValueError("quantity must be at least 1")
        rate_for(tax_category)  # fail early on an unknown category
        self.lines.append(Line(description, quantity, Decimal(unit_price), tax_category))

    @property
    def subtotal(self) -> Decimal:
        return sum((line.net for line in self.lines), Decimal("0"))

    @property
    def discount(self) -> Decimal:
        return to_cents(self.subtotal * discount_rate(self.subtotal))

    @property
    def tax(self) -> Decimal:
        """Tax per line on the discounted net amount."""
        keep = 1 - discount_rate(self.subtotal)
        taxes = (tax_on(line.net * keep, line.tax_category) for line in self.lines)
        return sum(taxes, Decimal("0"))

    @property
    def total(self) -> Decimal:
        return self.subtotal - self.discount + self.tax
