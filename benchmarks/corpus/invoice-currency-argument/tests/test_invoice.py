import pytest

from invoice import format_amount, invoice_line


def test_amount():
    assert format_amount(1234.5, "USD") == "$1,234.50"


def test_default_currency():
    assert format_amount(3) == "\u20ac3.00"


def test_line_in_euros():
    assert invoice_line("pens", 3, 1.5, "EUR") == "pens  3 x \u20ac1.50 = \u20ac4.50"


def test_line_in_dollars():
    assert invoice_line("paper", 2, 4.25, "USD") == "paper  2 x $4.25 = $8.50"


def test_unknown_currency():
    with pytest.raises(ValueError):
        format_amount(1, "XYZ")
