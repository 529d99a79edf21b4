import pytest

from shop.invoice import Invoice
from shop.money import to_minor


def test_to_minor_rounds_half_up():
    assert to_minor("12.345", "EUR") == 1235
    assert to_minor("1500", "JPY") == 1500
    assert to_minor("0.0005", "KWD") == 1


def test_unknown_currency():
    with pytest.raises(ValueError, match="unknown currency"):
        to_minor("1", "XXX")


def test_euro_invoice():
    invoice = Invoice("EUR")
    invoice.add("Coffee", "2.50", 2)
    invoice.add("Cake", "3.2")
    assert invoice.total() == 820
    assert invoice.render().splitlines() == [
        "Coffee              5.00 EUR",
        "Cake                3.20 EUR",
        "Total               8.20 EUR",
    ]


def test_yen_invoice():
    invoice = Invoice("JPY")
    invoice.add("Ramen", "980")
    invoice.add("Tea", "150", 2)
    assert invoice.render().splitlines() == [
        "Ramen                980 JPY",
        "Tea                  300 JPY",
        "Total               1280 JPY",
    ]


def test_dinar_invoice():
    invoice = Invoice("KWD")
    invoice.add("Book", "4.125")
    assert invoice.render().splitlines()[-1] == "Total               4.125 KWD"
