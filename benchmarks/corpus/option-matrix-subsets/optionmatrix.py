"""Enumerating the option combinations a build matrix runs."""

from __future__ import annotations


def subsets(options: list[str]) -> list[list[str]]:
    """Every subset of ``options``, each keeping the options' order; the empty one first."""
    if not options:
        return []
    rest = subsets(options[1:])
    return rest + [[options[0], *subset] for subset in rest]


def matrix(options: list[str], required: list[str]) -> list[list[str]]:
    """Every combination of the optional flags, each with the required ones in front."""
    return [[*required, *subset] for subset in subsets(options)]


def count(options: list[str]) -> int:
    """How many builds the matrix holds: every option doubles it."""
    return 2 ** len(options)


def describe(build: list[str]) -> str:
    """A build's name in the CI listing."""
    return "+".join(build) if build else "default"
