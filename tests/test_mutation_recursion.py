"""Base cases of recursive functions: which conditions guard a recursive call."""

from __future__ import annotations

import ast

from bot.engines.mutations import base_case_lines
from bot.engines.mutations.recursion import recursive_calls


def _function(source: str) -> ast.FunctionDef:
    node = ast.parse(source).body[0]
    assert isinstance(node, ast.FunctionDef)
    return node


def test_the_if_whose_branch_recurses_is_a_base_case() -> None:
    source = (
        "def halves(items):\n"  # 1
        "    middle = len(items) // 2\n"
        "    left, right = items[:middle], items[middle:]\n"
        "    if len(left) == 1:\n"  # 4
        "        a = left[0]\n"
        "    else:\n"
        "        a = halves(left)\n"
        "    for item in right:\n"  # 8
        "        if item is None:\n"  # 9
        "            continue\n"
        "        elif len(right) != 1:\n"  # 11
        "            b = halves(right)\n"
        "    return a\n"
    )
    assert base_case_lines(_function(source)) == [4, 9, 11]


def test_an_early_return_before_the_call_is_a_base_case() -> None:
    source = (
        "def power(base, exponent):\n"
        "    if exponent < 0:\n"
        "        raise ValueError('negative')\n"
        "    if exponent == 0:\n"
        "        return 1\n"
        "    if exponent > 100:\n"
        "        print('large')\n"
        "    half = power(base, exponent // 2)\n"
        "    return half * half * (base if exponent % 2 else 1)\n"
    )
    # the `if` that only prints does not stop the recursion
    assert base_case_lines(_function(source)) == [2, 4]


def test_a_conditional_expression_around_the_call_is_a_base_case() -> None:
    source = "def depth(n):\n    return 0 if n <= 1 else 1 + depth(n // 2)\n"
    assert base_case_lines(_function(source)) == [2]


def test_methods_recurse_through_self() -> None:
    source = (
        "def size(self, node):\n"
        "    if not node.children:\n"
        "        return 1\n"
        "    return 1 + sum(self.size(child) for child in node.children)\n"
    )
    function = _function(source)
    assert len(recursive_calls(function)) == 1
    assert base_case_lines(function) == [2]


def test_a_function_that_does_not_call_itself_has_no_base_case() -> None:
    source = "def f(n):\n    if n == 0:\n        return 1\n    return g(n - 1)\n"
    assert base_case_lines(_function(source)) == []
