from decimal import Decimal

import pytest

from amounts import AmountError, format_amount, parse_amount, total


@pytest.mark.parametrize(
    "text, expected",
    [("12", "12"), ("$1,234.50", "1234.50"), (" -3.5 ", "-3.5"), ("(4.00)", "-4.00")],
)
def test_parses_common_notations(text, expected):
    assert parse_amount(text) == Decimal(expected)


def test_too_many_decimals():
    with pytest.raises(AmountError):
        parse_amount("1.005")


@pytest.mark.parametrize("text", ["twelve", "", "1.2.3"])
def test_garbage_is_a_value_error(text):
    with pytest.raises(ValueError, match="not a money amount"):
        parse_amount(text)


def test_infinity_is_not_money():
    with pytest.raises(ValueError):
        parse_amount("Infinity")


def test_format_amount():
    assert format_amount(Decimal("-1234.5")) == "-$1,234.50"
    assert format_amount(Decimal("7"), symbol="€") == "€7.00"


def test_total_skips_blank_cells():
    assert total(["1.50", " ", "(0.50)", "$2"]) == Decimal("3.00")
