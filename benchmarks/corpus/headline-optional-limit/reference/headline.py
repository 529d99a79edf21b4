"""Shortening headlines for feeds and notifications."""

from __future__ import annotations


def shorten(text: str, max_length: int | None = None, suffix: str = "...") -> str:
    """``text`` cut to ``max_length`` characters including ``suffix``; no limit keeps it."""
    text = " ".join(text.split())
    if max_length is None or len(text) <= max_length:
        return text
    if max_length < len(suffix):
        raise ValueError("the limit is shorter than the suffix")
    return text[: max_length - len(suffix)].rstrip() + suffix


def shorten_all(texts: list[str], max_length: int | None = None) -> list[str]:
    return [shorten(text, max_length) for text in texts]
