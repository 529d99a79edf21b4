"""Greedy word wrapping for plain-text e-mails."""

from __future__ import annotations


def wrap(text: str, width: int) -> list[str]:
    """Lines of at most ``width`` characters (longer words stand alone)."""
    if width < 1:
        raise ValueError("width must be positive")
    if not text.strip():
        return []
    lines: list[str] = []
    current = ""
    for word in text.split():
        if not current:
            current = word
        elif len(current) + 1 + len(word) <= width:
            current = current + " " + word
        else:
            lines.append(current)
            current = word
    lines.append(current)
    return lines


def fill(text: str, width: int) -> str:
    return "\n".join(wrap(text, width))
