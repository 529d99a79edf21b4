"""Lap times from the cumulative split times a stopwatch records."""

from __future__ import annotations


def lap_times(splits: list[float]) -> list[float]:
    """The time of each lap: a split minus the one before it (the first lap is its split)."""
    laps: list[float] = []
    previous = 0.0
    for split in splits:
        if split < previous:
            raise ValueError(f"split {split} comes before {previous}")
        laps.append(round(split - previous, 3))
        previous = split
    return laps


def fastest_lap(splits: list[float]) -> int:
    """The number (from 1) of the fastest lap."""
    laps = lap_times(splits)
    return laps.index(min(laps)) + 1
