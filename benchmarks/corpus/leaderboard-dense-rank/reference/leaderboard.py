"""A game leaderboard that keeps each player's best score and ranks players densely.

Dense ranking gives tied players the same rank and the next score the next rank
(scores 90, 80, 80, 70 rank 1, 2, 2, 3).
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Standing:
    rank: int
    player: str
    score: int


class Leaderboard:
    """Best score per player; higher is better."""

    def __init__(self) -> None:
        self._best: dict[str, int] = {}

    def record(self, player: str, score: int) -> bool:
        """Record a finished game; return True when it is the player's new best."""
        if not player.strip():
            raise ValueError("player name is empty")
        if score < 0:
            raise ValueError("scores are never negative")
        previous = self._best.get(player)
        if previous is not None and previous >= score:
            return False
        self._best[player] = score
        return True

    def best(self, player: str) -> int:
        """The player's best score; KeyError for players who never played."""
        return self._best[player]

    def standings(self) -> list[Standing]:
        """Everyone, best first; ties are listed alphabetically and share a rank."""
        ordered = sorted(self._best.items(), key=lambda item: (-item[1], item[0]))
        rows = []
        rank = 0
        previous = None
        for player, score in ordered:
            if score != previous:
                rank += 1
                previous = score
            rows.append(Standing(rank, player, score))
        return rows

    def top(self, count: int) -> list[str]:
        """Names of the ``count`` best players."""
        return [row.player for row in self.standings()[:count]]
