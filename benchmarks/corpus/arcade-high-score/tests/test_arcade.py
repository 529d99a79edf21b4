import pytest

from arcade import PlayerStats


def test_first_game():
    stats = PlayerStats("kim")
    stats.record_game(120)
    assert stats.high_score == 120 and stats.games == 1


def test_best_is_kept():
    stats = PlayerStats("kim")
    for score in (300, 120, 250):
        stats.record_game(score)
    assert stats.high_score == 300
    assert stats.last_score == 250


def test_summary():
    stats = PlayerStats("lee")
    stats.record_game(50)
    stats.record_game(40)
    assert stats.summary() == "lee: 2 games, best 50"


def test_negative_refused():
    with pytest.raises(ValueError):
        PlayerStats("x").record_game(-1)
