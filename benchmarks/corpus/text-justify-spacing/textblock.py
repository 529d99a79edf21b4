"""Lay out plain text in fixed-width columns for the receipt printer and e-mail digests."""

from __future__ import annotations


def wrap(text: str, width: int) -> list[str]:
    """Greedy word wrap; a word longer than ``width`` gets a line of its own."""
    if width < 1:
        raise ValueError("width must be at least 1")
    lines: list[str] = []
    current: list[str] = []
    length = 0
    for word in text.split():
        needed = len(word) if not current else length + 1 + len(word)
        if current and needed > width:
            lines.append(" ".join(current))
            current, length = [word], len(word)
        else:
            current.append(word)
            length = needed
    if current:
        lines.append(" ".join(current))
    return lines


def justify(text: str, width: int) -> list[str]:
    """Wrap ``text`` and stretch every line but the last to exactly ``width`` characters.

    Extra spaces are spread over the gaps as evenly as possible, the leftmost gaps
    getting one more when they do not divide evenly. Single-word lines and the last
    line stay left-aligned and are padded to ``width``.
    """
    return [line.ljust(width) for line in wrap(text, width)]


def center(text: str, width: int) -> list[str]:
    return [line.center(width).rstrip() for line in wrap(text, width)]
