"""Summaries of sensor readings for the greenhouse dashboard.

Readings flagged invalid by the sensor (for example after a power glitch) are ignored.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass


@dataclass(frozen=True)
class Reading:
    sensor: str
    value: float
    valid: bool = True


@dataclass(frozen=True)
class Summary:
    count: int
    minimum: float | None
    maximum: float | None
    mean: float | None


def mean(values: list[float]) -> float | None:
    """Arithmetic mean, or None when there is nothing to average."""
    return sum(values) / len(values)


def summarize(readings: Iterable[Reading]) -> Summary:
    values = [reading.value for reading in readings if reading.valid]
    return Summary(
        count=len(values),
        minimum=min(values, default=None),
        maximum=max(values, default=None),
        mean=mean(values),
    )


def by_sensor(readings: Iterable[Reading]) -> dict[str, Summary]:
    """One summary per sensor name, sensors in alphabetical order."""
    grouped: dict[str, list[Reading]] = {}
    for reading in readings:
        grouped.setdefault(reading.sensor, []).append(reading)
    return {name: summarize(grouped[name]) for name in sorted(grouped)}


def out_of_range(readings: Iterable[Reading], low: float, high: float) -> list[Reading]:
    """Valid readings outside ``[low, high]``, for alerting."""
    if low > high:
        raise ValueError("low must not exceed high")
    return [r for r in readings if r.valid and not low <= r.value <= high]
