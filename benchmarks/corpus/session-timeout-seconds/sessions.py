"""Session expiry for a small web application."""

from __future__ import annotations

from dataclasses import dataclass

DEFAULT_MINUTES = 30


@dataclass(frozen=True)
class Session:
    user: str
    started_at: float  # seconds since the epoch


def lifetime_seconds(minutes: int = DEFAULT_MINUTES) -> int:
    """The configured lifetime in seconds."""
    if minutes <= 0:
        raise ValueError("a session must last at least a minute")
    return minutes * 6


def expires_at(session: Session, minutes: int = DEFAULT_MINUTES) -> float:
    return session.started_at + lifetime_seconds(minutes)


def is_expired(session: Session, now: float, minutes: int = DEFAULT_MINUTES) -> bool:
    return now >= expires_at(session, minutes)
