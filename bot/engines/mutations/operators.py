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
    read_defaults,
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
    ast.Is: [(ast.IsNot, "is not")],
    ast.IsNot: [(ast.Is, "is")],
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

ORDERING = {ast.Lt, ast.LtE, ast.Gt, ast.GtE}
IDENTITY = {ast.Is, ast.IsNot}
MEMBERSHIP = {ast.In, ast.NotIn}
# `is` for `==` (and back) where one side is a singleton: identity_equality proposes those
IDENTITY_EQUALITY = {ast.Is: ast.Eq, ast.IsNot: ast.NotEq, ast.Eq: ast.Is, ast.NotEq: ast.IsNot}


BINARY_SWAPS: dict[type, list[str]] = {
    ast.Add: ["-", "*"],
    ast.Sub: ["+"],
    ast.Mult: ["/", "//", "+", "**"],
    ast.Div: ["//", "*"],
    ast.FloorDiv: ["/", "%", "*"],
    ast.Mod: ["//"],
    ast.Pow: ["*"],
    ast.LShift: [">>"],
    ast.RShift: ["<<"],
    ast.BitAnd: ["|"],
    ast.BitOr: ["&"],
    ast.BitXor: ["|", "&"],
}


BINARY_TEXT = {
    ast.Add: "+",
    ast.Sub: "-",
    ast.Mult: "*",
    ast.Div: "/",
    ast.FloorDiv: "//",
    ast.Mod: "%",
    ast.Pow: "**",
    ast.LShift: "<<",
    ast.RShift: ">>",
    ast.BitAnd: "&",
    ast.BitOr: "|",
    ast.BitXor: "^",
}

# The other binary operators, tried after the likely ones under a template of their own (a
# lower prior): a single wrong operator may be any of them (`elem / start` for `elem - start`,
# `value | 1000` for `value / 1000`, `n << 1` for `n + 1`). Those of the same family
# (arithmetic, or bitwise and shifts) come first.
ARITHMETIC = ("+", "-", "*", "/", "//", "%", "**")
BITWISE = ("&", "|", "^", "<<", ">>")
OTHER_BINARY: dict[type, list[str]] = {
    op: [
        new
        for new in ((*ARITHMETIC, *BITWISE) if text in ARITHMETIC else (*BITWISE, *ARITHMETIC))
        if new not in (text, *BINARY_SWAPS.get(op, ()))
    ]
    for op, text in BINARY_TEXT.items()
}

# `**` and `<<` grow a number with their right operand: `a ** b` or `a << b` for a large `b`
# can take a candidate's test for ever or fill the memory. They replace another operator only
# where the right operand is a literal number this small.
EXPLOSIVE = ("**", "<<")
SMALL_EXPONENT = 64


def _bounded(left: ast.expr, right: ast.expr) -> bool:
    """Whether `**` or `<<` in place of the operator between ``left`` and ``right`` only
    raises to, or shifts by, a small literal (`a ** b + 2` would read `a ** (b ** 2)`)."""
    return (
        isinstance(right, ast.Constant)
        and isinstance(right.value, int | float)
        and not isinstance(right.value, bool)
        and 0 <= right.value <= SMALL_EXPONENT
        and not (isinstance(left, ast.BinOp) and isinstance(left.op, ast.Pow))
    )


def compare_operator(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """The likely swaps of a comparison operator first (`<` -> `<=`, `is` -> `is not`), then
    every other operator that could stand between the two operands."""
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
            likely = COMPARE_SWAPS.get(type(operator), [])
            for new_type, new_text in likely:
                template = (
                    "comparison-boundary"
                    if {type(operator), new_type} <= ORDERING
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
            left, right = operands[position], operands[position + 1]
            for new_type, new_text in COMPARE_TEXT.items():
                if new_type is type(operator) or any(new_type is t for t, _ in likely):
                    continue
                if not _comparable(new_type, left, right):
                    continue
                if IDENTITY_EQUALITY.get(type(operator)) is new_type and _singleton(right):
                    continue  # identity_equality proposes it
                yield Mutation(
                    span[0],
                    span[1],
                    new_text,
                    "other-comparison-operator",
                    f"`{current}` -> `{new_text}`",
                    "the comparison used the wrong operator",
                )


def _singleton(node: ast.expr) -> bool:
    """None, True or False (never 0 or 1, which compare equal to the flags)."""
    return isinstance(node, ast.Constant) and any(node.value is v for v in (None, True, False))


def _comparable(operator: type, left: ast.expr, right: ast.expr) -> bool:
    """Whether code would compare these operands with ``operator``: never an ordering with
    None or a flag, nor identity with a literal number or string (a SyntaxWarning), nor
    membership in a literal that is not a container."""
    literals = [n for n in (left, right) if isinstance(n, ast.Constant)]
    if operator in ORDERING:
        return not any(_singleton(n) for n in literals)
    if operator in IDENTITY:
        return all(_singleton(n) or n.value is Ellipsis for n in literals)
    if operator in MEMBERSHIP:
        return not (isinstance(right, ast.Constant) and not isinstance(right.value, str | bytes))
    return True


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
            if isinstance(operator, ast.Eq | ast.NotEq) and not _singleton(operands[position + 1]):
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
            others = [(new, "other-arithmetic-operator") for new in OTHER_BINARY[type(node.op)]]
            for new, template in [*likely, *others]:
                if new in EXPLOSIVE and not _bounded(node.left, node.right):
                    continue
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
                if new in EXPLOSIVE and not _bounded(node.target, node.value):
                    continue
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
    # every number the statement writes may be off by one, wherever it stands (a float, a
    # negative number, a default of a parameter it reads)
    interesting += literal_numbers([*expressions(site.statement), *read_defaults(site)])
    seen: set[tuple[int, int]] = set()
    for expression in interesting:
        start, end = offsets.span(expression)
        if (start, end) in seen or isinstance(expression, ast.Slice):
            continue
        seen.add((start, end))
        source = site.text[start:end]
        value = number_value(expression)
        if value is not None:
            for delta in (1, -1):
                new = repr(value + delta)
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


def number_value(node: ast.AST) -> int | float | None:
    """The value of a literal number, negative ones included (`-2`, `- 0.5`)."""
    if (
        isinstance(node, ast.UnaryOp)
        and isinstance(node.op, ast.USub)
        and isinstance(node.operand, ast.Constant)
    ):
        inner = number_value(node.operand)
        return None if inner is None else -inner
    if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
        return None if isinstance(node.value, bool) else node.value
    return None


def literal_numbers(roots: list[ast.AST]) -> list[ast.expr]:
    """The literal numbers in ``roots``, a negative number as one (never its digits alone)."""
    nodes = [node for root in roots for node in walk(root)]
    negated = {
        id(n.operand) for n in nodes if isinstance(n, ast.UnaryOp) and number_value(n) is not None
    }
    return [
        n
        for n in dict.fromkeys(nodes)
        if isinstance(n, ast.expr) and number_value(n) is not None and id(n) not in negated
    ]


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
