"""mendbot's human output shows the project's own text as it is: test ids, code and messages
with square brackets are neither eaten nor taken for console markup."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from conftest import CliResult

MODULE = "def shout(text):\n    return text.upper()\n"
TESTS = (
    "import pytest\n"
    "from shouting import shout\n\n"
    '@pytest.mark.parametrize("text", ["[/dim]", "[attr]"])\n'
    "def test_shout_keeps_brackets(text):\n"
    '    assert shout(text) == text + "!"\n'
)


def test_bracketed_test_ids_are_printed_whole_and_do_not_end_the_run(
    make_repo: Callable[..., Path], run_cli: Callable[..., CliResult]
) -> None:
    repo = make_repo({"shouting.py": MODULE, "tests/test_shouting.py": TESTS})
    result = run_cli("fix", ".", "--time-budget", "30", cwd=repo)
    assert "MarkupError" not in result.stderr, result.stderr[-2000:]
    assert result.code == 1, result.stderr[-2000:]  # not fixed, and said so
    assert "still failing: tests/test_shouting.py::test_shout_keeps_brackets[[/dim]]" in (
        result.stderr
    )
    assert "still failing: tests/test_shouting.py::test_shout_keeps_brackets[[attr]]" in (
        result.stderr
    )
