"""An in-memory cache whose entries expire a fixed time after they were stored."""

from __future__ import annotations

import time
from collections.abc import Callable, Hashable
from typing import Any


class TTLCache:
    """Map keys to values for ``ttl`` seconds; the oldest entry goes when full."""

    def __init__(
        self, ttl: float, max_entries: int = 128, clock: Callable[[], float] = time.monotonic
    ) -> None:
        if ttl <= 0:
            raise ValueError("ttl must be positive")
        if max_entries < 1:
            raise ValueError("max_entries must be at least 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        self._entries: dict[Hashable, tuple[float, Any]] = {}

    def _expired(self, expires_at: float) -> bool:
        return self._clock() >= expires_at

    def set(self, key: Hashable, value: Any) -> None:
        self._entries.pop(key, None)
        if len(self._entries) >= self.max_entries:
            oldest = next(iter(self._entries))
            del self._entries[oldest]
        self._entries[key] = (self._clock() + self.ttl, value)

    def get(self, key: Hashable, default: Any = None) -> Any:
        entry = self._entries.get(key)
        if entry is None:
            return default
        expires_at, value = entry
        if self._expired(expires_at):
            del self._entries[key]
            return default
        return value

    def purge(self) -> int:
        """Drop every expired entry now; return how many were dropped."""
        stale = [key for key, (expires_at, _) in self._entries.items() if self._expired(expires_at)]
        for key in stale:
            del self._entries[key]
        return len(stale)

    def __len__(self) -> int:
        """Entries held, expired ones included until they are purged or read."""
        return len(self._entries)

    def __contains__(self, key: Hashable) -> bool:
        return self.get(key, _MISSING) is not _MISSING


_MISSING = object()
