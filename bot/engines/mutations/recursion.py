"""Base cases of recursive functions: the conditions that decide whether a call recurses.

When a test fails with a RecursionError, the function recursed where it should have stopped:
the condition that guards its recursive call (an `if` whose branch recurses or returns before
the call, a conditional expression around the call) is the prime suspect, as the condition
of a loop is for a hang.
"""

from __future__ import annotations

import ast

from bot.engines.mutations.tree import walk

Function = ast.FunctionDef | ast.AsyncFunctionDef

# the edits that change which way a base-case condition decides
BASE_CASE_TEMPLATES = frozenset({"comparison-operator", "comparison-boundary", "negate-condition"})


def recursive_calls(function: Function) -> list[ast.Call]:
    """Calls of ``function`` inside itself: `name(...)`, `self.name(...)`, `cls.name(...)`."""
    found: list[ast.Call] = []
    for node in walk(function):
        if not isinstance(node, ast.Call):
            continue
        callee = node.func
        if (isinstance(callee, ast.Name) and callee.id == function.name) or (
            isinstance(callee, ast.Attribute)
            and callee.attr == function.name
            and isinstance(callee.value, ast.Name)
            and callee.value.id in ("self", "cls")
        ):
            found.append(node)
    return found


def base_case_lines(function: Function) -> list[int]:
    """Lines of the conditions on the way from the entry of ``function`` to a recursive call:
    an `if` or conditional expression that holds the call in one of its branches, and an `if`
    before the call that leaves the function (`if n == 0: return 1`)."""
    calls = recursive_calls(function)
    if not calls:
        return []
    lines: list[int] = []
    for call in calls:
        lines += _guards_of(function, call)
    return sorted(dict.fromkeys(lines))


def _guards_of(function: Function, call: ast.Call) -> list[int]:
    lines: list[int] = []
    block: list[ast.stmt] = function.body
    while True:
        holder = next((s for s in block if any(n is call for n in walk(s))), None)
        if holder is None:
            return lines
        for earlier in block[: block.index(holder)]:
            if isinstance(earlier, ast.If) and _leaves(earlier.body):
                lines.append(earlier.lineno)
        if isinstance(holder, ast.If | ast.While):
            if not any(n is call for n in walk(holder.test)):
                lines.append(holder.lineno)
            inner = [b for b in (holder.body, holder.orelse) if _holds(b, call)]
        elif isinstance(holder, ast.For | ast.AsyncFor | ast.With | ast.AsyncWith):
            inner = [b for b in (holder.body, getattr(holder, "orelse", [])) if _holds(b, call)]
        elif isinstance(holder, ast.Try):
            blocks = [holder.body, holder.orelse, holder.finalbody]
            blocks += [handler.body for handler in holder.handlers]
            inner = [b for b in blocks if _holds(b, call)]
        else:
            if any(isinstance(n, ast.IfExp) and _holds_expression(n, call) for n in walk(holder)):
                lines.append(holder.lineno)
            return lines
        if not inner:
            return lines
        block = inner[0]


def _holds(block: list[ast.stmt], call: ast.Call) -> bool:
    return any(n is call for statement in block for n in walk(statement))


def _holds_expression(node: ast.IfExp, call: ast.Call) -> bool:
    return any(n is call for branch in (node.body, node.orelse) for n in walk(branch))


def _leaves(block: list[ast.stmt]) -> bool:
    return bool(block) and isinstance(block[-1], ast.Return | ast.Raise)
