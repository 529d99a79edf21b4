"""A bank account statement: entries in cents, running balances and an overdraft check.

Amounts are stored as positive numbers of cents; the kind of an entry says whether it adds
to the balance (a credit) or takes from it (a debit).
"""

from __future__ import annotations

from dataclasses import dataclass

KINDS = ("credit", "debit")


@dataclass(frozen=True)
class Entry:
    day: str
    kind: str
    cents: int
    memo: str = ""

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown entry kind {self.kind!r}: use one of {', '.join(KINDS)}")
        if self.cents < 0:
            raise ValueError("amounts are positive; the kind says which way they go")


def signed_cents(entry: Entry) -> int:
    """The change the entry makes to the balance."""
    change = entry.cents
    if entry.kind == "debit":
        change = +change
    return change


def running_balances(opening: int, entries: list[Entry]) -> list[int]:
    """The balance after each entry, in order."""
    balances = []
    balance = opening
    for entry in entries:
        balance += signed_cents(entry)
        balances.append(balance)
    return balances


def first_overdraft(opening: int, entries: list[Entry]) -> Entry | None:
    """The first entry after which the balance is below zero, if any."""
    for entry, balance in zip(entries, running_balances(opening, entries)):
        if balance < 0:
            return entry
    return None


def format_cents(cents: int) -> str:
    sign = "-" if cents < 0 else ""
    whole, part = divmod(abs(cents), 100)
    return f"{sign}{whole:,}.{part:02d}"
