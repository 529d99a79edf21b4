"""RFC 822 dates as used in RSS ``pubDate`` fields: ``Tue, 05 Mar 2024 14:30:00 +0100``."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

MONTHS = ("Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec")
ZONES = {"GMT": 0, "UT": 0, "UTC": 0, "Z": 0, "EST": -300, "EDT": -240, "PST": -480}


def _zone(text: str) -> timezone:
    if text in ZONES:
        return timezone(timedelta(minutes=ZONES[text]))
    if len(text) == 5 and text[0] in "+-" and text[1:].isdigit():
        minutes = int(text[1:3]) * 60 + int(text[3:])
        return timezone(timedelta(minutes=-minutes if text[0] == "-" else minutes))
    raise ValueError(f"unknown time zone {text!r}")


def parse_rfc822(text: str) -> datetime:
    """Parse a feed date into an aware datetime; the weekday name is optional."""
    parts = text.replace(",", " ").split()
    if parts and parts[0][:3].isalpha() and not parts[0].isdigit():
        parts = parts[1:]
    if len(parts) != 5:
        raise ValueError(f"not an RFC 822 date: {text!r}")
    day, month_name, year, clock, zone = parts
    if month_name[:3].title() not in MONTHS:
        raise ValueError(f"unknown month {month_name!r}")
    month = MONTHS.index(month_name[:3].title())
    hour, minute, *rest = (int(piece) for piece in clock.split(":"))
    second = rest[0] if rest else 0
    full_year = int(year) + 2000 if len(year) == 2 else int(year)
    return datetime(full_year, month, int(day), hour, minute, second, tzinfo=_zone(zone))
