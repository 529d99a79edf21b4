"""Shipping quotes for a checkout: split heavy orders into parcels and price them."""

from __future__ import annotations

import math
from dataclasses import dataclass

from rates import WEIGHT_BANDS_KG, parcel_rates

FREE_SHIPPING_FROM_CENTS = 15000


@dataclass(frozen=True)
class Quote:
    parcels: int
    price_cents: int

    def label(self) -> str:
        if self.price_cents == 0:
            return "Free shipping"
        euros, cents = divmod(self.price_cents, 100)
        plural = "s" if self.parcels > 1 else ""
        return f"{self.parcels} parcel{plural}: €{euros}.{cents:02d}"


def split_parcels(total_kg: float) -> list[float]:
    """Split an order's weight into the fewest parcels of equal weight that can ship."""
    count = max(1, math.ceil(total_kg / WEIGHT_BANDS_KG[-1]))
    return [total_kg / count] * count


def quote(country: str, total_kg: float, order_value_cents: int) -> Quote:
    parcels = split_parcels(total_kg)
    if country.upper() == "DE" and order_value_cents >= FREE_SHIPPING_FROM_CENTS:
        return Quote(len(parcels), 0)
    return Quote(len(parcels), sum(parcel_rate(country, weight) for weight in parcels))
