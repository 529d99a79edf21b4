"""A round prefers the candidate that fixes every failing test: a change on a line only some
of them run is a partial fix, proven only when nothing better turns up."""

from __future__ import annotations

import textwrap
from collections.abc import Callable
from pathlib import Path

from test_gates_flow import FixedEngine, run_repair

from bot.models import Candidate, FileEdit, Outcome, RunStatus, TestResult, TestRun
from bot.stages.screening import Selection

MakeRepo = Callable[..., Path]

# One inverted condition; the two failing tests take different branches of it.
WORDS = textwrap.dedent(
    """
    def drop(words, stop, lowercase=True):
        if not lowercase:
            stop = [s.lower() for s in stop]
            return [w for w in words if w.lower() not in stop]
        return [w for w in words if w not in stop]
    """
).lstrip("\n")
TESTS = textwrap.dedent(
    """
    from words import drop


    def test_case_folded_by_default():
        assert drop(["A", "b"], ["a"]) == ["b"]


    def test_case_kept_on_request():
        assert drop(["A", "a"], ["a"], lowercase=False) == ["A"]


    def test_nothing_to_drop():
        assert drop(["x"], []) == ["x"]
    """
).lstrip("\n")
# makes test_case_kept_on_request pass on the branch only it runs, the other still fails
ONE_PATH = WORDS.replace("if w.lower() not in stop]", "if w not in stop]")
BOTH = WORDS.replace("if not lowercase:", "if lowercase:")


def failing_with(coverage: dict[str, list[int]], source: str) -> Selection:
    """The selection of a round whose failing tests ran these lines of ``m.py``."""
    run = TestRun(
        results=tuple(TestResult(nodeid=n, outcome=Outcome.FAILED) for n in coverage),
        coverage={n: {"m.py": frozenset(lines)} for n, lines in coverage.items()},
        has_coverage=True,
    )
    return Selection.of(run, list(coverage), {"m.py": source})


def edit_of(name: str, text: str) -> Candidate:
    """A candidate that gives ``m.py`` the text ``text``."""
    return Candidate(
        id=name, engine="t", template="t", description="", edits=(FileEdit("m.py", text),)
    )


def test_a_change_on_the_line_every_failing_test_runs_wins_over_one_on_a_branch(
    make_repo: MakeRepo,
) -> None:
    root = make_repo({"words.py": WORDS, "tests/test_words.py": TESTS})
    result = run_repair(
        root,
        FixedEngine(
            [
                ("fixes the branch one failing test takes", {"words.py": ONE_PATH}),
                ("fixes the condition", {"words.py": BOTH}),
            ]
        ),
    )
    assert result.status is RunStatus.FIXED, result.reason
    kept = [r for r in result.rounds if r.commit]
    assert [r.description for r in kept] == ["fixes the condition"]


def test_a_partial_fix_is_still_kept_when_nothing_fixes_every_failing_test(
    make_repo: MakeRepo,
) -> None:
    root = make_repo({"words.py": WORDS, "tests/test_words.py": TESTS})
    result = run_repair(
        root, FixedEngine([("fixes the branch one failing test takes", {"words.py": ONE_PATH})])
    )
    kept = [r for r in result.rounds if r.commit]
    assert [r.description for r in kept] == ["fixes the branch one failing test takes"]
    assert kept[0].fixed_tests == ("tests/test_words.py::test_case_kept_on_request",)
    assert result.status is RunStatus.NOT_FIXED


def test_the_failing_tests_that_run_the_function_but_not_the_changed_line_are_named() -> None:
    source = textwrap.dedent(
        """
        def pick(flag):
            if flag:
                return 1
            return 2


        def other():
            return 0
        """
    ).lstrip("\n")
    coverage = {"t.py::a": [2, 3], "t.py::b": [2, 4], "t.py::c": [8]}
    selection = failing_with(coverage, source)

    def edit(line: int) -> Candidate:
        lines = source.splitlines(keepends=True)
        lines[line - 1] = lines[line - 1].replace("1", "3").replace("2", "3").replace("0", "3")
        lines[line - 1] = lines[line - 1].replace("flag", "not flag")
        return edit_of(f"c{line}", "".join(lines))

    # the condition: a and b run it, c fails elsewhere (another bug)
    assert selection.unreached_for(edit(2)) == []
    # one branch: b runs the function but not this line; c is still elsewhere
    assert selection.unreached_for(edit(3)) == ["t.py::b"]
    assert selection.unreached_for(edit(4)) == ["t.py::a"]
    assert selection.unreached_for(edit(8)) == []


def test_an_added_statement_reaches_every_failing_test_that_runs_its_block() -> None:
    """`return out` added after a loop: the neighbouring line runs only where the loop found
    something, but the new line runs for every call."""
    source = textwrap.dedent(
        """
        def kept(items):
            out = []
            for item in items:
                if item:
                    out.append(item)
        """
    ).lstrip("\n")
    coverage = {"t.py::some": [2, 3, 4, 5], "t.py::none": [2, 3, 4]}
    selection = failing_with(coverage, source)
    added = edit_of("insert", source + "    return out\n")
    assert selection.targets_for(added) == ["t.py::some"]
    assert selection.unreached_for(added) == []
    # the same line changed instead of added: the test that never reaches it stays failing
    changed = edit_of("change", source.replace("out.append(item)", "out.append(item * 2)"))
    assert selection.unreached_for(changed) == ["t.py::none"]


def test_a_candidate_that_breaks_the_conftest_import_is_rejected_not_a_run_error(
    make_repo: MakeRepo,
) -> None:
    """pytest exits with its usage status when a conftest.py raises on import; a candidate
    that makes it raise (in a fresh process, where the forked worker's conftest was already
    imported) is rejected by its proof, and the run goes on to the next one."""
    calc = "def double(x):\n    return x * 3\n\n\nLIMIT = 10\n"
    root = make_repo(
        {
            "calc.py": calc,
            "tests/conftest.py": "import calc\n\nLIMIT = calc.LIMIT\n",
            "tests/test_calc.py": (
                "from calc import double\n\n\ndef test_double():\n    assert double(2) == 4\n"
            ),
        }
    )
    result = run_repair(
        root,
        FixedEngine(
            [
                ("doubles, and drops LIMIT", {"calc.py": "def double(x):\n    return x * 2\n"}),
                ("doubles", {"calc.py": calc.replace("x * 3", "x * 2")}),
            ]
        ),
    )
    assert result.status is RunStatus.FIXED, result.reason
    kept = [r for r in result.rounds if r.commit]
    assert [r.description for r in kept] == ["doubles"]
    rejected = [r for r in result.rounds if not r.commit]
    assert [r.reason for r in rejected] == ["rolled back: new collection errors"]


def test_a_caller_fixed_around_a_bug_it_calls_is_partial() -> None:
    """A test of the caller fails because of the function it calls; a change in the caller
    that makes that test pass leaves the callee's own failing test failing: partial."""
    source = textwrap.dedent(
        """
        def inner(x):
            return x * 3


        def outer(x):
            return inner(x) + 1
        """
    ).lstrip("\n")
    coverage = {"t.py::inner": [2], "t.py::outer": [2, 6]}
    selection = failing_with(coverage, source)
    around = edit_of("around", source.replace("inner(x) + 1", "inner(x) - 1"))
    assert selection.targets_for(around) == ["t.py::outer"]
    assert selection.unreached_for(around) == ["t.py::inner"]
