"""Expressions and conditions built from the names in scope: a constant condition replaced by a
variable used as a condition (`while True` -> `while pending`), a returned constant replaced by
a comparison of a local (`return True` -> `return depth == 0`), an expression replaced by the
local that holds it, and a condition widened or narrowed with the emptiness or None of a name
(`if total < 0` -> `if total < 0 or not coins`)."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    Site,
    dump,
    expressions,
    parameters,
    walk,
)

CONTAINER_CALLS = {"list", "dict", "set", "deque", "defaultdict", "Counter", "OrderedDict"}


def _used_as_condition(function: ast.AST) -> list[str]:
    """Names read as a truth value: `if x`, `while x`, `not x`, `x and y`."""
    found: list[str] = []
    for node in walk(function):
        tests: list[ast.expr] = []
        if isinstance(node, ast.If | ast.While | ast.IfExp | ast.Assert):
            tests.append(node.test)
        elif isinstance(node, ast.BoolOp):
            tests += node.values
        elif isinstance(node, ast.UnaryOp) and isinstance(node.op, ast.Not):
            tests.append(node.operand)
        found += [t.id for t in tests if isinstance(t, ast.Name)]
    return list(dict.fromkeys(found))


def containers(function: ast.AST) -> list[str]:
    """Locals and parameters that hold a collection: assigned a display or a container call,
    appended to, iterated, measured with ``len`` or subscripted."""
    found: list[str] = []
    for node in walk(function):
        if isinstance(node, ast.Assign) and (
            isinstance(node.value, ast.List | ast.Dict | ast.Set | ast.ListComp | ast.DictComp)
            or (
                isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Name)
                and node.value.func.id in CONTAINER_CALLS
            )
        ):
            found += [t.id for t in node.targets if isinstance(t, ast.Name)]
        elif isinstance(node, ast.For | ast.comprehension) and isinstance(node.iter, ast.Name):
            found.append(node.iter.id)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id == "len"
            and node.args
            and isinstance(node.args[0], ast.Name)
        ):
            found.append(node.args[0].id)
        elif (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Attribute)
            and isinstance(node.func.value, ast.Name)
            and node.func.attr in ("append", "pop", "popleft", "extend", "add")
        ):
            found.append(node.func.value.id)
    return [name for name in dict.fromkeys(found) if name not in ("self", "cls")]


def _counters(function: ast.AST) -> list[str]:
    """Locals that count: set to an integer and moved with ``+=``/``-=``."""
    started: set[str] = set()
    moved: list[str] = []
    for node in walk(function):
        if (
            isinstance(node, ast.Assign)
            and isinstance(node.value, ast.Constant)
            and type(node.value.value) is int
        ):
            started |= {t.id for t in node.targets if isinstance(t, ast.Name)}
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            moved.append(node.target.id)
    return [name for name in dict.fromkeys(moved) if name in started]


def scope_condition(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    function = site.function
    statement = site.statement
    if function is None:
        return
    if isinstance(statement, ast.If | ast.While) and isinstance(statement.test, ast.Constant):
        start, end = offsets.span(statement.test)
        source = site.text[start:end]
        names = [*_used_as_condition(function), *containers(function)]
        for name in list(dict.fromkeys(names))[:6]:
            for new in (name, f"not {name}"):
                yield Mutation(
                    start,
                    end,
                    new,
                    "condition-from-scope",
                    f"`{source}` -> `{new}`",
                    "the condition was a constant where a variable decides",
                )
    if (
        isinstance(statement, ast.Return)
        and isinstance(statement.value, ast.Constant)
        and isinstance(statement.value.value, bool)
    ):
        start, end = offsets.span(statement.value)
        source = site.text[start:end]
        options: list[str] = []
        for name in _counters(function):
            options.append(f"{name} == 0")
            options += [f"{name} == {p}" for p in parameters(function) if p != name]
        options += [f"not {name}" for name in containers(function)]
        for new in list(dict.fromkeys(options))[:8]:
            yield Mutation(
                start,
                end,
                new,
                "condition-from-scope",
                f"`return {source}` -> `return {new}`",
                "the function returned a constant where the state decides",
            )


def held_expression(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """An expression computed again that a local already holds (and may have updated since):
    `total = sum(prices)` ... `return sum(prices)` -> `return total`."""
    function = site.function
    if function is None or isinstance(site.statement, ast.FunctionDef | ast.AsyncFunctionDef):
        return
    held: dict[str, list[str]] = {}
    for node in walk(function):
        if (
            isinstance(node, ast.Assign)
            and len(node.targets) == 1
            and isinstance(node.targets[0], ast.Name)
            and isinstance(node.value, ast.Call | ast.BinOp | ast.Subscript | ast.Attribute)
            and node is not site.statement
        ):
            held.setdefault(dump(node.value), []).append(node.targets[0].id)
    for node in expressions(site.statement):
        if not isinstance(node, ast.Call | ast.BinOp | ast.Subscript | ast.Attribute):
            continue
        if isinstance(getattr(node, "ctx", None), ast.Store):
            continue
        start, end = offsets.span(node)
        for name in dict.fromkeys(held.get(dump(node), [])):
            yield Mutation(
                start,
                end,
                name,
                "held-expression",
                f"`{site.text[start:end]}` -> `{name}`",
                "the expression was computed again instead of using the value kept for it",
            )


def scope_clause(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """`if total < 0` -> `if total < 0 or not coins` / `if total < 0 and coins`; a parameter
    that defaults to None is checked before the test reads it (`if limit is None or n <= limit`)."""
    statement = site.statement
    function = site.function
    if function is None or not isinstance(statement, ast.If | ast.While):
        return
    start, end = offsets.span(statement.test)
    source = site.text[start:end]
    mentioned = {n.id for n in walk(statement.test) if isinstance(n, ast.Name)}
    wrapped = f"({source})" if isinstance(statement.test, ast.BoolOp) else source
    names = [n for n in containers(function) if n not in mentioned]
    optional = [
        a.arg
        for a in [*function.args.args, *function.args.kwonlyargs]
        if _defaults_to_none(function, a.arg)
    ]
    # (clause, joiner, whether the clause goes first)
    clauses: list[tuple[str, str, bool]] = []
    for name in [n for n in optional if n in mentioned][:2]:
        clauses += [(f"{name} is None", "or", True), (f"{name} is not None", "and", True)]
    for name in names[:4]:
        clauses += [(f"not {name}", "or", False), (name, "and", False)]
    for name in [n for n in optional if n not in mentioned][:3]:
        clauses += [(f"{name} is None", "or", False), (f"{name} is not None", "and", False)]
    for clause, joiner, first in clauses:
        new = f"{clause} {joiner} {wrapped}" if first else f"{wrapped} {joiner} {clause}"
        yield Mutation(
            start,
            end,
            new,
            "scope-clause",
            f"`{source}` -> `{new}`",
            "the condition was too " + ("narrow" if joiner == "or" else "wide"),
            size=2,
        )


def _defaults_to_none(function: ast.FunctionDef | ast.AsyncFunctionDef, name: str) -> bool:
    arguments = function.args
    positional = [*arguments.posonlyargs, *arguments.args]
    pairs = list(
        zip(
            positional[len(positional) - len(arguments.defaults) :], arguments.defaults, strict=True
        )
    )
    pairs += [
        (a, d)
        for a, d in zip(arguments.kwonlyargs, arguments.kw_defaults, strict=True)
        if d is not None
    ]
    return any(a.arg == name and isinstance(d, ast.Constant) and d.value is None for a, d in pairs)
