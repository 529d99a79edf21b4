from decimal import Decimal

import pytest

from orders import Order


@pytest.fixture
def order():
    return Order("ACME")


def test_total_of_lines(order):
    order.add_line("PEN", 3, Decimal("1.20"))
    order.add_line("PAD", 1, Decimal("4.00"))
    assert order.total == Decimal("7.60")


def test_same_sku_merges(order):
    order.add_line("PEN", 3, Decimal("1.20"))
    order.add_line("PEN", 2, Decimal("1.20"))
    assert [(line.sku, line.quantity) for line in order.lines] == [("PEN", 5)]


def test_free_items_are_allowed(order):
    order.add_line("SAMPLE", 1, Decimal("0"))
    assert order.total == Decimal("0")


def test_negative_quantity_is_rejected(order):
    with pytest.raises(ValueError, match="positive"):
        order.add_line("PEN", -1, Decimal("1.20"))


def test_zero_quantity_is_rejected(order):
    with pytest.raises(ValueError, match="positive"):
        order.add_line("PEN", 0, Decimal("1.20"))
    assert order.lines == []


@pytest.mark.parametrize("quantity", [1.5, "2", True])
def test_quantity_must_be_a_whole_number(order, quantity):
    with pytest.raises(ValueError, match="whole number"):
        order.add_line("PEN", quantity, Decimal("1"))


def test_negative_price_is_rejected(order):
    with pytest.raises(ValueError, match="negative"):
        order.add_line("PEN", 1, Decimal("-0.01"))


def test_remove_unknown_line(order):
    with pytest.raises(KeyError):
        order.remove_line("NOPE")
