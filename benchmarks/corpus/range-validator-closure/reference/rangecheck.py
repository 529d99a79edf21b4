"""Reusable range checks for form fields."""

from __future__ import annotations

from collections.abc import Callable


def make_range_check(minimum: float, maximum: float) -> Callable[[float], str | None]:
    """A check that returns an error message for a value outside [minimum, maximum]."""
    if minimum > maximum:
        raise ValueError("minimum above maximum")

    def check(value: float) -> str | None:
        if value < minimum:
            return f"must be at least {minimum}"
        if value > maximum:
            return f"must be at most {maximum}"
        return None

    return check


def first_error(value: float, checks: list[Callable[[float], str | None]]) -> str | None:
    """The message of the first check that fails, None when all pass."""
    for check in checks:
        message = check(value)
        if message is not None:
            return message
    return None
