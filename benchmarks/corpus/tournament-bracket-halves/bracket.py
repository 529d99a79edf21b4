"""Single-elimination brackets: seeds split in halves until each half is one player.

A bracket is a nested pair ``(top, bottom)`` whose leaves are player names; the top half
holds the better seeds. Byes are not modelled: any number of players from two up works, the
halves differ by at most one player.
"""

from __future__ import annotations

Bracket = str | tuple["Bracket", "Bracket"]


def build(seeds: list[str]) -> Bracket:
    """The bracket for ``seeds``, best seed first."""
    if len(seeds) < 2:
        raise ValueError("a bracket needs at least two players")
    if len(set(seeds)) != len(seeds):
        raise ValueError("a player can only be seeded once")
    return _split(seeds)


def _split(seeds: list[str]) -> Bracket:
    middle = len(seeds) // 2
    top, bottom = seeds[:middle], seeds[middle:]
    if len(top) == 1:
        upper = top[0]
    else:
        upper = _split(top)
    if len(bottom) != 1:
        lower = bottom[0]
    else:
        lower = _split(bottom)
    return (upper, lower)


def rounds(bracket: Bracket) -> int:
    """How many rounds it takes to play the bracket out."""
    if isinstance(bracket, str):
        return 0
    return 1 + max(rounds(half) for half in bracket)


def first_matches(bracket: Bracket) -> list[tuple[str, str]]:
    """The matches between two players that can be played right away, top to bottom."""
    if isinstance(bracket, str):
        return []
    top, bottom = bracket
    if isinstance(top, str) and isinstance(bottom, str):
        return [(top, bottom)]
    return first_matches(top) + first_matches(bottom)
