"""A score board for club tournaments."""

from __future__ import annotations


class Board:
    def __init__(self) -> None:
        self.scores: dict[str, int] = {}

    def record(self, player: str, points: int) -> None:
        """Add points to a player's total."""
        self.scores[player] = self.scores.get(player, 0) + points

    def top(self, count: int) -> list[str]:
        """The ``count`` best players, best first (ties by name)."""
        ranked = sorted(self.scores, key=lambda player: (-self.scores[player], player))
        return ranked[:count]

    def bottom(self, count: int) -> list[str]:
        """The ``count`` weakest players, weakest first (ties by name)."""
        ranked = sorted(self.scores, key=lambda player: (self.scores[player], player))
        return ranked[:count]

    def podium(self) -> list[str]:
        """Gold, silver and bronze."""
        return self.top(3)
