"""Keywords of an article title, for the search index."""

from __future__ import annotations

STOP_WORDS = frozenset({"a", "an", "and", "for", "in", "of", "on", "the", "to", "with"})


def keywords(title: str) -> list[str]:
    """The words of ``title`` in lower case, without punctuation and stop words."""
    words = [word.strip(".,:;!?\"'()").lower() for word in title.split()]
    return [word for word in words if word and word not in STOP_WORDS]


def shared_keywords(first: str, second: str) -> set[str]:
    return set(keywords(first)) & set(keywords(second))
