from decimal import Decimal

import pytest

from envelopes import Budget, Overspent


@pytest.fixture
def budget():
    budget = Budget()
    budget.add_envelope("rent", 2)
    budget.add_envelope("food", 1)
    return budget


def test_shares_follow_weights(budget):
    budget.allocate(Decimal("300.00"))
    assert budget.envelopes["rent"].balance == Decimal("200.00")
    assert budget.envelopes["food"].balance == Decimal("100.00")


def test_even_split_leaves_nothing(budget):
    assert budget.allocate(Decimal("300.00")) == Decimal("0")


def test_uneven_split_returns_leftover_cents(budget):
    leftover = budget.allocate(Decimal("100.00"))
    assert budget.total() == Decimal("99.99")
    assert leftover == Decimal("0.01")


def test_spend_reduces_envelope(budget):
    budget.allocate(Decimal("300.00"))
    assert budget.spend("food", Decimal("25.50")) == Decimal("74.50")


def test_overspending_is_refused(budget):
    budget.allocate(Decimal("30.00"))
    with pytest.raises(Overspent):
        budget.spend("food", Decimal("10.01"))
    assert budget.envelopes["food"].balance == Decimal("10.00")


def test_allocate_needs_envelopes():
    with pytest.raises(ValueError):
        Budget().allocate(Decimal("1"))


def test_weights_must_be_positive(budget):
    with pytest.raises(ValueError):
        budget.add_envelope("fun", 0)
