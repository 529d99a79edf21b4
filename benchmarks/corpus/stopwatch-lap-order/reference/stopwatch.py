"""Lap timing for a training stopwatch."""

from __future__ import annotations


class Stopwatch:
    def __init__(self, start: float) -> None:
        self.marks = [start]

    def lap(self, now: float) -> float:
        """Record a lap ending at ``now``; returns its duration in seconds."""
        previous = self.marks[-1]
        self.marks.append(now)
        return round(now - previous, 3)

    def laps(self) -> list[float]:
        """The durations of all laps so far."""
        return [round(b - a, 3) for a, b in zip(self.marks, self.marks[1:])]

    def fastest(self) -> float | None:
        laps = self.laps()
        return min(laps) if laps else None
