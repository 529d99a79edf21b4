"""Pick the route a driver takes between two places on the road map."""

from __future__ import annotations

import heapq

from roads import RoadMap


class NoRoute(LookupError):
    pass


def cheapest_route(roads: RoadMap, start: str, goal: str) -> tuple[list[str], float]:
    """The fastest path from ``start`` to ``goal`` and its travel time in minutes."""
    roads.neighbours(start)
    roads.neighbours(goal)
    best = {start: 0.0}
    came_from: dict[str, str] = {}
    queue = [(0.0, start)]
    done: set[str] = set()
    while queue:
        minutes, place = heapq.heappop(queue)
        if place in done:
            continue
        if place == goal:
            path = [goal]
            while path[-1] != start:
                path.append(came_from[path[-1]])
            return path[::-1], minutes
        done.add(place)
        for neighbour, cost in sorted(roads.neighbours(place).items()):
            candidate = minutes + cost
            if candidate < best.get(neighbour, float("inf")):
                best[neighbour] = candidate
                came_from[neighbour] = place
                heapq.heappush(queue, (candidate, neighbour))
    raise NoRoute(f"no route from {start} to {goal}")


def route_summary(roads: RoadMap, start: str, goal: str) -> str:
    path, minutes = cheapest_route(roads, start, goal)
    return f"{' -> '.join(path)} ({minutes:g} min)"
