"""Stock levels per SKU in one warehouse, with reservations for open orders."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass
class StockLevel:
    """Units of one SKU: what is on the shelf, and how much of it is promised."""

    sku: str
    on_hand: int
    reserved: int = 0
    reorder_point: int = 0
    target: int = 0

    @property
    def available(self) -> int:
        """Units that can still be sold."""
        return self.on_hand - self.reserved

    def needs_reorder(self) -> bool:
        return self.available <= self.reorder_point

    def shortfall(self) -> int:
        """Units to buy to bring available stock back up to ``target`` (0 if not needed)."""
        if not self.needs_reorder():
            return 0
        return max(0, self.target - self.available)


class Warehouse:
    def __init__(self) -> None:
        self._levels: dict[str, StockLevel] = {}

    def add(self, level: StockLevel) -> None:
        if level.sku in self._levels:
            raise ValueError(f"duplicate SKU {level.sku}")
        self._levels[level.sku] = level

    def reserve(self, sku: str, quantity: int) -> None:
        """Promise ``quantity`` units to an order; ValueError if they are not available."""
        level = self._levels[sku]
        if quantity <= 0:
            raise ValueError("quantity must be positive")
        if quantity > level.available:
            raise ValueError(f"only {level.available} of {sku} available")
        level.reserved += quantity

    def levels(self) -> list[StockLevel]:
        return sorted(self._levels.values(), key=lambda level: level.sku)
