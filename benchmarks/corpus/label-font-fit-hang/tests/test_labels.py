import pytest

from labels import fit_font_size, text_width, truncate_to_width


def test_width_scales_with_size():
    assert text_width("abc", 10) == pytest.approx(16.5)
    assert text_width("abc", 20) == pytest.approx(33.0)


def test_narrow_and_wide_letters():
    assert text_width("ill", 10) < text_width("aaa", 10) < text_width("mmm", 10)


def test_short_text_keeps_the_largest_size():
    assert fit_font_size("Tea", max_width=200) == 24


def test_long_text_shrinks_in_steps():
    text = "Organic Darjeeling"
    size = fit_font_size(text, max_width=120)
    assert size == 12
    assert text_width(text, size) <= 120 < text_width(text, size + 2)


def test_text_too_long_for_any_size_gets_the_minimum():
    assert fit_font_size("A very long product name indeed" * 3, max_width=50) == 6


def test_invalid_sizes():
    with pytest.raises(ValueError):
        fit_font_size("x", 10, max_size=4, min_size=6)


def test_truncate_adds_marker():
    cut = truncate_to_width("Darjeeling First Flush", max_width=60, size=10)
    assert cut.endswith("...") and text_width(cut, 10) <= 60
    assert truncate_to_width("Tea", 60, 10) == "Tea"
