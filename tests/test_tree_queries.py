"""The template engine's cached tree queries answer exactly what the ast module answers."""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

from bot.engines.mutations import dump, source_segment, walk

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
