"""Parse the duration strings people put in config files and chat commands
(``90s``, ``15m``, ``1h30m``, ``2d 4h``, ``1.5h``) into seconds."""

from __future__ import annotations

import re

UNIT_SECONDS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
PIECE = re.compile(r"\s*(\d+(?:\.\d+)?)\s*([smhd])")
UNIT_ORDER = "dhms"


def parse_duration(text: str) -> float:
    """Seconds in ``text``; raises ValueError for anything that is not a duration.

    Units must appear from largest to smallest, each at most once.
    """
    source = text.lower().strip()
    position = 0
    total = 0.0
    last_rank = -1
    while position < len(source):
        match = PIECE.match(source, position)
        if match is None:
            raise ValueError(f"not a duration: {text!r}")
        amount, unit = match.groups()
        rank = UNIT_ORDER.index(unit)
        if rank <= last_rank:
            raise ValueError(f"units out of order or repeated in {text!r}")
        last_rank = rank
        total += float(amount) * UNIT_SECONDS[unit]
        position = match.end()
    if last_rank < 0:
        raise ValueError(f"not a duration: {text!r}")
    return total


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
