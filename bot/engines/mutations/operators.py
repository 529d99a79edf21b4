"""Operators and boundaries: comparison, identity, arithmetic and augmented operators, and
values off by one wherever an integer is computed."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    Site,
    expressions,
    find_token,
    segment,
    walk,
)

COMPARE_SWAPS: dict[type, list[tuple[type, str]]] = {
    ast.Lt: [(ast.LtE, "<="), (ast.Gt, ">"), (ast.NotEq, "!=")],
    ast.LtE: [(ast.Lt, "<"), (ast.GtE, ">="), (ast.Eq, "==")],
    ast.Gt: [(ast.GtE, ">="), (ast.Lt, "<"), (ast.NotEq, "!=")],
    ast.GtE: [(ast.Gt, ">"), (ast.LtE, "<="), (ast.Eq, "==")],
    ast.Eq: [(ast.NotEq, "!="), (ast.LtE, "<="), (ast.GtE, ">=")],
    ast.NotEq: [(ast.Eq, "=="), (ast.Lt, "<"), (ast.Gt, ">")],
    ast.In: [(ast.NotIn, "not in")],
    ast.NotIn: [(ast.In, "in")],
}


COMPARE_TEXT = {
    ast.Lt: "<",
    ast.LtE: "<=",
    ast.Gt: ">",
    ast.GtE: ">=",
    ast.Eq: "==",
    ast.NotEq: "!=",
    ast.In: "in",
    ast.NotIn: "not in",
    ast.Is: "is",
    ast.IsNot: "is not",
}


BINARY_SWAPS: dict[type, list[str]] = {
    ast.Add: ["-", "*"],
    ast.Sub: ["+"],
    ast.Mult: ["/", "//", "+", "**"],
    ast.Div: ["//", "*"],
    ast.FloorDiv: ["/", "%", "*"],
    ast.Mod: ["//"],
    ast.Pow: ["*"],
    ast.BitAnd: ["|"],
    ast.BitOr: ["&"],
}


# The other arithmetic operators, tried after the likely ones under a template of their own
# (a lower prior): a single wrong operator may be any of them (`elem / start` for
# `elem - start`, `value | 1000` for `value / 1000`). Never `**`: a wrong power can take a
# candidate's test for ever.
ARITHMETIC = ("+", "-", "*", "/", "//", "%")
OTHER_ARITHMETIC: dict[type, list[str]] = {
    op: [new for new in ARITHMETIC if new not in (text, *BINARY_SWAPS.get(op, ()))]
    for op, text in {
        ast.Add: "+",
        ast.Sub: "-",
        ast.Mult: "*",
        ast.Div: "/",
        ast.FloorDiv: "//",
        ast.Mod: "%",
        ast.BitAnd: "&",
        ast.BitOr: "|",
        ast.BitXor: "^",
    }.items()
}


BINARY_TEXT = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
}


def compare_operator(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in expressions(site.statement):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for position, operator in enumerate(node.ops):
            current = COMPARE_TEXT.get(type(operator))
            if current is None:
                continue
            start = offsets.span(operands[position])[1]
            end = offsets.span(operands[position + 1])[0]
            span = find_token(
                site.text, start, end, current, word=current.isalpha() or " " in current
            )
            if span is None:
                continue
            for new_type, new_text in COMPARE_SWAPS.get(type(operator), []):
                boundary = {ast.Lt, ast.LtE, ast.Gt, ast.GtE}
                template = (
                    "comparison-boundary"
                    if {type(operator), new_type} <= boundary
                    and COMPARE_TEXT[type(operator)][0] == new_text[0]
                    else "comparison-operator"
                )
                yield Mutation(
                    span[0],
                    span[1],
                    new_text,
                    template,
                    f"`{current}` -> `{new_text}`",
                    "the comparison decided the wrong branch"
                    + (" at the boundary value" if template == "comparison-boundary" else ""),
                )


def identity_equality(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    swaps = {ast.Is: "==", ast.IsNot: "!=", ast.Eq: "is", ast.NotEq: "is not"}
    for node in expressions(site.statement):
        if not isinstance(node, ast.Compare):
            continue
        operands = [node.left, *node.comparators]
        for position, operator in enumerate(node.ops):
            if type(operator) not in swaps:
                continue
            current = COMPARE_TEXT[type(operator)]
            start = offsets.span(operands[position])[1]
            end = offsets.span(operands[position + 1])[0]
            span = find_token(
                site.text, start, end, current, word=current.isalpha() or " " in current
            )
            if span is None:
                continue
            if isinstance(operator, ast.Eq | ast.NotEq) and not (
                isinstance(operands[position + 1], ast.Constant)
                and operands[position + 1].value in (None, True, False)  # type: ignore[attr-defined]
            ):
                continue
            new = swaps[type(operator)]
            yield Mutation(
                span[0],
                span[1],
                new,
                "identity-equality",
                f"`{current}` -> `{new}`",
                "identity and equality differ for this value",
            )


def binary_operator(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in expressions(site.statement):
        if isinstance(node, ast.BinOp) and type(node.op) in BINARY_TEXT:
            current = BINARY_TEXT[type(node.op)]
            start = offsets.span(node.left)[1]
            end = offsets.span(node.right)[0]
            span = find_token(site.text, start, end, current)
            if span is None:
                continue
            likely = [(new, "arithmetic-operator") for new in BINARY_SWAPS.get(type(node.op), [])]
            others = OTHER_ARITHMETIC.get(type(node.op), [])
            for new, template in [*likely, *((n, "other-arithmetic-operator") for n in others)]:
                yield Mutation(
                    span[0],
                    span[1],
                    new,
                    template,
                    f"`{current}` -> `{new}`",
                    "the arithmetic used the wrong operator",
                )
        elif isinstance(node, ast.AugAssign) and type(node.op) in BINARY_TEXT:
            current = BINARY_TEXT[type(node.op)] + "="
            start = offsets.span(node.target)[1]
            end = offsets.span(node.value)[0]
            span = find_token(site.text, start, end, current)
            if span is None:
                continue
            for new in BINARY_SWAPS.get(type(node.op), []):
                yield Mutation(
                    span[0],
                    span[1],
                    new + "=",
                    "augmented-assignment",
                    f"`{current}` -> `{new}=`",
                    "the update applied the wrong operation",
                )


def off_by_one(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    interesting: list[ast.expr] = []
    for node in expressions(site.statement):
        if isinstance(node, ast.Subscript):
            if isinstance(node.slice, ast.Slice):
                interesting += [p for p in (node.slice.lower, node.slice.upper) if p is not None]
            else:
                interesting.append(node.slice)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("range", "enumerate", "islice", "round")
        ):
            interesting += list(node.args) + [k.value for k in node.keywords]
        elif isinstance(node, ast.Compare):
            interesting += [node.left, *node.comparators]
        elif (isinstance(node, ast.Return) and node.value is not None) or (
            isinstance(node, ast.Assign | ast.AugAssign)
            and isinstance(node.value, ast.Constant | ast.Name | ast.BinOp | ast.Call)
        ):
            interesting.append(node.value)
        elif isinstance(node, ast.Call):
            interesting += [
                a
                for a in [*node.args, *(k.value for k in node.keywords)]
                if isinstance(a, ast.Constant | ast.Name | ast.BinOp)
            ]
    # every integer literal of the statement may be off by one, wherever it stands
    interesting += [
        n
        for n in expressions(site.statement)
        if isinstance(n, ast.Constant) and type(n.value) is int
    ]
    seen: set[tuple[int, int]] = set()
    for expression in interesting:
        start, end = offsets.span(expression)
        if (start, end) in seen or isinstance(expression, ast.Slice):
            continue
        seen.add((start, end))
        source = site.text[start:end]
        if isinstance(expression, ast.Constant) and type(expression.value) is int:
            for delta in (1, -1):
                new = str(expression.value + delta)
                yield Mutation(
                    start,
                    end,
                    new,
                    "off-by-one",
                    f"`{source}` -> `{new}`",
                    "an index or bound was off by one",
                )
            continue
        if isinstance(expression, ast.Constant) and (
            not isinstance(expression.value, int | float) or isinstance(expression.value, bool)
        ):
            continue  # `True + 1` is not a bound: a flag is flipped by boolean_flip
        if (
            isinstance(expression, ast.BinOp)
            and isinstance(expression.op, ast.Add | ast.Sub)
            and isinstance(expression.right, ast.Constant)
            and expression.right.value == 1
        ):
            inner = segment(site.text, offsets, expression.left)
            yield Mutation(
                start,
                end,
                inner,
                "off-by-one",
                f"`{source}` -> `{inner}`",
                "an index or bound was off by one",
            )
        needs_parens = isinstance(expression, ast.BinOp | ast.BoolOp | ast.Compare | ast.IfExp)
        base = f"({source})" if needs_parens else source
        for operator in ("+", "-"):
            new = f"{base} {operator} 1"
            yield Mutation(
                start,
                end,
                new,
                "off-by-one",
                f"`{source}` -> `{new}`",
                "an index or bound was off by one",
                size=2,
            )


def _parents(statement: ast.stmt) -> dict[int, ast.AST]:
    return {id(child): node for node in walk(statement) for child in ast.iter_child_nodes(node)}


def computed_off_by_one(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """Off by one where an integer is computed rather than written: a length (`len(x) * [0]` ->
    `(len(x) - 1) * [0]`) or the count that repeats a sequence (`n * " "`)."""
    parents = _parents(site.statement)
    computed: list[ast.expr] = []
    for node in expressions(site.statement):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Name) and node.func.id == "len":
            computed.append(node)
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.Mult):
            for count, repeated in ((node.left, node.right), (node.right, node.left)):
                sequence = isinstance(repeated, ast.List | ast.Tuple) or (
                    isinstance(repeated, ast.Constant) and isinstance(repeated.value, str)
                )
                if sequence and isinstance(count, ast.Name | ast.Call | ast.Attribute):
                    computed.append(count)
    for expression in dict.fromkeys(computed):
        start, end = offsets.span(expression)
        source = site.text[start:end]
        parent = parents.get(id(expression))
        tight = isinstance(parent, ast.BinOp) and not isinstance(parent.op, ast.Add | ast.Sub)
        tight = tight or isinstance(parent, ast.UnaryOp | ast.Attribute | ast.Subscript)
        for operator in ("-", "+"):
            new = f"({source} {operator} 1)" if tight else f"{source} {operator} 1"
            yield Mutation(
                start,
                end,
                new,
                "computed-off-by-one",
                f"`{source}` -> `{new}`",
                "a computed count or length was off by one",
                size=2,
            )


# `== c` widened to a range that ends or starts one further (`count == 0` -> `count <= 1`)
SHIFTED_COMPARISONS: dict[type, tuple[tuple[str, int], ...]] = {
    ast.Eq: (("<=", 1), (">=", -1)),
    ast.NotEq: ((">", 1), ("<", -1)),
}


def comparison_shift(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """The operator and the integer constant of one comparison changed together."""
    for node in expressions(site.statement):
        if not isinstance(node, ast.Compare) or len(node.ops) != 1:
            continue
        constant = node.comparators[0]
        if not (isinstance(constant, ast.Constant) and type(constant.value) is int):
            continue
        current = COMPARE_TEXT.get(type(node.ops[0]))
        if current is None:
            continue
        left_end = offsets.span(node.left)[1]
        start, end = offsets.span(constant)
        span = find_token(site.text, left_end, start, current, word=current.isalpha())
        if span is None:
            continue
        between = site.text[span[1] : start]
        source = site.text[span[0] : end]
        for operator, delta in SHIFTED_COMPARISONS.get(type(node.ops[0]), ()):
            new = f"{operator}{between}{constant.value + delta}"
            yield Mutation(
                span[0],
                end,
                new,
                "comparison-shift",
                f"`{source}` -> `{new}`",
                "the comparison's bound and operator were both off",
            )
