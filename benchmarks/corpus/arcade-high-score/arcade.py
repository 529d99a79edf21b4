"""Per-player statistics of an arcade cabinet."""

from __future__ import annotations


class PlayerStats:
    def __init__(self, name: str) -> None:
        self.name = name
        self.games = 0
        self.high_score = 0
        self.last_score = 0

    def record_game(self, score: int) -> None:
        """Count a finished game."""
        if score < 0:
            raise ValueError("scores are never negative")
        self.games += 1
        self.last_score = score
        self.high_score = score

    def summary(self) -> str:
        return f"{self.name}: {self.games} games, best {self.high_score}"
