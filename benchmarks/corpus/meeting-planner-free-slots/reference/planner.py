"""Find free meeting slots in a working day from a list of busy intervals.

Times are ``"HH:MM"`` strings at the edges and minutes since midnight inside.
"""

from __future__ import annotations


def parse_clock(text: str) -> int:
    """``"09:30"`` -> 570."""
    hours, sep, minutes = text.strip().partition(":")
    if not sep or not hours.isdigit() or not minutes.isdigit() or len(minutes) != 2:
        raise ValueError(f"not a HH:MM time: {text!r}")
    value = int(hours) * 60 + int(minutes)
    if int(hours) > 23 or int(minutes) > 59:
        raise ValueError(f"time out of range: {text!r}")
    return value


def format_clock(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


def minutes_between(start: int, end: int) -> int:
    """Length of the span from ``start`` to ``end`` (negative when end comes first)."""
    return end - start


def free_slots(
    busy: list[tuple[str, str]],
    day_start: str = "09:00",
    day_end: str = "17:00",
    min_length: int = 30,
) -> list[tuple[str, str]]:
    """Gaps of at least ``min_length`` minutes between busy intervals, inside the day.

    Busy intervals may overlap and come in any order.
    """
    start_of_day, end_of_day = parse_clock(day_start), parse_clock(day_end)
    intervals = sorted((parse_clock(a), parse_clock(b)) for a, b in busy)
    slots = []
    cursor = start_of_day
    for start, end in intervals:
        start, end = max(start, start_of_day), min(end, end_of_day)
        if minutes_between(cursor, start) >= min_length:
            slots.append((cursor, start))
        cursor = max(cursor, end)
    if minutes_between(cursor, end_of_day) >= min_length:
        slots.append((cursor, end_of_day))
    return [(format_clock(a), format_clock(b)) for a, b in slots]
