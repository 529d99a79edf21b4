import pytest

from textblock import center, justify, wrap

TEXT = "Thank you for shopping at the corner store today"


def test_wrap_is_greedy():
    assert wrap(TEXT, 16) == ["Thank you for", "shopping at the", "corner store", "today"]


def test_long_word_gets_its_own_line():
    assert wrap("a supercalifragilistic b", 10) == ["a", "supercalifragilistic", "b"]


def test_wrap_rejects_zero_width():
    with pytest.raises(ValueError):
        wrap("x", 0)


def test_justified_lines_fill_the_width():
    assert all(len(line) == 16 for line in justify(TEXT, 16))


def test_extra_spaces_go_to_the_left_gaps():
    assert justify(TEXT, 16)[:3] == ["Thank   you  for", "shopping  at the", "corner     store"]


def test_last_line_stays_left_aligned():
    assert justify("one two three four", 9) == ["one   two", "three    ", "four     "]


def test_center():
    assert center("ab cd", 9) == ["  ab cd"]
