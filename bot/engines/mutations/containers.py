"""Containers and slices: a returned value wrapped in the container the caller expects
(`return []` -> `return [[]]`), and a loop over a slice of its sequence that starts or ends at
a parameter or one item in (`for x in items` -> `for x in items[k:]`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.engines.mutations.tree import Mutation, Offsets, Site, parameters, walk


def wrap_in_container(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    statement = site.statement
    if not isinstance(statement, ast.Return) or statement.value is None:
        return
    value = statement.value
    if not isinstance(value, ast.List | ast.Tuple | ast.Constant | ast.Name):
        return
    if isinstance(value, ast.Constant) and value.value is None:
        return
    start, end = offsets.span(value)
    source = site.text[start:end]
    for new in (f"[{source}]", f"({source},)" if isinstance(value, ast.Name) else None):
        if new is None:
            continue
        yield Mutation(
            start,
            end,
            new,
            "wrap-container",
            f"`return {source}` -> `return {new}`",
            "the caller expects a collection of such values",
            size=2,
        )


def _integers(site: Site) -> list[str]:
    """Parameters and locals used as integers: compared with, or combined with, a number, or
    passed to ``range``."""
    function = site.function
    if function is None:
        return []
    found: list[str] = []
    for node in walk(function):
        pairs: list[tuple[ast.expr, ast.expr]] = []
        if isinstance(node, ast.BinOp):
            pairs = [(node.left, node.right), (node.right, node.left)]
        elif isinstance(node, ast.Compare) and len(node.ops) == 1:
            pairs = [(node.left, node.comparators[0]), (node.comparators[0], node.left)]
        for name, other in pairs:
            if (
                isinstance(name, ast.Name)
                and isinstance(other, ast.Constant)
                and type(other.value) is int
            ):
                found.append(name.id)
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "range"
        ):
            found += [a.id for a in node.args if isinstance(a, ast.Name)]
    named = parameters(function)
    for argument, default in zip(
        reversed(function.args.args), reversed(function.args.defaults), strict=False
    ):
        if isinstance(default, ast.Constant) and type(default.value) is int:
            found.append(argument.arg)
    ordered = [n for n in dict.fromkeys(found) if n in named] + [
        n for n in dict.fromkeys(found) if n not in named
    ]
    return ordered


def iterate_slice(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    statement = site.statement
    if not isinstance(statement, ast.For | ast.AsyncFor):
        return
    iterated = statement.iter
    if not isinstance(iterated, ast.Name | ast.Attribute | ast.Call):
        return
    if isinstance(iterated, ast.Call) and not (
        isinstance(iterated.func, ast.Name) and iterated.func.id in ("enumerate", "zip")
    ):
        return
    target = iterated.args[0] if isinstance(iterated, ast.Call) and iterated.args else iterated
    start, end = offsets.span(target)
    source = site.text[start:end]
    bounds = [f"{name}:" for name in _integers(site)[:3]]
    bounds += [f":{name}" for name in _integers(site)[:3]]
    for bound in [*bounds, "1:", ":-1"]:
        new = f"{source}[{bound}]"
        yield Mutation(
            start,
            end,
            new,
            "iterate-slice",
            f"`for ... in {source}` -> `for ... in {new}`",
            "the loop went over items it must skip",
            size=2,
        )
