"""Parse the duration strings people put in config files and chat commands
(``90s``, ``15m``, ``1h30m``, ``2d 4h``, ``1.5h``) into seconds."""

from __future__ import annotations

import re

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
SPAN = re.compile(r"^\s*(\d+)\s*([smhd])\s*$")


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises ValueError for anything that is not a duration."""
    match = SPAN.match(text.lower())
    if match is None:
        raise ValueError(f"not a duration: {text!r}")
    amount, unit = match.groups()
    return float(amount) * UNIT_SECONDS[unit]


def format_seconds(seconds: float) -> str:
    """The shortest compound form: ``5400`` -> ``"1h30m"``."""
    if seconds < 0:
        raise ValueError("durations cannot be negative")
    remaining = int(round(seconds))
    parts = []
    for unit in ("d", "h", "m", "s"):
        amount, remaining = divmod(remaining, UNIT_SECONDS[unit])
        if amount:
            parts.append(f"{amount}{unit}")
    return "".join(parts) or "0s"
