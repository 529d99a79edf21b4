"""Turning stock levels into purchase order lines."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Item:
    sku: str
    on_hand: int
    reorder_point: int
    pack_size: int


def packs_needed(item: Item) -> int:
    """Whole packs that bring the stock back above its reorder point."""
    missing = item.reorder_point - item.on_hand
    if missing < 0:
        return 0
    return missing // item.pack_size + 1


def order_lines(items: list[Item]) -> list[tuple[str, int]]:
    """(sku, units) for every item at or below its reorder point, in the given order."""
    lines = []
    for item in items:
        packs = packs_needed(item)
        if packs:
            lines.append((item.sku, packs * item.pack_size))
    return lines
