"""Convert quantities between units of length, mass and time for the recipe and
shipping calculators. Units are matched case-insensitively, with a few aliases."""

from __future__ import annotations

UNITS: dict[str, tuple[str, float]] = {
    "mm": ("length", 0.001),
    "cm": ("length", 0.01),
    "m": ("length", 1.0),
    "km": ("length", 1000.0),
    "in": ("length", 0.0254),
    "ft": ("length", 0.3048),
    "g": ("mass", 0.001),
    "kg": ("mass", 1.0),
    "lb": ("mass", 0.45359237),
    "oz": ("mass", 0.028349523125),
    "s": ("time", 1.0),
    "min": ("time", 60.0),
    "h": ("time", 3600.0),
}
ALIASES = {"meter": "m", "meters": "m", "inch": "in", "feet": "ft", "pound": "lb", "hour": "h"}


class UnknownUnit(ValueError):
    pass


class IncompatibleUnits(ValueError):
    pass


def lookup(unit: str) -> tuple[str, float]:
    """The dimension and the size in base units (m, kg, s) of ``unit``."""
    key = unit.strip().lower()
    key = ALIASES.get(key, key)
    if key not in UNITS:
        raise UnknownUnit(f"unknown unit {unit!r}")
    return UNITS[key]


def convert(value: float, source: str, target: str) -> float:
    """Convert ``value`` from ``source`` units to ``target`` units."""
    source_dimension, source_size = lookup(source)
    target_dimension, target_size = lookup(target)
    if source_dimension != target_dimension:
        raise IncompatibleUnits(
            f"cannot convert {source} ({source_dimension}) to {target} ({target_dimension})"
        )
    return value * source_size / target_size


def same_dimension(first: str, second: str) -> bool:
    return lookup(first)[0] == lookup(second)[0]
