"""Pick the route a driver takes between two places on the road map."""

from __future__ import annotations

from roads import RoadMap


class NoRoute(LookupError):
    pass


def cheapest_route(roads: RoadMap, start: str, goal: str) -> tuple[list[str], float]:
    """The fastest path from ``start`` to ``goal`` and its travel time in minutes."""
    roads.neighbours(start)
    roads.neighbours(goal)
    path = [start]
    visited = {start}
    current = start
    while current != goal:
        options = {p: m for p, m in roads.neighbours(current).items() if p not in visited}
        if not options:
            raise NoRoute(f"no route from {start} to {goal}")
        current = min(options, key=lambda place: (options[place], place))
        visited.add(current)
        path.append(current)
    return path, roads.travel_time(path)


def route_summary(roads: RoadMap, start: str, goal: str) -> str:
    path, minutes = cheapest_route(roads, start, goal)
    return f"{' -> '.join(path)} ({minutes:g} min)"
