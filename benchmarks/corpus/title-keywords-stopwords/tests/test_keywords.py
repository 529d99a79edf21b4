from keywords import keywords, shared_keywords


def test_stop_words_are_dropped():
    assert keywords("The Art of Computer Programming") == ["art", "computer", "programming"]


def test_punctuation_is_stripped():
    assert keywords("Python: a guide, for beginners!") == ["python", "guide", "beginners"]


def test_shared_keywords():
    assert shared_keywords("Cooking with Rice", "Rice in the Kitchen") == {"rice"}


def test_empty_title():
    assert keywords("") == []
