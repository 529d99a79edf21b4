from decimal import Decimal

import pytest

from ledger import Chart, Entry, Journal, UnbalancedEntry


@pytest.fixture
def journal():
    chart = Chart()
    chart.open("1000", "Cash", "asset")
    chart.open("4000", "Sales", "income")
    chart.open("6000", "Rent", "expense")
    return Journal(chart)


def sale(amount):
    return Entry("sale", debits={"1000": Decimal(amount)}, credits={"4000": Decimal(amount)})


def test_posting_moves_balances(journal):
    journal.post(sale("120.00"))
    assert journal.balance("1000") == Decimal("120.00")
    assert journal.balance("4000") == Decimal("-120.00")


def test_books_balance_after_postings(journal):
    journal.post(sale("500"))
    journal.post(Entry("rent", debits={"6000": Decimal("300")}, credits={"1000": Decimal("300")}))
    assert journal.trial_balance(journal.chart.codes()) == Decimal("0")


def test_unbalanced_entry_is_rejected(journal):
    entry = Entry("typo", debits={"1000": Decimal("10")}, credits={"4000": Decimal("9")})
    with pytest.raises(UnbalancedEntry):
        journal.post(entry)
    assert journal.entries == []


def test_posting_to_a_missing_account_changes_nothing(journal):
    entry = Entry("oops", debits={"1000": Decimal("5")}, credits={"4999": Decimal("5")})
    with pytest.raises(KeyError):
        journal.post(entry)
    assert journal.balance("1000") == Decimal("0")


def test_unopened_account_has_zero_balance(journal):
    assert journal.balance("9999") == Decimal("0")


def test_trial_balance_tolerates_unopened_accounts(journal):
    journal.post(sale("40"))
    assert journal.trial_balance(["1000", "1100"]) == Decimal("40")


def test_account_kind_is_validated():
    with pytest.raises(ValueError, match="unknown account kind"):
        Chart().open("1", "Mystery", "misc")
