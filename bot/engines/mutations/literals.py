"""Literals: a constant replaced by another of its kind from the function."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    Site,
    constants,
    expressions,
)


def constant_replacement(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in expressions(site.statement):
        if not isinstance(node, ast.Constant):
            continue
        start, end = offsets.span(node)
        source = site.text[start:end]
        value = node.value
        options: list[str] = []
        if value is True or value is False:
            options = [repr(not value)]
        elif value is None:
            options = ["0", "[]", "''"]
        elif isinstance(value, int):
            options = [repr(v) for v in constants(site.function, int) if v != value]
            options += [o for o in ("0", "1", "-1") if o not in options and o != source]
        elif isinstance(value, float):
            options = [repr(v) for v in constants(site.function, float) if v != value]
        elif isinstance(value, str):
            options = [
                repr(v)
                for v in constants(site.function, str)
                if v != value and isinstance(v, str) and len(v) < 40
            ]
        for option in options[:6]:
            yield Mutation(
                start,
                end,
                option,
                "constant",
                f"`{source}` -> `{option}`",
                "a literal had the wrong value",
            )
