"""Sales orders: lines of SKU, quantity and unit price, with validation on entry."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal


@dataclass
class OrderLine:
    sku: str
    quantity: int
    unit_price: Decimal

    @property
    def amount(self) -> Decimal:
        return self.unit_price * self.quantity


class Order:
    def __init__(self, customer: str) -> None:
        if not customer.strip():
            raise ValueError("an order needs a customer")
        self.customer = customer
        self.lines: list[OrderLine] = []

    def add_line(self, sku: str, quantity: int, unit_price: Decimal) -> OrderLine:
        """Add ``quantity`` units of ``sku``; the same SKU twice merges into one line.

        Raises ValueError unless the quantity is a positive whole number and the price is
        not negative.
        """
        if not isinstance(quantity, int) or isinstance(quantity, bool):
            raise ValueError(f"quantity must be a whole number, got {quantity!r}")
        if quantity < 0:
            raise ValueError(f"quantity must be positive, got {quantity}")
        if unit_price < 0:
            raise ValueError(f"unit price cannot be negative, got {unit_price}")
        for line in self.lines:
            if line.sku == sku and line.unit_price == unit_price:
                line.quantity += quantity
                return line
        line = OrderLine(sku, quantity, unit_price)
        self.lines.append(line)
        return line

    def remove_line(self, sku: str) -> None:
        before = len(self.lines)
        self.lines = [line for line in self.lines if line.sku != sku]
        if len(self.lines) == before:
            raise KeyError(sku)

    @property
    def total(self) -> Decimal:
        return sum((line.amount for line in self.lines), Decimal("0"))
