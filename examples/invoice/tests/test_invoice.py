from decimal import Decimal

import pytest

from invoice import Invoice, discount_rate
from tax import UnknownTaxCategory, tax_on


def test_tax_is_rounded_to_cents():
    assert tax_on(Decimal("10.05"), "standard") == Decimal("1.91")
    assert tax_on(Decimal("10.00"), "reduced") == Decimal("0.70")


def test_unknown_tax_category_is_rejected():
    invoice = Invoice("ACME")
    with pytest.raises(UnknownTaxCategory):
        invoice.add("Widget", 1, "5.00", tax_category="luxury")


def test_small_order_has_no_discount():
    invoice = Invoice("ACME")
    invoice.add("Widget", 4, "25.00")
    invoice.add("Manual", 1, "20.00", tax_category="reduced")
    assert invoice.discount == Decimal("0")
    assert invoice.total == Decimal("120.00") + Decimal("19.00") + Decimal("1.40")


def test_discount_tiers():
    assert discount_rate(Decimal("499.99")) == Decimal("0")
    assert discount_rate(Decimal("750.00")) == Decimal("0.05")
    assert discount_rate(Decimal("2500.00")) == Decimal("0.10")


def test_order_of_exactly_one_thousand_gets_the_top_tier():
    invoice = Invoice("ACME")
    invoice.add("Server rack", 1, "1000.00")
    assert invoice.discount == Decimal("100.00")
    assert invoice.total == Decimal("900.00") + Decimal("171.00")


def test_quantity_must_be_positive():
    with pytest.raises(ValueError):
        Invoice("ACME").add("Widget", 0, "5.00")
