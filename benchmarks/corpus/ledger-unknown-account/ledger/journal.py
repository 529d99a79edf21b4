"""Journal entries: each posting debits and credits accounts by equal totals."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal

from ledger.accounts import Chart


class UnbalancedEntry(ValueError):
    """Debits and credits of an entry do not add up to the same amount."""


@dataclass(frozen=True)
class Entry:
    memo: str
    debits: dict[str, Decimal] = field(default_factory=dict)
    credits: dict[str, Decimal] = field(default_factory=dict)

    def check(self) -> None:
        debit, credit = sum(self.debits.values()), sum(self.credits.values())
        if debit != credit:
            raise UnbalancedEntry(f"{self.memo}: debits {debit} != credits {credit}")
        if any(amount <= 0 for amount in (*self.debits.values(), *self.credits.values())):
            raise ValueError(f"{self.memo}: amounts must be positive")


class Journal:
    def __init__(self, chart: Chart) -> None:
        self.chart = chart
        self.entries: list[Entry] = []

    def post(self, entry: Entry) -> None:
        """Validate and apply an entry; nothing changes if it is rejected."""
        entry.check()
        for code in (*entry.debits, *entry.credits):
            self.chart.require(code)
        for code, amount in entry.debits.items():
            self.chart.require(code).balance += amount
        for code, amount in entry.credits.items():
            self.chart.require(code).balance -= amount
        self.entries.append(entry)

    def balance(self, code: str) -> Decimal:
        return self.chart.balance_of(code)

    def trial_balance(self, codes: list[str]) -> Decimal:
        """Sum of the balances of ``codes``; zero over every account when the books balance."""
        return sum((self.balance(code) for code in codes), Decimal("0"))
