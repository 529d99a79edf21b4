"""Value-added tax: rates per product category and rounding to whole cents."""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal

CENT = Decimal("0.01")
RATES = {
    "standard": Decimal("0.19"),
    "reduced": Decimal("0.07"),  # food, books
    "exempt": Decimal("0"),
}


class UnknownTaxCategory(ValueError):
    """The product's tax category is not in the rate table."""


def to_cents(amount: Decimal) -> Decimal:
    """Round to whole cents, halves away from zero, as tax authorities expect."""
    return amount.quantize(CENT, rounding=ROUND_HALF_UP)


def rate_for(category: str) -> Decimal:
    try:
        return RATES[category]
    except KeyError:
        known = ", ".join(sorted(RATES))
        raise UnknownTaxCategory(f"unknown tax category {category!r} (known: {known})") from None


def tax_on(net: Decimal, category: str) -> Decimal:
    """Tax owed on a net amount, rounded to cents."""
    if net < 0:
        raise ValueError("net amounts cannot be negative")
    return to_cents(net * rate_for(category))
