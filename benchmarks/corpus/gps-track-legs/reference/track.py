"""Distances, pace and bounds of recorded GPS tracks (runs, rides, hikes)."""

from __future__ import annotations

import math
from dataclasses import dataclass

EARTH_RADIUS_KM = 6371.0


@dataclass(frozen=True)
class Point:
    lat: float
    lon: float
    seconds: float = 0.0

    def __post_init__(self) -> None:
        if not -90 <= self.lat <= 90 or not -180 <= self.lon <= 180:
            raise ValueError(f"not a position on Earth: {self.lat}, {self.lon}")


def haversine(a: Point, b: Point) -> float:
    """Great-circle distance between two points in kilometres."""
    lat1, lat2 = math.radians(a.lat), math.radians(b.lat)
    dlat = lat2 - lat1
    dlon = math.radians(b.lon - a.lon)
    h = math.sin(dlat / 2) ** 2 + math.cos(lat1) * math.cos(lat2) * math.sin(dlon / 2) ** 2
    return 2 * EARTH_RADIUS_KM * math.asin(math.sqrt(h))


def legs(points: list[Point]) -> list[float]:
    """Distance of each leg between consecutive points, in kilometres."""
    return [haversine(points[i], points[i + 1]) for i in range(len(points) - 1)]


def total_distance(points: list[Point]) -> float:
    return sum(legs(points))


def pace(points: list[Point]) -> float | None:
    """Minutes per kilometre over the whole track; None if it did not move."""
    distance = total_distance(points)
    if distance == 0:
        return None
    return (points[-1].seconds - points[0].seconds) / 60 / distance


def bounds(points: list[Point]) -> tuple[float, float, float, float]:
    """``(south, west, north, east)`` of the track, for fitting a map view."""
    if not points:
        raise ValueError("an empty track has no bounds")
    lats = [p.lat for p in points]
    lons = [p.lon for p in points]
    return min(lats), min(lons), max(lats), max(lons)
