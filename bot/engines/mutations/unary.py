"""Unary operators: a sign or an inversion that is wrong, missing or too much (`xs[+1]` ->
`xs[-1]`, `-delta` -> `delta`, `offset` -> `-offset` where a number is computed, `not 1` ->
`-1`), and a `not` missing from or too much on one operand of a condition."""

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
    walk,
)

UNARY_TEXT: dict[type, str] = {ast.USub: "-", ast.UAdd: "+", ast.Invert: "~"}


def unary_operator(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """`-x` -> `+x`, `~x`, `x`; `+x` -> `-x`, `x`; `~x` -> `-x`, `x`; `not x` -> `-x`, `~x`
    where the value is used as a number rather than tested."""
    defaults = [node for default in read_defaults(site) for node in walk(default)]
    tested = _tested(site.statement)
    for node in [*expressions(site.statement), *defaults]:
        if (
            isinstance(node, ast.UnaryOp)
            and isinstance(node.op, ast.Not)
            and id(node) not in tested
        ):
            yield from _not_as_sign(site, offsets, node)
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


def _tested(statement: ast.stmt) -> set[int]:
    """The expressions of the statement whose truth is what counts: tests of `if`, `while`,
    `assert`, conditional expressions and comprehensions, operands of `and`, `or`, `not`."""
    tested: list[ast.AST] = []
    if isinstance(statement, ast.If | ast.While | ast.Assert):
        tested.append(statement.test)
    for node in expressions(statement):
        if isinstance(node, ast.IfExp):
            tested.append(node.test)
        elif isinstance(node, ast.BoolOp):
            tested += node.values
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            tested.append(node.operand)
        elif isinstance(node, ast.ListComp | ast.SetComp | ast.GeneratorExp | ast.DictComp):
            tested += [test for generator in node.generators for test in generator.ifs]
    return {id(node) for node in tested}


def _not_as_sign(site: Site, offsets: Offsets, node: ast.UnaryOp) -> Iterator[Mutation]:
    """`not 1` -> `-1`: a sign or an inversion written as `not` where a number is used."""
    if isinstance(node.operand, ast.Compare | ast.BoolOp):
        return  # the negation of a condition, not of a number
    start, end = offsets.span(node)
    operand_start = offsets.span(node.operand)[0]
    if not site.text.startswith("not", start):
        return
    source = site.text[start:end]
    operand = site.text[operand_start:end]
    if site.text[start + 3 : operand_start].strip():
        operand = site.text[start + 3 : end].strip()  # `not (x)`: keep the parentheses
    for new in ("-", "~") if _integral(node.operand) else ("-",):
        yield Mutation(
            start,
            end,
            f"{new}{operand}",
            "unary-operator",
            f"`{source}` -> `{new}{operand}`",
            "the sign or inversion of the value was wrong",
        )


def negate_operand(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """A `not` too much anywhere in the statement (`if not x is not None and y` -> `if x is
    not None and y`), or missing on one operand of a condition (`if a and not b` -> `if not a
    and not b`) or on a returned or assigned truth value (`return any(xs)` -> `return not
    any(xs)`)."""
    statement = site.statement
    nodes = expressions(statement)
    for node in nodes:
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            start = offsets.span(node)[0]
            operand_start = offsets.span(node.operand)[0]
            keyword_end = start + 3
            if site.text[start:keyword_end] != "not":
                continue
            after = len(site.text[keyword_end:operand_start]) - len(
                site.text[keyword_end:operand_start].lstrip(" ")
            )
            source = site.text[start : offsets.span(node)[1]]
            yield Mutation(
                start,
                keyword_end + after,
                "",
                "negate-operand",
                f"`{source}` -> `{site.text[keyword_end + after : offsets.span(node)[1]]}`",
                "a condition was inverted where it should not be",
            )
    operands: list[ast.expr] = []
    if isinstance(statement, ast.If | ast.While | ast.Assert) and isinstance(
        statement.test, ast.Compare | ast.Subscript
    ):
        operands.append(statement.test)  # negate_condition writes `not (a < b)`
    elif isinstance(statement, ast.Return | ast.Assign) and statement.value is not None:
        operands.append(statement.value)
    for node in nodes:
        if isinstance(node, ast.BoolOp):
            operands += node.values
    for operand in dict.fromkeys(operands):
        if not isinstance(operand, TRUTH_VALUES):
            continue  # an operand with a `not` loses it above
        start, end = _parenthesized(site.text, *offsets.span(operand))
        source = site.text[start:end]
        wrapped = isinstance(operand, ast.BoolOp | ast.IfExp | ast.NamedExpr) and not (
            source.startswith("(")
        )
        new = f"not ({source})" if wrapped else f"not {source}"
        yield Mutation(
            start,
            end,
            new,
            "negate-operand",
            f"`{source}` -> `{new}`",
            "one part of the condition was inverted",
        )


TRUTH_VALUES = (
    ast.Name,
    ast.Attribute,
    ast.Call,
    ast.Subscript,
    ast.Compare,
    ast.BoolOp,
    ast.NamedExpr,
)


def _parenthesized(text: str, start: int, end: int) -> tuple[int, int]:
    """The span of an operand with the parentheses written around it."""
    while True:
        before = text[:start].rstrip()
        after = text[end:].lstrip()
        if not (before.endswith("(") and after.startswith(")")):
            return start, end
        start = len(before) - 1
        end = len(text) - len(after) + 1


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
