"""Human-friendly rendering of elapsed time, as shown in job dashboards and CLI output."""

from __future__ import annotations

UNIT_SUFFIXES = ("d", "h", "m", "s")


def split_duration(seconds: int) -> tuple[int, int, int, int]:
    """Split a whole number of seconds into ``(days, hours, minutes, seconds)``."""
    if seconds < 0:
        raise ValueError("a duration cannot be negative")
    days, rest = divmod(seconds, 86_400)
    hours, rest = divmod(rest, 3_600)
    minutes = rest // 60
    return days, hours, minutes, rest % 60


def format_duration(seconds: float, *, max_parts: int = 3) -> str:
    """Render a duration like ``"1h 2m 5s"``.

    Fractions of a second are dropped, zero-valued units are skipped and only the
    ``max_parts`` largest units are kept. A zero duration renders as ``"0s"``.
    """
    if max_parts < 1:
        raise ValueError("max_parts must be at least 1")
    values = split_duration(int(seconds))
    parts = [f"{value}{suffix}" for value, suffix in zip(values, UNIT_SUFFIXES) if value]
    if not parts:
        return "0s"
    return " ".join(parts[:max_parts])


def format_clock(seconds: int) -> str:
    """Render a duration as a stopwatch reading, ``"H:MM:SS"`` (days fold into hours)."""
    days, hours, minutes, secs = split_duration(seconds)
    return f"{days * 24 + hours}:{minutes:02d}:{secs:02d}"
