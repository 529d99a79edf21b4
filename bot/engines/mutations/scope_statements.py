"""Statements built from the surrounding code: the assignment that carries a value to the next
iteration (`prev = node`), the call a loop makes for every item but not for the last one it
collected (`out.append(line)` after the loop), and the `return` of the value a function built."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.engines.mutations.scope import containers
from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    Site,
    indent_of,
    source_segment,
    walk,
)


def _assigned(nodes: list[ast.stmt]) -> list[str]:
    names: list[str] = []
    for statement in nodes:
        for node in walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Store):
                names.append(node.id)
    return list(dict.fromkeys(names))


def _read(nodes: list[ast.stmt]) -> list[str]:
    names: list[str] = []
    for statement in nodes:
        for node in walk(statement):
            if isinstance(node, ast.Name) and isinstance(node.ctx, ast.Load):
                names.append(node.id)
    return list(dict.fromkeys(names))


def _after(offsets: Offsets, text: str, node: ast.stmt) -> int:
    end = node.end_lineno or node.lineno
    return offsets.starts[end] if end < len(offsets.starts) else len(text)


def _loops_around(site: Site) -> list[ast.For | ast.While]:
    """The loops that hold the site's statement (or are it), innermost first."""
    if site.function is None:
        return []
    found = [
        node
        for node in walk(site.function)
        if isinstance(node, ast.For | ast.While)
        and any(child is site.statement for child in walk(node))
    ]
    return sorted(found, key=lambda node: -node.lineno)


def _insert(
    position: int,
    indent: str,
    text: str,
    where: str,
    rationale: str,
    template: str = "statement-from-scope",
) -> Mutation:
    return Mutation(
        position,
        position,
        f"{indent}{text}\n",
        template,
        f"insert `{text}` {where}",
        rationale,
        size=3,
    )


def carried_assignment(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """`prev = node` at the end of a loop body: a local set before the loop and read inside it,
    but never updated there, takes the value of a name the loop moves."""
    function = site.function
    if function is None:
        return
    for loop in _loops_around(site)[:2]:
        inside = _assigned(loop.body)
        if isinstance(loop, ast.For):
            targets = [n.id for n in walk(loop.target) if isinstance(n, ast.Name)]
            inside = list(dict.fromkeys([*targets, *inside]))
        before = _assigned([s for s in function.body if s.lineno < loop.lineno])
        stale = [n for n in _read(loop.body) if n in before and n not in inside]
        last = loop.body[-1]
        indent = indent_of(site.text, offsets, last.lineno)
        position = _after(offsets, site.text, last)
        for target in stale[:3]:
            for value in list(dict.fromkeys(inside))[:4]:
                if value == target:
                    continue
                yield _insert(
                    position,
                    indent,
                    f"{target} = {value}",
                    "at the end of the loop",
                    f"`{target}` was never carried on to the next iteration",
                )


def sibling_call(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """After a loop that calls `out.append(x)` on some items, the same call for what the loop
    was still holding when it ended (`out.append(line)`, `out.append(rest)`)."""
    for loop in _loops_around(site)[:2]:
        inside = _assigned(loop.body)
        calls: list[tuple[str, str]] = []
        for node in walk(loop):
            if (
                isinstance(node, ast.Expr)
                and isinstance(node.value, ast.Call)
                and isinstance(node.value.func, ast.Attribute)
                and len(node.value.args) == 1
                and not node.value.keywords
            ):
                function = source_segment(site.text, node.value.func)
                argument = source_segment(site.text, node.value.args[0])
                if function and argument:
                    calls.append((function, argument))
        indent = indent_of(site.text, offsets, loop.lineno)
        position = _after(offsets, site.text, loop)
        for function, argument in list(dict.fromkeys(calls))[:3]:
            for value in [argument, *inside][:4]:
                yield _insert(
                    position,
                    indent,
                    f"{function}({value})",
                    "after the loop",
                    "the loop left its last item unhandled",
                )


def missing_return(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """`return result` at the end of a function that builds a value and falls off its end."""
    function = site.function
    if function is None or isinstance(function.body[-1], ast.Return | ast.Raise):
        return
    if any(isinstance(node, ast.Return) and node.value is not None for node in walk(function)):
        return
    built = [*containers(function)]
    for node in walk(function):
        if isinstance(node, ast.AugAssign) and isinstance(node.target, ast.Name):
            built.append(node.target.id)
    last = function.body[-1]
    indent = indent_of(site.text, offsets, last.lineno)
    position = _after(offsets, site.text, last)
    arguments = {a.arg for a in function.args.args}
    for name in [n for n in dict.fromkeys(built) if n not in arguments][:4]:
        yield _insert(
            position,
            indent,
            f"return {name}",
            "at the end of the function",
            "the function built its value but never returned it",
            "missing-return",
        )
