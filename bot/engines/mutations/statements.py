"""Statements: returned values, statements missing or superfluous, a loop left or continued
the wrong way."""

from __future__ import annotations

import ast
from collections.abc import Iterator

from bot.engines.mutations.tree import (
    Mutation,
    Offsets,
    Site,
    enclosing_block,
    indent_of,
    line_start,
    module_names,
    scope_names,
    source_segment,
    walk,
)


def return_value(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    statement = site.statement
    if not isinstance(statement, ast.Return):
        return
    local = scope_names(site.function, site.tree)
    if statement.value is None:
        start, end = offsets.span(statement)
        for name in local[:6]:
            yield Mutation(
                start,
                end,
                f"return {name}",
                "return-value",
                f"`return` -> `return {name}`",
                "the function returned nothing",
            )
        return
    start, end = offsets.span(statement.value)
    source = site.text[start:end]
    for name in local:
        if name != source:
            yield Mutation(
                start,
                end,
                name,
                "return-value",
                f"`return {source}` -> `return {name}`",
                "the function returned the wrong value",
            )


def break_continue(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    """`break` <-> `continue`: the loop was left where it should go on, or the reverse."""
    statement = site.statement
    if not isinstance(statement, ast.Break | ast.Continue):
        return
    start, end = offsets.span(statement)
    current, new = (
        ("break", "continue") if isinstance(statement, ast.Break) else ("continue", "break")
    )
    yield Mutation(
        start,
        end,
        new,
        "break-continue",
        f"`{current}` -> `{new}`",
        "the loop "
        + (
            "stopped where it should skip one item"
            if current == "break"
            else "skipped an item where it should stop"
        ),
    )


def _is_simple_statement(node: ast.stmt) -> bool:
    if isinstance(node, ast.AugAssign):
        return True
    if (
        isinstance(node, ast.Expr)
        and isinstance(node.value, ast.Call)
        and isinstance(node.value.func, ast.Attribute)
    ):
        return True
    return (
        isinstance(node, ast.Assign)
        and len(node.targets) == 1
        and isinstance(node.targets[0], ast.Attribute)
    )


def insert_statement(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    if site.function is None:
        return
    statement = site.statement
    if isinstance(statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef):
        return
    bound = (
        set(scope_names(site.function, site.tree)) | set(module_names(site.tree)) | {"self", "cls"}
    )
    vocabulary: list[str] = []
    # loop counters that never move: `while i < n` wants an `i += 1`
    for node in walk(site.function):
        if isinstance(node, ast.While):
            for name in walk(node.test):
                if (
                    isinstance(name, ast.Name)
                    and isinstance(name.ctx, ast.Load)
                    and name.id in bound
                ):
                    assigned = any(
                        isinstance(n, ast.AugAssign | ast.Assign)
                        and any(
                            isinstance(t, ast.Name) and t.id == name.id
                            for t in ([n.target] if isinstance(n, ast.AugAssign) else n.targets)
                        )
                        for body_statement in node.body
                        for n in walk(body_statement)
                    )
                    if not assigned:
                        vocabulary += [f"{name.id} += 1", f"{name.id} -= 1"]
    for node in walk(site.tree):
        if isinstance(node, ast.stmt) and _is_simple_statement(node) and node is not statement:
            names = {n.id for n in walk(node) if isinstance(n, ast.Name)}
            if names <= bound:
                source = source_segment(site.text, node)
                if source and "\n" not in source:
                    vocabulary.append(source)
    # counters that start at a number and are read, but never updated anywhere
    vocabulary += _stale_counters(site.tree)
    # accumulate into a result list the loop builds but never fills
    for node in walk(site.function):
        if isinstance(node, ast.For) and isinstance(node.target, ast.Name):
            for other in walk(site.function):
                if (
                    isinstance(other, ast.Assign)
                    and isinstance(other.value, ast.List)
                    and not other.value.elts
                ):
                    for target in other.targets:
                        if isinstance(target, ast.Name):
                            vocabulary.append(f"{target.id}.append({node.target.id})")
    indent = indent_of(site.text, offsets, statement.lineno)
    before = line_start(offsets, statement.lineno)
    end_line = statement.end_lineno or statement.lineno
    after = offsets.starts[end_line] if end_line < len(offsets.starts) else len(site.text)
    # the body of a loop that never advances: for a `while` site (where a hang is localized)
    # the update goes inside, at the end of the body, before anything around the loop
    if isinstance(statement, ast.While) and statement.body:
        last = statement.body[-1]
        inner_indent = indent_of(site.text, offsets, last.lineno)
        end = last.end_lineno or last.lineno
        position = offsets.starts[end] if end < len(offsets.starts) else len(site.text)
        for text in list(dict.fromkeys(vocabulary))[:8]:
            yield Mutation(
                position,
                position,
                f"{inner_indent}{text}\n",
                "insert-statement",
                f"insert `{text}` at the end of the loop",
                "the loop never advanced",
                size=3,
            )
    current = source_segment(site.text, statement) or ""
    for text in list(dict.fromkeys(vocabulary))[:12]:
        if text == current:
            continue
        if isinstance(statement, ast.Return | ast.Raise | ast.Continue | ast.Break):
            positions = [before]
        else:
            positions = [after, before]
        for position in positions:
            yield Mutation(
                position,
                position,
                f"{indent}{text}\n",
                "insert-statement",
                f"insert `{text}`",
                "a needed update was missing",
                size=3,
            )


def _stale_counters(tree: ast.Module) -> list[str]:
    """`self.x += 1` for attributes set to a number in __init__ and never updated elsewhere."""
    initialized: list[str] = []
    updated: set[str] = set()
    for node in walk(tree):
        if isinstance(node, ast.FunctionDef) and node.name == "__init__":
            for statement in walk(node):
                if (
                    isinstance(statement, ast.Assign)
                    and len(statement.targets) == 1
                    and isinstance(statement.targets[0], ast.Attribute)
                    and isinstance(statement.targets[0].value, ast.Name)
                    and statement.targets[0].value.id == "self"
                    and isinstance(statement.value, ast.Constant)
                    and type(statement.value.value) in (int, float)
                ):
                    initialized.append(statement.targets[0].attr)
        elif isinstance(node, ast.FunctionDef):
            for statement in walk(node):
                targets: list[ast.expr] = []
                if isinstance(statement, ast.AugAssign):
                    targets = [statement.target]
                elif isinstance(statement, ast.Assign):
                    targets = list(statement.targets)
                for target in targets:
                    if isinstance(target, ast.Attribute):
                        updated.add(target.attr)
    return [f"self.{name} += 1" for name in initialized if name not in updated]


def delete_statement(site: Site, offsets: Offsets) -> Iterator[Mutation]:
    statement = site.statement
    if site.function is None or isinstance(
        statement, ast.FunctionDef | ast.AsyncFunctionDef | ast.ClassDef
    ):
        return
    if isinstance(statement, ast.If | ast.While | ast.For | ast.Try | ast.With):
        return
    start = line_start(offsets, statement.lineno)
    end_line = statement.end_lineno or statement.lineno
    end = offsets.starts[end_line] if end_line < len(offsets.starts) else len(site.text)
    if site.text[start:end].strip() != (source_segment(site.text, statement) or "").strip():
        return
    siblings = enclosing_block(site.function, statement)
    replacement = (
        "" if len(siblings) > 1 else indent_of(site.text, offsets, statement.lineno) + "pass\n"
    )
    yield Mutation(
        start,
        end,
        replacement,
        "delete-statement",
        f"delete `{site.text[start:end].strip()}`",
        "a statement did something that must not happen",
        size=4,
    )
