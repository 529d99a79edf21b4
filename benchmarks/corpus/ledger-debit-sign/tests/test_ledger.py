import pytest

from ledger import Entry, first_overdraft, format_cents, running_balances, signed_cents


def test_credits_add_to_the_balance():
    entries = [Entry("03-01", "credit", 1500), Entry("03-02", "credit", 250)]
    assert running_balances(1000, entries) == [2500, 2750]


def test_debits_take_from_the_balance():
    entries = [Entry("03-01", "debit", 400), Entry("03-02", "credit", 100)]
    assert running_balances(1000, entries) == [600, 700]


def test_signed_cents():
    assert signed_cents(Entry("03-01", "credit", 75)) == 75
    assert signed_cents(Entry("03-01", "debit", 75)) == -75


def test_first_overdraft_is_the_entry_that_crosses_zero():
    rent = Entry("03-03", "debit", 90000, "rent")
    entries = [Entry("03-01", "debit", 5000), rent, Entry("03-04", "credit", 100000)]
    assert first_overdraft(50000, entries) == rent


def test_no_overdraft_when_credits_cover_debits():
    entries = [Entry("03-01", "credit", 100), Entry("03-02", "debit", 100)]
    assert first_overdraft(0, entries) is None


def test_format_cents():
    assert format_cents(123456) == "1,234.56"
    assert format_cents(-5) == "-0.05"


def test_rejects_bad_entries():
    with pytest.raises(ValueError):
        Entry("03-01", "refund", 10)
    with pytest.raises(ValueError):
        Entry("03-01", "debit", -10)
