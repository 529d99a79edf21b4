"""Plain-text invoice lines."""

from __future__ import annotations

SYMBOLS = {"EUR": "\u20ac", "USD": "$", "GBP": "\u00a3"}


def format_amount(value: float, currency: str = "EUR", decimals: int = 2) -> str:
    """``value`` with its currency symbol, e.g. ``$12.50``."""
    if currency not in SYMBOLS:
        raise ValueError(f"unknown currency {currency}")
    return f"{SYMBOLS[currency]}{value:,.{decimals}f}"


def invoice_line(label: str, quantity: int, unit_price: float, currency: str) -> str:
    """``label  quantity x unit price = total``, amounts in ``currency``."""
    total = format_amount(quantity * unit_price, currency)
    unit = format_amount(unit_price, currency)
    return f"{label}  {quantity} x {unit} = {total}"
