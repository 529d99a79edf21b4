"""Amounts of money are whole numbers of a currency's minor unit (cents, pence, yen)."""

from decimal import ROUND_HALF_UP, Decimal

MINOR_UNITS = {"EUR": 2, "USD": 2, "GBP": 2, "JPY": 0, "KWD": 3}


def minor_units(currency):
    """How many decimal places the currency's amounts have."""
    try:
        return MINOR_UNITS[currency]
    except KeyError:
        raise ValueError(f"unknown currency {currency!r}") from None


def to_minor(text, currency):
    """'12.5' EUR -> 1250; rounds half up to the currency's minor unit."""
    places = minor_units(currency)
    amount = Decimal(text.strip()).quantize(Decimal(1).scaleb(-places), ROUND_HALF_UP)
    return int(amount.scaleb(places))


def format_amount(minor):
    """1250 -> '12.50'."""
    sign = "-" if minor < 0 else ""
    whole, part = divmod(abs(minor), 100)
    return f"{sign}{whole}.{part:02d}"
