"""The road network between depots and drop-off points, with travel times in minutes."""

from __future__ import annotations

from collections.abc import Iterable


class UnknownPlace(KeyError):
    pass


class RoadMap:
    """An undirected graph: places are nodes, roads are edges weighted in minutes."""

    def __init__(self, roads: Iterable[tuple[str, str, float]] = ()) -> None:
        self._roads: dict[str, dict[str, float]] = {}
        for first, second, minutes in roads:
            self.add_road(first, second, minutes)

    def add_road(self, first: str, second: str, minutes: float) -> None:
        if minutes <= 0:
            raise ValueError("travel time must be positive")
        if first == second:
            raise ValueError("a road needs two different places")
        for a, b in ((first, second), (second, first)):
            current = self._roads.setdefault(a, {}).get(b)
            self._roads[a][b] = minutes if current is None else min(current, minutes)

    def neighbours(self, place: str) -> dict[str, float]:
        if place not in self._roads:
            raise UnknownPlace(place)
        return dict(self._roads[place])

    def places(self) -> list[str]:
        return sorted(self._roads)

    def travel_time(self, path: list[str]) -> float:
        """Minutes along ``path``; KeyError if two consecutive places are not connected."""
        return sum(self.neighbours(a)[b] for a, b in zip(path, path[1:]))
