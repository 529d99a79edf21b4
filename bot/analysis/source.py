"""Small source-code queries shared by analysis and engines."""

from __future__ import annotations

import ast
from collections.abc import Sequence
from functools import lru_cache


@lru_cache(maxsize=32)
def parse(text: str) -> ast.Module | None:
    """The tree of ``text``, or None when it does not parse. Cached and shared: callers must
    not change the tree. The cache is small: a module of a few thousand lines makes a tree of
    several megabytes, and the texts asked for again are the few files a round repairs (a
    candidate's code is read through :func:`changed_statements`)."""
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


@lru_cache(maxsize=64)
def function_bodies(text: str) -> tuple[tuple[int, int], ...]:
    """(first, last) line of every function's body, innermost first; () when ``text`` does
    not parse. The body only: a test that merely imported the module ran the ``def`` line."""
    tree = parse(text)
    if tree is None:
        return ()
    spans = [
        (node.body[0].lineno, node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    return tuple(sorted(spans, key=lambda span: span[1] - span[0]))


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


def common_ends(before: Sequence[str], after: Sequence[str]) -> tuple[int, int]:
    """How many lines two versions share at the start, and then at the end (the two never
    overlap): what lies between is what an edit changed."""
    shortest = min(len(before), len(after))
    start = 0
    while start < shortest and before[start] == after[start]:
        start += 1
    end = 0
    while end < shortest - start and before[-1 - end] == after[-1 - end]:
        end += 1
    return start, end


@lru_cache(maxsize=128)
def statement_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(first line, last line) of every top-level statement, decorators included."""
    tree = parse(text)
    if tree is None:
        return ()
    return tuple(
        (
            min([node.lineno, *(d.lineno for d in getattr(node, "decorator_list", ()))]),
            node.end_lineno or node.lineno,
        )
        for node in tree.body
    )


def changed_statements(old: str, new: str) -> tuple[str, str] | None:
    """The top-level statements of ``old`` that an edit changes, and what ``new`` has in
    their place; each is padded with blank lines so that line numbers stay those of the whole
    files. None when the edit reaches outside the top-level statements (or ``old`` does not
    parse): the whole texts are what to compare then.

    The rest of the module is the same in both, statement for statement, so ``new`` parses
    exactly when its part does, and a question about the changed code (what it calls) is
    answered from a few lines instead of the whole module, for every candidate."""
    before, after = old.splitlines(keepends=True), new.splitlines(keepends=True)
    start, end = common_ends(before, after)
    if start == len(before) == len(after):
        return None
    first, last = start + 1, len(before) - end  # the changed lines of ``old`` (1-based)
    if last < first:  # a pure insertion after line ``start``: it joins that line's statement
        first = last = max(start, 1)
    spans = [span for span in statement_spans(old) if span[1] >= first and span[0] <= last]
    if not spans or spans[0][0] > first or spans[-1][1] < last:
        return None
    top, bottom = spans[0][0], spans[-1][1]
    grown = len(after) - len(before)
    pad = "\n" * (top - 1)
    return (
        pad + "".join(before[top - 1 : bottom]),
        pad + "".join(after[top - 1 : bottom + grown]),
    )


def parses_after(old: str, new: str) -> bool:
    """Whether ``new``, an edit of ``old`` (which parses), parses. When the changed top-level
    statements parse on their own, so does the file: the statements after them start on a
    line of their own. Only when they do not (they may run on into the next statement, with
    a backslash at the end) is the whole file parsed."""
    part = changed_statements(old, new)
    if part is not None and parse(part[1]) is not None:
        return True
    return parse(new) is not None


def compile_error(old: str, new: str, path: str) -> str:
    """Why ``new`` (an edit of ``old``, or a new file when ``old`` is "") does not compile, or
    "". As with :func:`parses_after`, the changed top-level statements are compiled on their
    own when they compile, and the whole file only otherwise: the errors compiling finds
    beyond parsing (``return`` outside a function, ``nonlocal`` without a binding, a
    repeated argument) lie within one top-level statement."""
    part = changed_statements(old, new) if old else None
    if part is not None:
        try:
            compile(part[1], path, "exec", dont_inherit=True)
            return ""
        except (SyntaxError, ValueError):
            pass
    tree = parse(new)
    try:
        compile(tree if tree is not None else new, path, "exec", dont_inherit=True)
    except (SyntaxError, ValueError) as error:
        return str(error)
    return ""


@lru_cache(maxsize=64)
def statement_starts(text: str) -> dict[int, int]:
    """Line -> the first line of the innermost statement that holds it (for a compound
    statement, its header: ``if``, ``for``, ``def`` and their continuation lines). A
    statement written over several lines is one place to repair, not one per line."""
    tree = parse(text)
    starts: dict[int, int] = {}
    if tree is None:
        return starts
    for node in ast.walk(tree):  # outer statements first: inner ones overwrite their lines
        if not isinstance(node, ast.stmt):
            continue
        last = node.end_lineno or node.lineno
        body = getattr(node, "body", None)
        if isinstance(body, list) and body and isinstance(body[0], ast.stmt):
            last = max(node.lineno, body[0].lineno - 1)  # the header only
        for line in range(node.lineno, last + 1):
            starts[line] = node.lineno
    return starts
