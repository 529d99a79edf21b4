import pytest

from headlines import clean, teaser, truncate, truncate_words


def test_clean_collapses_whitespace():
    assert clean("  Storm\n hits   coast ") == "Storm hits coast"


def test_short_text_is_untouched():
    assert truncate("Storm hits coast", 40) == "Storm hits coast"


def test_long_text_ends_with_ellipsis():
    assert truncate("Storm hits coast", 12).endswith("…")


def test_result_never_exceeds_the_limit():
    for length in range(3, 13):
        text = "abcdefghijkl"[:length]
        result = truncate(text, 8)
        assert len(result) <= 8
        assert (result == text) == (length <= 8)


def test_invalid_limit():
    with pytest.raises(ValueError):
        truncate("x", 0)


def test_truncate_words_cuts_at_a_space():
    assert truncate_words("Council approves new budget plan", 20) == "Council approves…"


def test_teaser_joins_headline_and_summary():
    assert teaser("Rates", "Bank holds rates steady", limit=80) == "Rates: Bank holds rates steady"
