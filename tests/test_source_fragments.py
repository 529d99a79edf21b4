"""Questions about a candidate's code are answered from the top-level statements it changes:
the answers must be those the whole files give."""

from __future__ import annotations

import ast
import textwrap

from hypothesis import given, settings
from hypothesis import strategies as st

from bot.analysis.source import changed_statements, compile_error, parses_after
from bot.gates.dangerous import added_dangers, findings

MODULE = textwrap.dedent(
    '''
    """A module with a bit of everything."""
    import os
    import subprocess as sp
    from pathlib import Path

    LIMIT = 3


    @staticmethod
    def helper(x):
        return x + 1


    class Box:
        size = (1,
                2)

        def grow(self, by):
            if by > LIMIT:
                return sp.run(["true"])
            return self.size * by


    def last(items):
        """Docstring."""
        total = 0
        for item in items:
            total += item
        return total
    '''
).lstrip("\n")
LINES = MODULE.splitlines(keepends=True)
SNIPPETS = [
    "",
    "    ",
    "x = 1\n",
    "    y = os.system('ls')\n",
    "        return Path('a').unlink()\n",
    "(",
    ")",
    '"""',
    "def f():\n",
    "    pass\n",
    "\n",
    "@deco\n",
    "eval('1')",
    "        total -= item\n",
    "\\\n",
    "# comment\n",
]


def edited(line: int, column: int, remove: int, snippet: str) -> str:
    index = min(line, len(LINES) - 1)
    text = LINES[index]
    column = min(column, len(text))
    changed = text[:column] + snippet + text[column + remove :]
    return "".join([*LINES[:index], changed, *LINES[index + 1 :]])


@settings(max_examples=400, deadline=None)
@given(
    line=st.integers(0, len(LINES) - 1),
    column=st.integers(0, 40),
    remove=st.integers(0, 12),
    snippet=st.sampled_from(SNIPPETS),
)
def test_the_changed_statements_parse_exactly_when_the_whole_file_does(
    line: int, column: int, remove: int, snippet: str
) -> None:
    new = edited(line, column, remove, snippet)
    try:
        ast.parse(new)
        whole = True
    except SyntaxError:
        whole = False
    assert parses_after(MODULE, new) is whole


def whole_file_dangers(old: str, new: str) -> dict[tuple[str, str], int]:
    """The dangers ``new`` adds, each kind's first line, from the whole files."""
    before = {(item.scope, item.what) for item in findings(old)}
    added: dict[tuple[str, str], int] = {}
    for item in findings(new):
        if (item.scope, item.what) not in before:
            added.setdefault((item.scope, item.what), item.line)
    return added


@settings(max_examples=400, deadline=None)
@given(
    line=st.integers(0, len(LINES) - 1),
    column=st.integers(0, 40),
    remove=st.integers(0, 12),
    snippet=st.sampled_from(SNIPPETS),
)
def test_the_dangers_added_are_those_the_whole_files_show(
    line: int, column: int, remove: int, snippet: str
) -> None:
    new = edited(line, column, remove, snippet)
    found = {(item.scope, item.what): item.line for item in added_dangers(MODULE, new)}
    whole = whole_file_dangers(MODULE, new)
    # every danger the whole files show is found, on the same line
    assert {key: found.get(key) for key in whole} == whole
    # the part may say more only of module-level code: the module's other statements (which
    # it does not read) may already make that call
    assert all(scope == "<module>" for scope, _ in set(found) - set(whole))


def test_an_edit_inside_a_method_is_answered_from_its_class() -> None:
    new = MODULE.replace("return self.size * by", "return os.system('rm') or self.size * by")
    part = changed_statements(MODULE, new)
    assert part is not None
    old_part, new_part = part
    assert "class Box" in old_part and "def last" not in old_part and "import os" not in old_part
    # line numbers are those of the whole file
    assert old_part.splitlines().index("class Box:") == MODULE.splitlines().index("class Box:")
    assert "os.system('rm')" in new_part
    (danger,) = added_dangers(MODULE, new)
    assert danger.scope == "Box.grow" and danger.what == "os.system"
    assert danger.line == MODULE.splitlines().index("        return self.size * by") + 1


def test_an_edit_between_statements_is_answered_from_the_whole_files() -> None:
    new = MODULE.replace("LIMIT = 3\n\n", "LIMIT = 3\n# four would be too many\n", 1)
    assert changed_statements(MODULE, new) is None
    assert parses_after(MODULE, new)


@settings(max_examples=300, deadline=None)
@given(
    line=st.integers(0, len(LINES) - 1),
    column=st.integers(0, 40),
    remove=st.integers(0, 12),
    snippet=st.sampled_from([*SNIPPETS, "return 1\n", "    nonlocal total\n", "break\n"]),
)
def test_the_changed_statements_compile_exactly_when_the_whole_file_does(
    line: int, column: int, remove: int, snippet: str
) -> None:
    new = edited(line, column, remove, snippet)
    try:
        compile(new, "m.py", "exec", dont_inherit=True)
        whole = ""
    except SyntaxError as error:
        whole = str(error)
    assert compile_error(MODULE, new, "m.py") == whole


def test_a_return_outside_a_function_is_found_in_the_changed_statement() -> None:
    new = MODULE.replace("LIMIT = 3\n", "LIMIT = 3\nreturn LIMIT\n")
    assert "'return' outside function" in compile_error(MODULE, new, "m.py")
    assert compile_error(MODULE, MODULE.replace("total = 0", "total = 1"), "m.py") == ""
