"""Feature flags with kill switches, allow/deny lists and percentage rollouts.

A user's rollout bucket is derived from a hash of the flag name and the user id, so the
same user keeps the same answer between processes and across deploys.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Flag:
    """One feature flag as stored in the flag service."""

    name: str
    enabled: bool = True
    rollout_percent: int = 100
    allow: frozenset[str] = field(default_factory=frozenset)
    deny: frozenset[str] = field(default_factory=frozenset)

    def __post_init__(self) -> None:
        if not self.name:
            raise ValueError("a flag needs a name")
        if not 0 <= self.rollout_percent <= 100:
            raise ValueError(f"rollout_percent must be 0-100, got {self.rollout_percent}")


def bucket(flag_name: str, user_id: str) -> int:
    """The user's stable rollout bucket for this flag, 0-99."""
    digest = hashlib.sha256(f"{flag_name}:{user_id}".encode()).hexdigest()
    return int(digest[:8], 16) % 100


def is_enabled(flag: Flag, user_id: str) -> bool:
    """Whether ``flag`` is on for ``user_id``.

    A disabled flag is off for everyone and the deny list always wins; after that the
    allow list turns the flag on regardless of the rollout percentage.
    """
    if not flag.enabled or user_id in flag.deny:
        return False
    if user_id in flag.allow:
        return True
    return bucket(flag.name, user_id) < flag.rollout_percent


def enabled_flags(flags: list[Flag], user_id: str) -> list[str]:
    """Names of the flags that are on for ``user_id``, sorted."""
    return sorted(flag.name for flag in flags if is_enabled(flag, user_id))
