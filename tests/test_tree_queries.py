"""The template engine's cached tree queries answer exactly what the ast module answers, and
the templates built on them order their edits as promised."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.engines.mutations import (
    Offsets,
    Site,
    dump,
    insert_statement,
    source_segment,
    statement_at,
    walk,
)
from bot.models import FailureClass

CORPUS = Path(__file__).resolve().parent.parent / "benchmarks" / "corpus"

AWKWARD = (
    "def f(x):\r\n    return x + 1\r\n",  # Windows line ends
    "def g(s):\r    return s\r",  # old Mac line ends
    "x = 'caf\u00e9'  # \u00fcber\ny = {'\u00e9': [1,\n  2]}\n",  # multi-byte characters
    "a = 1\n\x0cb = (2 +\n     3)\n",  # a form feed, which the parser does not split at
    "value = 1",  # no final newline
    'text = """one\ntwo"""; other = 2\n',  # a node spanning lines, then another on its last
)


def _parses(text: str) -> bool:
    try:
        ast.parse(text)
    except SyntaxError:  # the corpus's syntax-error bugs
        return False
    return True


SOURCES = [*AWKWARD, *(p.read_text() for p in sorted(CORPUS.glob("*/*.py")))]


@pytest.mark.parametrize("text", [t for t in SOURCES if _parses(t)], ids=lambda t: str(len(t)))
def test_segments_and_walks_match_the_ast_module(text: str) -> None:
    tree = ast.parse(text)
    nodes = list(ast.walk(tree))
    assert list(walk(tree)) == nodes
    assert walk(tree) is walk(tree)  # computed once
    for node in nodes:
        assert source_segment(text, node) == ast.get_source_segment(text, node)
        assert dump(node) == ast.dump(node)


def test_a_new_tree_with_a_reused_id_is_walked_afresh() -> None:
    first = ast.parse("a = 1")
    assert len(walk(first)) == len(list(ast.walk(first)))
    second = ast.parse("b = [1, 2, 3]")
    assert list(walk(second)) == list(ast.walk(second))
    assert walk(first) != walk(second)


COUNTDOWN = """def countdown(n):
    steps = []
    while n > 0:
        steps.append(n)
    return steps
"""


def test_a_loop_that_never_advances_is_given_its_update_inside_first() -> None:
    """At a `while` line (where a hang is localized), the updates the loop is missing are
    tried at the end of its body before anything is inserted around the loop, where no
    update can end it."""
    tree = ast.parse(COUNTDOWN)
    statement, function = statement_at(tree, 3)
    assert isinstance(statement, ast.While)
    site = Site(COUNTDOWN, tree, 3, statement, function, FailureClass.LOGIC, (), (), "")
    found = list(insert_statement(site, Offsets(COUNTDOWN)))
    inside = [m for m in found if m.description.endswith("at the end of the loop")]
    assert inside and found[: len(inside)] == inside
    assert any(m.description == "insert `n -= 1`" for m in found)  # around the loop, later
    fixed = inside[[m.description for m in inside].index("insert `n -= 1` at the end of the loop")]
    assert fixed.apply(COUNTDOWN) == COUNTDOWN.replace(
        "steps.append(n)\n", "steps.append(n)\n        n -= 1\n"
    )
