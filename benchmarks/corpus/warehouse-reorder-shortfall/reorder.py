"""Turn stock shortfalls into purchase orders rounded up to the supplier's pack sizes."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

from stock import Warehouse


@dataclass(frozen=True)
class PurchaseLine:
    sku: str
    quantity: int


def packs_for(needed: int, pack_size: int) -> int:
    """Units to order: ``needed`` rounded up to a whole number of packs."""
    if pack_size < 1:
        raise ValueError("pack size must be at least 1")
    packs = -(-needed // pack_size)
    return packs * pack_size


def plan_purchase(warehouse: Warehouse, pack_sizes: dict[str, int]) -> list[PurchaseLine]:
    """One purchase line per SKU that has fallen to its reorder point, sorted by SKU."""
    lines = []
    for level in warehouse.levels():
        needed = level.shortfall()
        if needed:
            lines.append(PurchaseLine(level.sku, packs_for(needed, pack_sizes.get(level.sku, 1))))
    return lines


def purchase_cost(lines: list[PurchaseLine], unit_costs: dict[str, Decimal]) -> Decimal:
    """Total cost of a purchase plan."""
    return sum((unit_costs[line.sku] * line.quantity for line in lines), Decimal("0"))
