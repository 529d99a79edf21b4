"""Fit article headlines and teasers into the fixed-width slots of the news app."""

from __future__ import annotations

ELLIPSIS = "…"


def clean(text: str) -> str:
    """Collapse runs of whitespace (line breaks from the CMS included) to single spaces."""
    return " ".join(text.split())


def truncate(text: str, limit: int) -> str:
    """Shorten ``text`` to at most ``limit`` characters, ending in an ellipsis when cut."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    text = clean(text)
    if len(text) < limit:
        return text
    return text[:limit] + ELLIPSIS


def truncate_words(text: str, limit: int) -> str:
    """Like :func:`truncate`, but never cuts inside a word unless the first word is too long."""
    text = clean(text)
    if len(text) <= limit:
        return text
    cut = truncate(text, limit)[:-1]
    if " " in cut:
        cut = cut[: cut.rindex(" ")]
    return cut.rstrip(" ,;:-") + ELLIPSIS


def teaser(headline: str, summary: str, limit: int = 80) -> str:
    """``"Headline: summary"`` fitted to ``limit``; the headline alone if it fills the slot."""
    headline = clean(headline)
    if len(headline) >= limit:
        return truncate(headline, limit)
    return truncate(f"{headline}: {clean(summary)}", limit)
