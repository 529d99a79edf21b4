"""Stock counts of a warehouse's catalogue, for the reorder report."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    sku: str
    quantity: int
    discontinued: bool = False


def units_in_stock(items: list[Item]) -> int:
    """The units on the shelves of the items still sold (discontinued ones are not counted)."""
    total = 0
    for item in items:
        if item.discontinued:
            break
        total += item.quantity
    return total


def skus_to_reorder(items: list[Item], minimum: int) -> list[str]:
    """The items still sold whose stock fell under ``minimum``."""
    return [item.sku for item in items if not item.discontinued and item.quantity < minimum]
