import pytest

from keywords import keywords, normalize, tokenize


def test_plain_words_are_lowercased():
    assert normalize("Parser") == "parser"
    assert normalize("cache") == "cache"


def test_single_capital_letter_is_lowercased():
    assert normalize("A") == "a"


def test_acronyms_keep_their_case():
    assert normalize("API") == "API"
    assert normalize("HTTP2") == "HTTP2"


def test_tokenize_keeps_order_and_apostrophes():
    assert tokenize("Don't retry, it's fine") == ["don't", "retry", "it's", "fine"]


def test_keywords_skip_stopwords_and_short_words():
    text = "The cache is slow and the cache is big"
    assert keywords(text) == ["cache", "big", "slow"]


def test_keywords_rank_by_frequency_then_name():
    text = "timeout in upload; upload retries after timeout; upload again"
    assert keywords(text, top=2) == ["upload", "timeout"]


def test_acronyms_are_counted_with_their_case():
    text = "Fix API timeout. The API returns 500 when the API gateway is slow"
    assert keywords(text, top=2) == ["API", "fix"]


def test_negative_top_is_rejected():
    with pytest.raises(ValueError):
        keywords("anything", top=-1)
