from board import Board


def make_board():
    board = Board()
    for player, points in [("ann", 5), ("bob", 9), ("cy", 7), ("dee", 1), ("eve", 7)]:
        board.record(player, points)
    return board


def test_top_and_bottom():
    board = make_board()
    assert board.top(2) == ["bob", "cy"]
    assert board.bottom(2) == ["dee", "ann"]


def test_podium():
    assert make_board().podium() == ["bob", "cy", "eve"]


def test_record_adds_up():
    board = Board()
    board.record("a", 2)
    board.record("a", 3)
    assert board.top(1) == ["a"] and board.scores["a"] == 5
