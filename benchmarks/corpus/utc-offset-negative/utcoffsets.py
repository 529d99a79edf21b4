"""Parse and print UTC offsets such as ``+05:30`` or ``-03:30`` for the scheduling UI.

Offsets are handled as whole minutes east of UTC.
"""

from __future__ import annotations

import re

OFFSET = re.compile(r"^(?P<sign>[+-])(?P<hours>\d{2}):?(?P<minutes>\d{2})$")
MAX_OFFSET = 14 * 60


def parse_offset(text: str) -> int:
    """``"+05:30"`` -> 330, ``"-0800"`` -> -480, ``"Z"`` -> 0."""
    text = text.strip()
    if text.upper() == "Z":
        return 0
    match = OFFSET.match(text)
    if match is None:
        raise ValueError(f"not a UTC offset: {text!r}")
    minutes = int(match["hours"]) * 60 + int(match["minutes"])
    if int(match["minutes"]) >= 60 or minutes > MAX_OFFSET:
        raise ValueError(f"UTC offset out of range: {text!r}")
    return -minutes if match["sign"] == "-" else minutes


def format_offset(minutes: int) -> str:
    """Render minutes east of UTC as ``"+HH:MM"`` / ``"-HH:MM"``."""
    if abs(minutes) > MAX_OFFSET:
        raise ValueError(f"UTC offset out of range: {minutes} minutes")
    sign = "-" if minutes < 0 else "+"
    hours, rest = divmod(minutes, 60)
    return f"{sign}{hours:02d}:{rest:02d}"


def shift_minutes(minute_of_day: int, from_offset: int, to_offset: int) -> tuple[int, int]:
    """Move a local time of day between offsets; returns ``(minute_of_day, day_shift)``."""
    total = minute_of_day - from_offset + to_offset
    day_shift, minute = divmod(total, 24 * 60)
    return minute, day_shift
