import pytest

from headline import shorten, shorten_all


def test_short_text_unchanged():
    assert shorten("Rain today", 20) == "Rain today"


def test_cut_with_suffix():
    assert shorten("Storm warning for the coast", 15) == "Storm warnin..."


def test_spaces_are_collapsed():
    assert shorten("  a   b ", 10) == "a b"


def test_no_limit_keeps_everything():
    assert shorten("A very long headline about the weather") == (
        "A very long headline about the weather"
    )
    assert shorten_all(["x  y", "z"]) == ["x y", "z"]


def test_limit_below_suffix():
    with pytest.raises(ValueError):
        shorten("abcdef", 2)
