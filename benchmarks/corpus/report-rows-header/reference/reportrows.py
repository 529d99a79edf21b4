"""Reading the data rows of an exported, semicolon-separated report."""

from __future__ import annotations


def data_rows(lines: list[str], header_rows: int = 1) -> list[tuple[str, float]]:
    """(label, amount) for each data line; the first ``header_rows`` lines are headers."""
    rows = []
    for line in lines[header_rows:]:
        if not line.strip():
            continue
        label, amount = line.split(";")
        rows.append((label.strip(), float(amount)))
    return rows


def total(lines: list[str], header_rows: int = 1) -> float:
    """The sum of the amounts, rounded to cents."""
    return round(sum(amount for _, amount in data_rows(lines, header_rows)), 2)
