"""A small in-process job runner used by the command-line tool."""

from __future__ import annotations

from collections import deque
from collections.abc import Callable


def run_all(jobs: list[Callable[[], object]], limit: int | None = None) -> list[object]:
    """Run jobs in order (at most ``limit`` of them); jobs may not add jobs."""
    pending = deque(jobs)
    results: list[object] = []
    while True:
        job = pending.popleft()
        results.append(job())
        if limit is not None and len(results) >= limit:
            break
    return results


def run_named(jobs: dict[str, Callable[[], object]]) -> dict[str, object]:
    """Run each named job once, keyed by name."""
    names = sorted(jobs)
    values = run_all([jobs[name] for name in names])
    return dict(zip(names, values))
