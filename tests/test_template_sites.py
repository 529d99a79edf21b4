"""Where a template looks: every line of a `def` header (decorators, parameters, defaults,
annotations) is the `def` statement, whose expressions the templates edit."""

from __future__ import annotations

import ast

from bot.engines.mutations import Offsets, Site, statement_at
from bot.engines.mutations.operators import binary_operator
from bot.models import FailureClass

HEADER = (
    "import functools\n"
    "@functools.lru_cache(\n"
    "    maxsize=3)\n"
    "def shorten(text,\n"
    "            limit: int % None = None,\n"
    "            *, marker='...') -> str:\n"
    "    x = 1\n"
    "\n"
    "    return x\n"
)


def test_every_line_of_a_def_header_is_the_def_statement() -> None:
    tree = ast.parse(HEADER)
    kinds = {line: statement_at(tree, line) for line in range(1, 10)}
    for line in (2, 3, 4, 5, 6):
        statement, function = kinds[line]
        assert isinstance(statement, ast.FunctionDef) and function is None, line
    assert isinstance(kinds[7][0], ast.Assign)
    assert kinds[8][0] is None  # a blank line of the body
    assert isinstance(kinds[9][0], ast.Return)


def test_an_annotation_evaluated_at_the_def_gets_its_operator_back() -> None:
    tree = ast.parse(HEADER)
    statement, function = statement_at(tree, 5)
    assert statement is not None
    site = Site(HEADER, tree, 5, statement, function, FailureClass.FORMAT, (), (), "")
    edited = {m.apply(HEADER) for m in binary_operator(site, Offsets(HEADER))}
    assert HEADER.replace("int % None", "int // None") in edited
