"""Render rows of data as GitHub-flavoured Markdown tables for generated reports."""

from __future__ import annotations

from collections.abc import Sequence

ALIGN_MARKERS = {"left": ":--", "right": "--:", "center": ":-:"}


def escape_cell(value: object) -> str:
    """Text of a cell; pipes are escaped and line breaks become spaces."""
    text = "" if value is None else str(value)
    return text.replace("|", "\\|").replace("\n", " ").strip()


def column_widths(rows: list[list[str]]) -> list[int]:
    """The widest cell of each column, at least 3 so the separator row stays valid."""
    return [max(3, max(len(cell) for cell in column) for column in zip(*rows)]


def render_table(
    header: Sequence[str],
    rows: Sequence[Sequence[object]],
    align: Sequence[str] | None = None,
) -> str:
    """A padded Markdown table; ``align`` holds ``left``/``right``/``center`` per column."""
    if any(len(row) != len(header) for row in rows):
        raise ValueError("every row needs one cell per header column")
    align = list(align) if align is not None else ["left"] * len(header)
    if len(align) != len(header) or any(a not in ALIGN_MARKERS for a in align):
        raise ValueError(f"align needs one of {sorted(ALIGN_MARKERS)} per column")
    cells = [[escape_cell(v) for v in header]] + [[escape_cell(v) for v in row] for row in rows]
    widths = column_widths(cells)
    lines = []
    for index, row in enumerate(cells):
        padded = [
            cell.rjust(width) if mode == "right" else cell.ljust(width)
            for cell, width, mode in zip(row, widths, align)
        ]
        lines.append("| " + " | ".join(padded) + " |")
        if index == 0:
            markers = [ALIGN_MARKERS[mode].center(width, "-") for mode, width in zip(align, widths)]
            lines.append("| " + " | ".join(markers) + " |")
    return "\n".join(lines)
