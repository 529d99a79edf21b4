import pytest

from leaderboard import Leaderboard


@pytest.fixture
def board():
    board = Leaderboard()
    for player, score in [("ann", 80), ("bob", 90), ("cid", 80), ("dee", 70), ("bob", 60)]:
        board.record(player, score)
    return board


def test_record_keeps_the_best_score(board):
    assert board.best("bob") == 90
    assert board.record("dee", 75) is True
    assert board.record("dee", 10) is False
    assert board.best("dee") == 75


def test_unknown_player_raises(board):
    with pytest.raises(KeyError):
        board.best("zed")


def test_invalid_records_are_rejected():
    board = Leaderboard()
    with pytest.raises(ValueError):
        board.record("  ", 10)
    with pytest.raises(ValueError):
        board.record("ann", -1)


def test_top_players_in_order(board):
    assert board.top(3) == ["bob", "ann", "cid"]


def test_ties_share_a_rank(board):
    ranks = {row.player: row.rank for row in board.standings()}
    assert ranks["ann"] == ranks["cid"]
    assert ranks["bob"] < ranks["ann"] < ranks["dee"]


def test_dense_ranks_start_at_one(board):
    assert [(row.rank, row.player) for row in board.standings()] == [
        (1, "bob"),
        (2, "ann"),
        (2, "cid"),
        (3, "dee"),
    ]


def test_single_player_is_first():
    board = Leaderboard()
    board.record("solo", 5)
    assert board.standings()[0].rank == 1


def test_empty_board_has_no_standings():
    assert Leaderboard().standings() == []
