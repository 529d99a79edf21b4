"""Operands, clamps and accumulators: one operand of a binary expression dropped, the operands of
a non-commutative operator swapped, an operand doubled or an identity removed, and an assigned
value clamped with ``max``/``min`` against the variable's previous value or zero."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.engines.mutations.tree import Mutation, Offsets, Site, expressions, segment

# operators whose operands may not be swapped without changing the value (``+`` joins strings,
# lists and tuples in order)
NON_COMMUTATIVE = (
    ast.Sub,
    ast.Div,
    ast.FloorDiv,
    ast.Mod,
    ast.Pow,
    ast.Add,
    ast.LShift,
    ast.RShift,
)
# operand values that leave the other operand unchanged
IDENTITIES: dict[type, tuple[object, ...]] = {
    ast.Add: (0, "", 0.0),
    ast.Sub: (0, 0.0),
    ast.Mult: (1, 1.0),
    ast.Div: (1, 1.0),
    ast.FloorDiv: (1,),
}


def _operand_text(text: str, offsets: Offsets, node: ast.expr) -> str:
    source = segment(text, offsets, node)
    if isinstance(node, ast.BoolOp | ast.Compare | ast.IfExp | ast.Lambda | ast.NamedExpr):
        return f"({source})"
    return source


def operands(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """`a + f(x)` -> `f(x)` or `a`; `acc + item` -> `item + acc`; `a * 1` -> `a`."""
    for node in expressions(site.statement):
        if not isinstance(node, ast.BinOp):
            continue
        start, end = offsets.span(node)
        source = site.text[start:end]
        left = _operand_text(site.text, offsets, node.left)
        right = _operand_text(site.text, offsets, node.right)
        identity = IDENTITIES.get(type(node.op), ())
        for kept, dropped, side in ((right, node.left, "left"), (left, node.right, "right")):
            is_identity = (
                isinstance(dropped, ast.Constant)
                and type(dropped.value) in (int, float, str)
                and dropped.value in identity
            )
            yield Mutation(
                start,
                end,
                kept,
                "operand-identity" if is_identity else "drop-operand",
                f"`{source}` -> `{kept}` (the {side} operand dropped)",
                "the operand did nothing"
                if is_identity
                else "the expression combined a value that must not be there",
                size=2,
            )
        if isinstance(node.op, NON_COMMUTATIVE) and left != right:
            operator_text = site.text[offsets.span(node.left)[1] : offsets.span(node.right)[0]]
            swapped = f"{right}{operator_text}{left}"
            yield Mutation(
                start,
                end,
                swapped,
                "swap-operands",
                f"`{source}` -> `{swapped}`",
                "the operands were combined in the wrong order",
            )
        if isinstance(node.op, ast.Add | ast.Mult) and left != right:
            # the same value on both sides: `x + x`, `w * w`
            operator_text = site.text[offsets.span(node.left)[1] : offsets.span(node.right)[0]]
            for value in (left, right):
                doubled = f"{value}{operator_text}{value}"
                yield Mutation(
                    start,
                    end,
                    doubled,
                    "duplicate-operand",
                    f"`{source}` -> `{doubled}`",
                    "one operand was the wrong value",
                    size=2,
                )


def clamps(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """`best = v` -> `best = max(best, v)`; `return v` -> `return max(v, 0)`; `abs` is a
    conversion of ``wrap-call``."""
    statement = site.statement
    value: ast.expr | None = None
    previous: str | None = None
    if (
        isinstance(statement, ast.Assign)
        and len(statement.targets) == 1
        and isinstance(statement.targets[0], ast.Name | ast.Attribute)
    ):
        value = statement.value
        previous = segment(site.text, offsets, statement.targets[0])
    elif isinstance(statement, ast.AnnAssign) and statement.value is not None:
        value = statement.value
        previous = segment(site.text, offsets, statement.target)
    elif isinstance(statement, ast.Return) and statement.value is not None:
        value = statement.value
    if value is None or isinstance(value, ast.Constant | ast.List | ast.Dict | ast.Tuple):
        return
    if (
        isinstance(value, ast.Call)
        and isinstance(value.func, ast.Name)
        and value.func.id in ("max", "min")
    ):
        return
    start, end = offsets.span(value)
    source = site.text[start:end]
    bounds = [] if previous is None or previous in source.split() else [previous]
    # the previous value only clamps where it was read before: a running best or worst
    if previous is not None and not _read_before(site, previous):
        bounds = []
    for bound in [*bounds, "0"]:
        for function in ("max", "min"):
            new = f"{function}({bound}, {source})" if bound != "0" else f"{function}({source}, 0)"
            yield Mutation(
                start,
                end,
                new,
                "clamp",
                f"`{source}` -> `{new}`",
                "the value had to be kept within a bound"
                if bound == "0"
                else "the running value had to keep its best so far",
                size=2,
            )


def _read_before(site: Site, name: str) -> bool:
    """Whether ``name`` (a variable or ``self.x``) has a value before the site's line."""
    if site.function is None:
        return False
    for node in ast.walk(site.function):
        if getattr(node, "lineno", site.line) >= site.line:
            continue
        if isinstance(node, ast.Name) and node.id == name:
            return True
        if isinstance(node, ast.arg) and node.arg == name:
            return True
        if isinstance(node, ast.Attribute) and ast.unparse(node) == name:
            return True
    return name.startswith("self.")
