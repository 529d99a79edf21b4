"""Which files of a folder listing a backup copies."""

from __future__ import annotations

EXCLUDED_SUFFIXES = (".tmp", ".swp", "~")


def files_to_back_up(names: list[str], include_hidden: bool = False) -> list[str]:
    """The names to copy, in order: never temporary files, and hidden files (a leading dot)
    only when ``include_hidden`` asks for them."""
    selected: list[str] = []
    for name in names:
        if name.endswith(EXCLUDED_SUFFIXES):
            continue
        if name.startswith(".") and include_hidden:
            continue
        selected.append(name)
    return selected
