"""Calls: swapped arguments, conversions added or removed, safe dictionary access."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    Site,
    expressions,
    segment,
    walk,
)

WRAPPERS = (
    "len",
    "abs",
    "int",
    "str",
    "sorted",
    "list",
    "round",
    "float",
    "set",
    "bool",
    "tuple",
)


UNWRAPPABLE = {
    "len",
    "abs",
    "int",
    "str",
    "sorted",
    "list",
    "round",
    "float",
    "set",
    "bool",
    "tuple",
    "reversed",
    "min",
    "max",
    "sum",
}


def swap_arguments(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in expressions(site.statement):
        if not isinstance(node, ast.Call) or len(node.args) < 2:
            continue
        if any(isinstance(a, ast.Starred) for a in node.args):
            continue
        for index in range(len(node.args) - 1):
            first, second = node.args[index], node.args[index + 1]
            a_start, a_end = offsets.span(first)
            b_start, b_end = offsets.span(second)
            a, b = site.text[a_start:a_end], site.text[b_start:b_end]
            if a == b:
                continue
            replacement = b + site.text[a_end:b_start] + a
            yield Mutation(
                a_start,
                b_end,
                replacement,
                "swap-arguments",
                f"swap `{a}` and `{b}`",
                "the call passed its arguments in the wrong order",
            )


def wrap_unwrap(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    targets: list[ast.expr] = []
    statement = site.statement
    if isinstance(statement, ast.Return) and statement.value is not None:
        targets.append(statement.value)
    if isinstance(statement, ast.Assign | ast.AugAssign | ast.AnnAssign) and statement.value:
        targets.append(statement.value)
    for node in expressions(statement):
        if isinstance(node, ast.Call):
            targets += [
                a
                for a in node.args
                if isinstance(a, ast.Name | ast.Attribute | ast.BinOp | ast.Subscript)
            ]
            if (
                isinstance(node.func, ast.Name)
                and node.func.id in UNWRAPPABLE
                and len(node.args) == 1
                and not node.keywords
            ):
                start, end = offsets.span(node)
                inner = segment(site.text, offsets, node.args[0])
                yield Mutation(
                    start,
                    end,
                    inner,
                    "unwrap-call",
                    f"`{node.func.id}(...)` removed",
                    "a conversion was applied that must not be",
                )
    for target in targets:
        if isinstance(target, ast.Constant):
            continue
        start, end = offsets.span(target)
        source = site.text[start:end]
        for wrapper in WRAPPERS:
            if (
                isinstance(target, ast.Call)
                and isinstance(target.func, ast.Name)
                and target.func.id == wrapper
            ):
                continue
            new = f"{wrapper}({source})" if wrapper != "round" else f"round({source}, 2)"
            yield Mutation(
                start,
                end,
                new,
                "wrap-call",
                f"`{source}` -> `{new}`",
                f"the value needed `{wrapper}()`",
                size=2,
            )


def dict_get(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    for node in expressions(site.statement):
        if not (isinstance(node, ast.Subscript) and isinstance(node.ctx, ast.Load)):
            continue
        if isinstance(node.slice, ast.Slice):
            continue
        start, end = offsets.span(node)
        container = segment(site.text, offsets, node.value)
        key = segment(site.text, offsets, node.slice)
        defaults = ["", ", 0", ", None", ", []", ", ''"]
        if site.function is not None:
            used = {n.id for n in walk(node) if isinstance(n, ast.Name)}
            parameters = [
                a.arg
                for a in site.function.args.args + site.function.args.kwonlyargs
                if a.arg not in used and a.arg not in ("self", "cls")
            ]
            # a parameter named like a fallback is the most likely default
            parameters.sort(key=lambda name: 0 if "default" in name or "fallback" in name else 1)
            defaults = [f", {name}" for name in parameters[:3]] + defaults
        for default in defaults:
            new = f"{container}.get({key}{default})"
            yield Mutation(
                start,
                end,
                new,
                "safe-lookup",
                f"`{container}[{key}]` -> `{new}`",
                "a missing key must not raise here",
                size=2,
            )
