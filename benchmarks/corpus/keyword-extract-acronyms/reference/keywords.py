"""Pick the keywords of a short text (ticket titles, commit messages) for tagging."""

from __future__ import annotations

import re
from collections import Counter

STOPWORDS = frozenset(
    "a an and are as at be but by for from has in is it its of on or that the to was with".split()
)
WORD = re.compile(r"[A-Za-z][A-Za-z0-9'-]*")


def normalize(word: str) -> str:
    """Lowercase a word, but keep acronyms such as ``API`` or ``HTTP2`` as written."""
    if len(word) > 1 and word.isupper():
        return word
    return word.lower()


def tokenize(text: str) -> list[str]:
    """Words of ``text``, normalized, in order."""
    return [normalize(match.group(0)) for match in WORD.finditer(text)]


def keywords(text: str, *, top: int = 5, min_length: int = 3) -> list[str]:
    """The ``top`` most frequent non-stopwords; ties are broken alphabetically."""
    if top < 0:
        raise ValueError("top cannot be negative")
    counts = Counter(
        word
        for word in tokenize(text)
        if word.lower() not in STOPWORDS and len(word) >= min_length
    )
    ranked = sorted(counts.items(), key=lambda item: (-item[1], item[0]))
    return [word for word, _ in ranked[:top]]
