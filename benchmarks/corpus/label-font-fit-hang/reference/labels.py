"""Lay out text on printed shelf labels: estimate text width and pick a font size.

Widths are estimated from per-character advance factors of a typical sans-serif font,
in points: ``width = sum(factor) * size``.
"""

from __future__ import annotations

NARROW = set("ijlI.,:;'!|")
WIDE = set("mwMW@")


def char_factor(char: str) -> float:
    if char in NARROW:
        return 0.3
    if char in WIDE:
        return 0.9
    if char.isupper() or char.isdigit():
        return 0.65
    return 0.55


def text_width(text: str, size: float) -> float:
    """Estimated width of ``text`` in points at font ``size``."""
    return sum(char_factor(char) for char in text) * size


def fit_font_size(
    text: str, max_width: float, max_size: int = 24, min_size: int = 6, step: int = 2
) -> int:
    """The largest size (from ``max_size`` down in ``step``s) at which ``text`` fits.

    Returns ``min_size`` when even that is too wide; the caller then truncates the text.
    """
    if min_size <= 0 or step <= 0 or max_size < min_size:
        raise ValueError("sizes and step must be positive and max_size >= min_size")
    size = max_size
    while size > min_size and text_width(text, size) > max_width:
        size -= step
    return max(size, min_size)


def truncate_to_width(text: str, max_width: float, size: float, marker: str = "...") -> str:
    """Cut ``text`` so that it plus ``marker`` fits ``max_width`` at ``size``."""
    if text_width(text, size) <= max_width:
        return text
    while text and text_width(text + marker, size) > max_width:
        text = text[:-1]
    return text + marker
