"""Unary operators: a sign or an inversion that is wrong, missing or too much (`xs[+1]` ->
`xs[-1]`, `-delta` -> `delta`, `offset` -> `-offset` where a number is computed)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    Site,
    expressions,
    read_defaults,
    segment,
)

UNARY_TEXT: dict[type, str] = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}


def unary_operator(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """`-x` -> `+x`, `~x`, `x`; `+x` -> `-x`, `x`; `~x` -> `-x`, `x`."""
    for node in [*expressions(site.statement), *read_defaults(site)]:
        if not isinstance(node, ast.UnaryOp) or type(node.op) not in UNARY_TEXT:
            continue
        start, end = offsets.span(node)
        current = UNARY_TEXT[type(node.op)]
        if site.text[start : start + 1] != current:
            continue
        source = site.text[start:end]
        operand = segment(site.text, offsets, node.operand)
        replacements = [text for text in ("-", "+", "~") if text != current]
        if not _integral(node.operand):
            replacements.remove("~")  # inverting a float or a name of unknown kind is rare
        for new in replacements:
            yield Mutation(
                start,
                start + 1,
                new,
                "unary-operator",
                f"`{source}` -> `{new}{source[1:]}`",
                "the sign or inversion of the value was wrong",
            )
        yield Mutation(
            start,
            end,
            _wrapped(node.operand, operand),
            "unary-operator",
            f"`{source}` -> `{operand}`",
            "the value was negated or inverted where it should not be",
        )


def unary_negation(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """`xs[k]` -> `xs[-k]`, `a + step` -> `a + -step`, `return 2` -> `return -2`: a number
    operand that lost its minus."""
    for operand in dict.fromkeys(_numeric_operands(site)):
        start, end = offsets.span(operand)
        source = site.text[start:end]
        yield Mutation(
            start,
            end,
            f"-{source}",
            "unary-negation",
            f"`{source}` -> `-{source}`",
            "the number lost its minus sign",
        )


def _numeric_operands(site: Site) -> Iterator[ast.expr]:
    """Literal numbers and names where an integer or a float is computed: an index or slice
    bound, an operand of arithmetic, a returned value, a default of a parameter the statement
    reads."""
    for node in expressions(site.statement):
        if isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Slice):
                parts = [node.slice.lower, node.slice.upper, node.slice.step]
                yield from (p for p in parts if p is not None and _number_like(p))
            elif _number_like(node.slice):
                yield node.slice
        elif isinstance(node, ast.BinOp) and not isinstance(node.op, ast.Mod | ast.BitAnd):
            if not isinstance(node.op, ast.Pow) and _number_like(node.left):
                yield node.left  # `-x ** 2` would negate the power, not the base
            if _number_like(node.right):
                yield node.right
        elif isinstance(node, ast.Return) and node.value is not None and _number_like(node.value):
            yield node.value
    for default in read_defaults(site):
        if _numeric_literal(default):
            yield default


def _number_like(node: ast.expr) -> bool:
    return _numeric_literal(node) or isinstance(node, ast.Name)


def _numeric_literal(node: ast.expr) -> bool:
    return (
        isinstance(node, ast.Constant)
        and isinstance(node.value, int | float)
        and not isinstance(node.value, bool)
        and node.value != 0
    )


def _integral(node: ast.expr) -> bool:
    if isinstance(node, ast.Constant):
        return type(node.value) is int
    return isinstance(node, ast.Name | ast.Call | ast.Attribute | ast.Subscript)


def _wrapped(node: ast.expr, source: str) -> str:
    """The operand as it reads on its own, in parentheses when it needs them."""
    return f"({source})" if isinstance(node, ast.BinOp | ast.BoolOp | ast.IfExp) else source
