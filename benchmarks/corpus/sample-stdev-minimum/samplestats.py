"""Summary statistics of measurement samples."""

from __future__ import annotations

import math


def mean(samples: list[float]) -> float:
    if not samples:
        raise ValueError("no samples")
    return sum(samples) / len(samples)


def sample_stdev(samples: list[float]) -> float:
    """The sample standard deviation; ValueError with fewer than two samples."""
    if len(samples) == 0:
        raise ValueError("the sample standard deviation needs two samples")
    center = mean(samples)
    squares = sum((sample - center) ** 2 for sample in samples)
    return math.sqrt(squares / (len(samples) - 1))


def spread(samples: list[float]) -> float:
    """Largest minus smallest sample."""
    return max(samples) - min(samples)
