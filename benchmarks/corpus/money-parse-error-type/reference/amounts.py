"""Parse and format money amounts typed by people into spreadsheets and web forms."""

from __future__ import annotations

from decimal import Decimal, InvalidOperation

CENT = Decimal("0.01")


class AmountError(ValueError):
    """An amount has more precision than a currency allows."""


def parse_amount(text: str) -> Decimal:
    """Parse ``"1,234.50"``, ``"$12"``, ``"-3.5"`` or accounting style ``"(4.00)"``.

    Raises ValueError for text that is not an amount.
    """
    cleaned = text.strip().replace(",", "").replace("$", "").replace(" ", "")
    negative = cleaned.startswith("(") and cleaned.endswith(")")
    if negative:
        cleaned = cleaned[1:-1]
    try:
        value = Decimal(cleaned)
    except InvalidOperation:
        raise ValueError(f"not a money amount: {text!r}") from None
    if not value.is_finite():
        raise ValueError(f"not a money amount: {text!r}")
    if value != value.quantize(CENT):
        raise AmountError(f"more than two decimal places: {text!r}")
    return -value if negative else value


def format_amount(value: Decimal, symbol: str = "$") -> str:
    """``Decimal("-1234.5")`` -> ``"-$1,234.50"``."""
    sign = "-" if value < 0 else ""
    return f"{sign}{symbol}{abs(value).quantize(CENT):,}"


def total(texts: list[str]) -> Decimal:
    """Sum of the amounts in ``texts``; blank cells are skipped."""
    return sum((parse_amount(text) for text in texts if text.strip()), Decimal("0"))
