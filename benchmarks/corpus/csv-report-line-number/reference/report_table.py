"""Read the delimited text exports produced by the accounting system.

An export starts with a few banner lines (report name, date range), then a header line,
then one record per line. Errors name the 1-based line of the export they come from, so
the person who produced the file can find it in an editor.
"""

from __future__ import annotations

from decimal import Decimal, InvalidOperation


class TableError(ValueError):
    """The export is malformed; the message names the offending line."""


def _split(line: str, delimiter: str) -> list[str]:
    return [field.strip() for field in line.split(delimiter)]


def read_table(text: str, *, delimiter: str = ",", skip_rows: int = 0) -> list[dict[str, str]]:
    """Parse an export into one dict per record, keyed by the header's column names.

    The first ``skip_rows`` lines are banners and are ignored; blank lines are skipped.
    """
    lines = text.splitlines()
    if len(lines) <= skip_rows:
        raise TableError(f"line {skip_rows + 1}: expected a header line")
    header = _split(lines[skip_rows], delimiter)
    if len(set(header)) != len(header):
        raise TableError(f"line {skip_rows + 1}: duplicate column names")
    records = []
    for number, line in enumerate(lines[skip_rows + 1 :], start=skip_rows + 2):
        if not line.strip():
            continue
        fields = _split(line, delimiter)
        if len(fields) != len(header):
            raise TableError(f"line {number}: expected {len(header)} fields, got {len(fields)}")
        records.append(dict(zip(header, fields)))
    return records


def column_total(records: list[dict[str, str]], column: str) -> Decimal:
    """Sum a money column; empty cells count as zero."""
    total = Decimal("0")
    for record in records:
        cell = record[column]
        try:
            total += Decimal(cell) if cell else Decimal("0")
        except InvalidOperation:
            raise TableError(f"not a number in column {column!r}: {cell!r}") from None
    return total
