"""Small source-code queries shared by analysis and engines."""

from __future__ import annotations

import ast
from functools import lru_cache


@lru_cache(maxsize=512)
def parse(text: str) -> ast.Module | None:
    """The tree of ``text``, or None when it does not parse. Cached and shared: callers must
    not change the tree."""
    try:
        return ast.parse(text)
    except (SyntaxError, ValueError):  # ValueError: a null byte in the source
        return None


@lru_cache(maxsize=512)
def function_spans(text: str) -> tuple[tuple[int, int, str], ...]:
    """(first line, last line, qualified name) of every function, outer before inner."""
    tree = parse(text)
    if tree is None:
        return ()
    spans: list[tuple[int, int, str]] = []

    def visit(node: ast.AST, prefix: str) -> None:
        for child in ast.iter_child_nodes(node):
            if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
                name = f"{prefix}{child.name}"
                first = min([child.lineno, *(d.lineno for d in child.decorator_list)])
                spans.append((first, child.end_lineno or child.lineno, name))
                visit(child, name + ".<locals>.")
            elif isinstance(child, ast.ClassDef):
                visit(child, f"{prefix}{child.name}.")
            else:
                visit(child, prefix)

    visit(tree, "")
    return tuple(spans)


def enclosing_function(text: str, line: int) -> str:
    best = ""
    best_size = 10**9
    for first, last, name in function_spans(text):
        if first <= line <= last and last - first < best_size:
            best, best_size = name, last - first
    return best


def function_range(text: str, qualname: str) -> tuple[int, int] | None:
    for first, last, name in function_spans(text):
        if name == qualname:
            return first, last
    return None


@lru_cache(maxsize=512)
def loop_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(first line, last line) of every ``for`` and ``while`` loop, in source order."""
    tree = parse(text)
    if tree is None:
        return ()
    loops = (ast.For, ast.AsyncFor, ast.While)
    return tuple(
        sorted(
            (node.lineno, node.end_lineno or node.lineno)
            for node in ast.walk(tree)
            if isinstance(node, loops)
        )
    )


def loop_around(text: str, line: int) -> int | None:
    """The first line of the innermost loop that holds ``line``, if one does."""
    inside = [first for first, last in loop_spans(text) if first <= line <= last]
    return max(inside) if inside else None
