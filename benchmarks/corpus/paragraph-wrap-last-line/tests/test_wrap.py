import pytest

from wrap import fill, wrap


def test_short_text_is_one_line():
    assert wrap("hello world", 20) == ["hello world"]


def test_wraps_at_width():
    assert wrap("the quick brown fox jumps", 10) == ["the quick", "brown fox", "jumps"]
    assert fill("one two three", 7) == "one two\nthree"


def test_long_word_stands_alone():
    assert wrap("a extraordinary b", 5) == ["a", "extraordinary", "b"]


def test_bad_width():
    with pytest.raises(ValueError):
        wrap("x", 0)


def test_empty_text_has_no_lines():
    assert wrap("   ", 10) == []
