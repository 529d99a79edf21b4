"""The chart of accounts: codes, names, kinds and running balances."""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal

KINDS = ("asset", "liability", "equity", "income", "expense")


@dataclass
class Account:
    code: str
    name: str
    kind: str
    balance: Decimal = Decimal("0")

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise ValueError(f"unknown account kind {self.kind!r}; use one of {', '.join(KINDS)}")


class Chart:
    """All open accounts, by code."""

    def __init__(self) -> None:
        self._accounts: dict[str, Account] = {}

    def open(self, code: str, name: str, kind: str) -> Account:
        if code in self._accounts:
            raise ValueError(f"account {code} is already open")
        account = Account(code, name, kind)
        self._accounts[code] = account
        return account

    def find(self, code: str) -> Account | None:
        return self._accounts.get(code)

    def require(self, code: str) -> Account:
        account = self.find(code)
        if account is None:
            raise KeyError(f"no account {code}")
        return account

    def balance_of(self, code: str) -> Decimal:
        """The account's balance; accounts that were never opened have nothing in them."""
        account = self.find(code)
        return account.balance

    def codes(self) -> list[str]:
        return sorted(self._accounts)
