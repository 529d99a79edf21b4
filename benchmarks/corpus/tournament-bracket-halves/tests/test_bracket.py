import pytest

from bracket import build, first_matches, rounds


def test_even_numbers_split_evenly():
    assert build(["ana", "bo"]) == ("ana", "bo")
    assert build(["a", "b", "c", "d"]) == (("a", "b"), ("c", "d"))


def test_odd_numbers_give_the_extra_player_to_the_bottom_half():
    assert build(["a", "b", "c"]) == ("a", ("b", "c"))
    assert build(["a", "b", "c", "d", "e"]) == (("a", "b"), ("c", ("d", "e")))


def test_six_players_split_three_and_three():
    assert build(list("abcdef")) == (("a", ("b", "c")), ("d", ("e", "f")))


def test_rounds():
    assert rounds(("a", "b")) == 1
    assert rounds((("a", "b"), ("c", ("d", "e")))) == 3


def test_first_matches():
    assert first_matches((("a", ("b", "c")), ("d", ("e", "f")))) == [("b", "c"), ("e", "f")]


@pytest.mark.parametrize("seeds", [[], ["solo"], ["a", "a"]])
def test_rejects_bad_seedings(seeds):
    with pytest.raises(ValueError):
        build(seeds)
