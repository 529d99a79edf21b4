"""Literals: a constant replaced by another of its kind from the function, and a string literal
changed where the failing assertion shows it produced the differing part of the value."""

from __future__ import annotations

import ast
import difflib
import re
from collections.abc import Iterator

from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    Site,
    constants,
    expressions,
    read_defaults,
)


def boolean_flip(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """`True` <-> `False` wherever the statement writes one (`getattr(meta, "many", True)`,
    `f(x, strict=True)`), and in the default of a parameter it reads (`def f(a, flag=True)`
    when the line reads ``flag``)."""
    for node in [*expressions(site.statement), *read_defaults(site)]:
        if not (isinstance(node, ast.Constant) and isinstance(node.value, bool)):
            continue
        start, end = offsets.span(node)
        source = site.text[start:end]
        new = repr(not node.value)
        yield Mutation(
            start,
            end,
            new,
            "boolean-flip",
            f"`{source}` -> `{new}`",
            "a flag had the wrong value",
        )


def constant_replacement(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in [*expressions(site.statement), *read_defaults(site)]:
        if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
            continue  # booleans are flipped by boolean_flip
        start, end = offsets.span(node)
        source = site.text[start:end]
        value = node.value
        options: list[str] = []
        if value is None:
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


def literal_magnitude(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """A number off by a power of ten (`value % 10` for `value % 100`, `minutes * 6` for
    `minutes * 60`, seconds for milliseconds): times ten, and divided by ten where that
    leaves a whole number (or a float)."""
    for node in [*expressions(site.statement), *read_defaults(site)]:
        if not isinstance(node, ast.Constant) or isinstance(node.value, bool):
            continue
        value = node.value
        options: list[int | float]
        if isinstance(value, int) and value not in (0, 1, -1):
            options = [value * 10, *([value // 10] if value % 10 == 0 else [])]
        elif isinstance(value, float) and value != 0:
            options = [value * 10, value / 10]
        else:
            continue
        start, end = offsets.span(node)
        source = site.text[start:end]
        for option in options:
            text = repr(option)
            yield Mutation(
                start,
                end,
                text,
                "literal-magnitude",
                f"`{source}` -> `{text}`",
                "a number was off by a power of ten",
            )


_ASSERTION = re.compile(r"assert (.+?)(?=\s+\w*(?:Error|Exception): |\Z)", re.DOTALL)


def compared_values(message: str) -> list[tuple[object, object]]:
    """(left, right) of every `assert left == right` in the failure messages whose sides are
    both literal values (pytest prints the values it compared)."""
    pairs: list[tuple[object, object]] = []
    for match in _ASSERTION.finditer(message):
        try:
            expression = ast.parse(match.group(1).strip(), mode="eval").body
        except SyntaxError:
            continue
        if not (
            isinstance(expression, ast.Compare)
            and len(expression.ops) == 1
            and isinstance(expression.ops[0], ast.Eq)
        ):
            continue
        try:
            left = ast.literal_eval(expression.left)
            right = ast.literal_eval(expression.comparators[0])
        except ValueError:
            continue
        pairs.append((left, right))
    return pairs


def _string_pairs(left: object, right: object) -> list[tuple[str, str]]:
    if isinstance(left, str) and isinstance(right, str):
        return [(left, right), (right, left)]
    if (
        isinstance(left, list | tuple)
        and isinstance(right, list | tuple)
        and len(left) == len(right)
    ):
        return [pair for a, b in zip(left, right, strict=True) for pair in _string_pairs(a, b)]
    return []


def corrected_literal(literal: str, actual: str, expected: str) -> str | None:
    """The literal that makes ``actual`` read as ``expected`` when every difference between the
    two lies within the one place ``literal`` appears in ``actual``."""
    if not literal or actual.count(literal) != 1 or actual == expected:
        return None
    start = actual.index(literal)
    end = start + len(literal)
    matcher = difflib.SequenceMatcher(None, actual, expected, autojunk=False)
    changes = [op for op in matcher.get_opcodes() if op[0] != "equal"]
    if not all(start <= first and last <= end for _, first, last, _, _ in changes):
        return None
    tail = len(actual) - end
    corrected = expected[start : len(expected) - tail]
    return corrected if corrected != literal else None


def asserted_literal(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """`"{name}: {value}"` -> `"{name} = {value}"` when the test expected `"a = 1"` and got
    `"a: 1"`: the literal that produced the differing part is changed to produce the expected."""
    pairs = [
        pair
        for left, right in compared_values(site.error_message)
        for pair in _string_pairs(left, right)
    ]
    if not pairs:
        return
    seen: set[tuple[int, str]] = set()
    for node in expressions(site.statement):
        if not (isinstance(node, ast.Constant) and isinstance(node.value, str)):
            continue
        start, end = offsets.span(node)
        source = site.text[start:end]
        inside_format = source[:1] not in ("'", '"') and not re.match(r"[rRbBuU]{0,2}['\"]", source)
        for actual, expected in pairs:
            corrected = corrected_literal(node.value, actual, expected)
            if corrected is None or (start, corrected) in seen:
                continue
            seen.add((start, corrected))
            new = repr(corrected) if not inside_format else None
            if new is None:
                continue
            yield Mutation(
                start,
                end,
                new,
                "asserted-literal",
                f"`{source}` -> `{new}`",
                "the literal produced the part of the value the test saw differ",
            )
    for node in expressions(site.statement):
        if isinstance(node, ast.JoinedStr):
            yield from _formatted_parts(site, offsets, node, pairs)


def _formatted_parts(
    site: Site, offsets: Offsets, node: ast.JoinedStr, pairs: list[tuple[str, str]]
) -> Iterator[Mutation]:
    """The literal parts of an f-string, changed in the source text where they appear once."""
    start, end = offsets.span(node)
    source = site.text[start:end]
    for part in node.values:
        if not (isinstance(part, ast.Constant) and isinstance(part.value, str)):
            continue
        if source.count(part.value) != 1 or "{" in part.value or "\\" in source:
            continue
        for actual, expected in pairs:
            corrected = corrected_literal(part.value, actual, expected)
            if corrected is None or any(c in corrected for c in "{}'\"\\\n"):
                continue
            new = source.replace(part.value, corrected, 1)
            yield Mutation(
                start,
                end,
                new,
                "asserted-literal",
                f"`{source}` -> `{new}`",
                "the literal produced the part of the value the test saw differ",
            )
