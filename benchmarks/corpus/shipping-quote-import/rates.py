"""Carrier rate tables: price per zone and weight band, in cents."""

from __future__ import annotations

ZONES = {"DE": 1, "AT": 2, "FR": 2, "NL": 2, "IT": 3, "ES": 3, "US": 4, "JP": 4}
WEIGHT_BANDS_KG = (1.0, 5.0, 10.0, 31.5)
PRICES_CENTS = {
    1: (499, 699, 999, 1699),
    2: (1099, 1499, 2099, 3299),
    3: (1299, 1799, 2599, 3999),
    4: (2999, 4599, 6999, 11999),
}


class NoRate(LookupError):
    """The carrier does not ship there, or the parcel is too heavy."""


def zone_for(country: str) -> int:
    try:
        return ZONES[country.upper()]
    except KeyError:
        raise NoRate(f"no shipping to {country!r}") from None


def band_for(weight_kg: float) -> int:
    """Index of the lightest weight band the parcel fits in."""
    if weight_kg <= 0:
        raise ValueError("weight must be positive")
    for index, limit in enumerate(WEIGHT_BANDS_KG):
        if weight_kg <= limit:
            return index
    raise NoRate(f"parcels over {WEIGHT_BANDS_KG[-1]} kg need freight shipping")


def parcel_rate(country: str, weight_kg: float) -> int:
    """Price in cents for one parcel."""
    return PRICES_CENTS[zone_for(country)][band_for(weight_kg)]
