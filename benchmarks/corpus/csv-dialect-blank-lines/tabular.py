"""Reading delimited text into rows of fields, with named dialects.

A dialect bundles the choices a file format makes: the separator, whether fields are
stripped of surrounding spaces, whether blank lines are skipped, and the comment prefix.
"""

from __future__ import annotations


class Dialect:
    """A named set of reading options; anything not given takes the default."""

    def __init__(self, name: str, **options: object) -> None:
        self.name = name
        self.separator = str(options.get("separator", ","))
        self.strip = bool(options.get("strip", True))
        self.skip_blank = bool(options.get("skip_blank", False))
        self.comment = str(options.get("comment", "#"))

    def __repr__(self) -> str:
        return f"Dialect({self.name!r})"


COMMA = Dialect("comma")
TABS = Dialect("tabs", separator="\t")
PIPES = Dialect("pipes", separator="|", comment="--")


def split_line(line: str, dialect: Dialect) -> list[str]:
    fields = line.split(dialect.separator)
    return [field.strip() for field in fields] if dialect.strip else fields


def read_rows(text: str, dialect: Dialect = COMMA) -> list[list[str]]:
    """Rows of fields; comment lines never make a row, blank lines only when kept."""
    rows = []
    for line in text.splitlines():
        if dialect.comment and line.lstrip().startswith(dialect.comment):
            continue
        if dialect.skip_blank and not line.strip():
            continue
        rows.append(split_line(line, dialect) if line.strip() else [])
    return rows


def read_records(text: str, dialect: Dialect = COMMA) -> list[dict[str, str]]:
    """Rows as dictionaries keyed by the first row's fields."""
    rows = [row for row in read_rows(text, dialect) if row]
    if not rows:
        return []
    header, *body = rows
    return [dict(zip(header, row, strict=False)) for row in body]
