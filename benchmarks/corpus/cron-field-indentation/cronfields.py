"""Expand the five fields of a cron schedule (``*/15 9-17 * * 1-5``) into value sets."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

FIELD_RANGES = (("minute", 0, 59), ("hour", 0, 23), ("day", 1, 31), ("month", 1, 12),
                ("weekday", 0, 6))


class CronError(ValueError):
    pass


def expand_field(text: str, low: int, high: int) -> set[int]:
    """Values matched by one field: ``*``, ``5``, ``1-5``, ``*/15``, ``10-30/10``, lists."""
    values: set[int] = set()
    for part in text.split(","):
        base, _, step_text = part.partition("/")
        step = int(step_text) if step_text else 1
        if step < 1:
            raise CronError(f"bad step in {part!r}")
        if base == "*":
            start, end = low, high
        elif "-" in base:
            first, last = base.split("-", 1)
            start, end = int(first), int(last)
        else:
            start = end = int(base)
              if step_text:
                end = high
        if not low <= start <= end <= high:
            raise CronError(f"{part!r} is outside {low}-{high}")
        values.update(range(start, end + 1, step))
    return values


@dataclass(frozen=True)
class Schedule:
    fields: tuple[frozenset[int], ...]

    @classmethod
    def parse(cls, expression: str) -> Schedule:
        parts = expression.split()
        if len(parts) != 5:
            raise CronError(f"expected 5 fields, got {len(parts)}")
        try:
            expanded = [expand_field(p, lo, hi) for p, (_, lo, hi) in zip(parts, FIELD_RANGES)]
        except ValueError as error:
            raise CronError(f"invalid schedule {expression!r}: {error}") from None
        return cls(tuple(frozenset(values) for values in expanded))

    def matches(self, moment: datetime) -> bool:
        weekday = (moment.weekday() + 1) % 7  # cron counts Sunday as 0
        actual = (moment.minute, moment.hour, moment.day, moment.month, weekday)
        return all(value in allowed for value, allowed in zip(actual, self.fields))
