"""Check new passwords against a configurable policy and explain what is missing."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Policy:
    min_length: int = 10
    require_digit: bool = True
    require_symbol: bool = True
    forbid_username: bool = True


DEFAULT_POLICY = Policy()


def problems(password: str, policy: Policy = DEFAULT_POLICY, username: str = "") -> list[str]:
    """Everything wrong with ``password``, as short phrases for the sign-up form.

    An empty list means the password is acceptable.
    """
    found = []
    if len(password) < policy.min_length:
        found.append(f"use at least {policy.min_length} characters")
    has_digit = any(char.isdigit() for char in password)
    if policy.require_digit and not has_digit:
        found.append("add a digit")
    has_symbol = any(not char.isalnum() and not char.isspace() for char in password)
    if policy.require_symbol and not has_symbol:
        found.append("add a symbol such as ! or #")
    if policy.forbid_username and username and username.lower() in password.lower():
        found.append("do not include your username")
    return found


def is_acceptable(password: str, policy: Policy = DEFAULT_POLICY, username: str = "") -> bool:
    return not problems(password, policy, username)


def strength(password: str) -> int:
    """A 0-4 score for the strength meter: length, digits, symbols and mixed case."""
    score = 0
    if len(password) >= 12:
        score += 1
    if any(char.isdigit() for char in password):
        score += 1
    if any(not char.isalnum() for char in password):
        score += 1
    if password.lower() != password and password.upper() != password:
        score += 1
    return score
