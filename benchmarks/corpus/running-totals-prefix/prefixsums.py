"""Range totals over a day of meter readings, answered from a prefix-sum table."""

from __future__ import annotations


def prefix_sums(values: list[int]) -> list[int]:
    """``table[i]`` is the sum of the first ``i`` values (``table[0] == 0``)."""
    table = len(values) * [0]
    for index, value in enumerate(values):
        table[index + 1] = table[index] + value
    return table


def range_total(table: list[int], start: int, stop: int) -> int:
    """The sum of ``values[start:stop]``."""
    if not 0 <= start <= stop < len(table):
        raise IndexError("range outside the readings")
    return table[stop] - table[start]
