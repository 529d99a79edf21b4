"""A tiny double-entry bookkeeping ledger."""

from ledger.accounts import Account, Chart
from ledger.journal import Entry, Journal, UnbalancedEntry

__all__ = ["Account", "Chart", "Entry", "Journal", "UnbalancedEntry"]
