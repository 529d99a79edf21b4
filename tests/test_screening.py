"""The fast screening path: sound, contained, deterministic, and in agreement with the naive
path (a fresh pytest per candidate). Real projects, real pytest, real forks."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest
from conftest import git

from bot.models import Candidate, FileEdit, Verdict, Workspace
from bot.sandbox.local import LocalSandbox
from bot.testing.runner import TestRunner
from bot.validate import Validator

CALC = """
import json

LIMIT = 10
calls = []


def clamp(value):
    calls.append(value)
    if value > LIMIT:
        return 0
    return value


def encode(value):
    return json.dumps({"v": value})
"""

TESTS = """
from calc import clamp, encode, LIMIT
import calc


def test_inside():
    assert clamp(3) == 3


def test_above():
    assert clamp(12) == LIMIT


def test_encode():
    assert encode(1) == '{"v": 1}'


def test_fresh_module_state():
    assert calc.calls == [] or calc.calls[-1] is not None
    assert LIMIT == 10
"""


@dataclass(frozen=True)
class Everything:
    """Judge every candidate by all failing tests and all passing tests."""

    targets: tuple[str, ...]
    passing: tuple[str, ...]

    def targets_for(self, candidate: Candidate) -> list[str]:
        return list(self.targets)

    def unreached_for(self, candidate: Candidate) -> list[str]:
        return []

    def guards_for(self, candidate: Candidate) -> list[str]:
        return list(self.passing)


def workspace_of(root: Path) -> Workspace:
    """The repository itself as the workspace (screening needs no worktree of its own)."""
    head = git(root, "rev-parse", "HEAD").strip()
    return Workspace(
        repo_root=root,
        worktree=root,
        project_dir=root,
        project_subdir="",
        base_commit=head,
        head_commit=head,
        branch="main",
        run_id="t",
    )


def body(replacement: str) -> str:
    return CALC.replace("        return 0\n", replacement)


BAD_CANDIDATES = {
    "exits": "        import sys; sys.exit(3)\n",
    "hard-exits": "        import os; os._exit(0)\n",
    "loops": "        while True:\n            pass\n",
    "segfaults": "        import ctypes; return ctypes.string_at(0)\n",
    "pollutes": "        global LIMIT\n        LIMIT = 99\n        import json; json.dumps = None\n"
    "        return 0\n",
    "kills-parent": "        import os, signal; os.kill(os.getppid(), signal.SIGKILL)\n",
    "writes": "        open('leak.txt', 'w').write('x')\n        return 0\n",
}


@pytest.fixture
def project(make_repo: Callable[..., Path]) -> Iterator[tuple[TestRunner, Workspace]]:
    root = make_repo({"calc.py": CALC, "tests/test_calc.py": TESTS})
    workspace = workspace_of(root)
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    yield runner, workspace
    runner.close()


def edit(name: str, path: str, text: str) -> Candidate:
    """A candidate named ``name`` that gives ``path`` the text ``text``."""
    return Candidate(
        id=name, engine="test", template="t", description=name, edits=(FileEdit(path, text),)
    )


def candidates() -> list[Candidate]:
    found = [edit(name, "calc.py", body(code)) for name, code in BAD_CANDIDATES.items()]
    found.append(edit("right", "calc.py", body("        return LIMIT\n")))
    return found


def screen(runner: TestRunner, workspace: Workspace, mode: str) -> list[Verdict | None]:
    baseline = runner.run(timeout=60, per_test_timeout=5)
    assert baseline.failing == ("tests/test_calc.py::test_above",)
    selection = Everything(baseline.failing, baseline.passing)
    validator = Validator(runner, workspace, mode, workers=2, test_timeout=5)
    return validator.screen(candidates(), selection, baseline, stop_at_first=False)


def test_bad_candidates_are_rejected_and_do_not_leak(project: tuple[TestRunner, Workspace]) -> None:
    runner, workspace = project
    verdicts = screen(runner, workspace, "fast")
    by_id = {c.id: v for c, v in zip(candidates(), verdicts, strict=True)}
    for name in BAD_CANDIDATES:
        verdict = by_id[name]
        assert verdict is not None and not verdict.accepted, name
    assert "timed out" in by_id["loops"].reason  # type: ignore[union-attr]
    assert "crash" in by_id["segfaults"].reason or "died" in by_id["segfaults"].reason  # type: ignore[union-attr]
    # the right candidate comes after all of them and is still judged on a clean slate
    right = by_id["right"]
    assert (
        right is not None and right.accepted and right.fixed == ("tests/test_calc.py::test_above",)
    )
    # the worktree holds no file a candidate wrote
    assert not (workspace.project_dir / "leak.txt").exists()


def test_fast_and_naive_agree_and_repeat(project: tuple[TestRunner, Workspace]) -> None:
    runner, workspace = project
    fast = [v.accepted if v else None for v in screen(runner, workspace, "fast")]
    again = [v.accepted if v else None for v in screen(runner, workspace, "fast")]
    naive = [v.accepted if v else None for v in screen(runner, workspace, "naive")]
    assert fast == again == naive
    assert fast[-1] is True and not any(fast[:-1])


def test_first_winner_stops_the_batch_deterministically(
    project: tuple[TestRunner, Workspace],
) -> None:
    runner, workspace = project
    baseline = runner.run(timeout=60, per_test_timeout=5)
    selection = Everything(baseline.failing, baseline.passing)
    right = candidates()[-1]
    also_right = edit("also", "calc.py", body("        return 10\n"))
    wrong = candidates()[0]
    validator = Validator(runner, workspace, "fast", workers=2, test_timeout=5)
    verdicts = validator.screen([wrong, right, also_right], selection, baseline)
    assert verdicts[0] is not None and not verdicts[0].accepted
    assert verdicts[1] is not None and verdicts[1].accepted
    # whatever finished first, the earlier winner is the one reported first
    accepted = [i for i, v in enumerate(verdicts) if v is not None and v.accepted]
    assert accepted[0] == 1


def test_the_ranking_slice_gathers_the_same_candidates_however_fast_they_run(
    project: tuple[TestRunner, Workspace],
) -> None:
    """Gathering complete candidates for ranking stops by counting outcomes: a hang uses
    up eight of the slice, another candidate one. What a second core judged past that point
    is dropped, so both paths, run after run, return the same candidates."""
    runner, workspace = project
    baseline = runner.run(timeout=60, per_test_timeout=5)
    selection = Everything(baseline.failing, baseline.passing)

    def make(name: str, line: str) -> Candidate:
        return edit(name, "calc.py", body(f"        {line}\n"))

    batch = [
        make("wrong", "return 1"),
        make("right", "return LIMIT"),
        make("hangs", "while True: pass"),
        make("also-right", "return 10"),
        make("hangs-too", "while True: pass"),
        make("right-too", "return int(LIMIT)"),
        make("right-as-well", "return LIMIT + 0"),
    ]
    seen = []
    for mode in ("fast", "fast", "naive"):
        validator = Validator(runner, workspace, mode, workers=2, test_timeout=5)
        verdicts = validator.screen(batch, selection, baseline, want=4, extra=10)
        seen.append([(v.accepted, v.timed_out) if v else None for v in verdicts])
    assert seen[0] == seen[1] == seen[2]
    assert seen[0] == [
        (False, False),
        (True, False),
        (False, True),
        (True, False),
        (False, True),
        None,
        None,
    ]


SHARED_TESTS = """
import pytest
from calc import clamp


@pytest.fixture(scope="module")
def seen():
    return []


def test_first(seen):
    seen.append("first")
    assert clamp(11) == 10


def test_second(seen):
    assert seen == ["first"]
"""


def test_a_wider_fixture_is_shared_by_the_tests_of_a_candidate_as_in_one_session(
    make_repo: Callable[..., Path],
) -> None:
    """A candidate's tests run as one pytest session runs them: a module-scoped fixture is
    set up once for the failing test and the passing test after it, so the fast path judges
    as a fresh pytest run of those tests does."""
    root = make_repo({"calc.py": CALC, "tests/test_shared.py": SHARED_TESTS})
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        baseline = runner.run(timeout=60, per_test_timeout=5)
        first, second = "tests/test_shared.py::test_first", "tests/test_shared.py::test_second"
        assert baseline.failing == (first,) and baseline.passing == (second,)
        selection = Everything(baseline.failing, baseline.passing)
        found = {}
        for mode in ("fast", "naive"):
            validator = Validator(runner, workspace_of(root), mode, workers=2, test_timeout=5)
            (verdict,) = validator.screen(
                [candidates()[-1]], selection, baseline, stop_at_first=False
            )
            assert verdict is not None
            found[mode] = (verdict.accepted, verdict.fixed, verdict.broken)
    finally:
        runner.close()
    assert found["fast"] == found["naive"] == (True, (first,), ())


MARKED_TESTS = """
import pytest
from calc import clamp


@pytest.fixture
def broken_fixture():
    raise LookupError("no fixture today")


def test_plain():
    assert clamp(11) == 10


@pytest.mark.xfail(strict=True, reason="known")
def test_strict_xfail():
    assert clamp(11) == 10


@pytest.mark.xfail(reason="known")
def test_lenient_xfail():
    assert clamp(11) == 10


def test_setup_error(broken_fixture):
    assert clamp(11) == 10
"""


def test_screening_reports_outcomes_as_pytest_decides_them(
    make_repo: Callable[..., Path],
) -> None:
    """A screening child reports failures in one line (the exception, not a formatted
    traceback), while pytest still decides every outcome: a strict xfail that passes fails,
    a lenient one counts as passed, an error in a fixture is an error."""
    root = make_repo({"calc.py": CALC, "tests/test_marked.py": MARKED_TESTS})
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        names = ["test_plain", "test_strict_xfail", "test_lenient_xfail", "test_setup_error"]
        nodeids = [f"tests/test_marked.py::{name}" for name in names]
        fixed = body("        return LIMIT\n")
        entries = [
            {"edits": {str((root / "calc.py").resolve()): text}, "targets": nodeids, "guards": []}
            for text in (CALC, fixed)
        ]
        results, error = runner.screen(entries, workers=1, timeout=60, stop_at_first=False)
        assert not error
        before = results[0]["outcomes"]
        after = results[1]["outcomes"]
    finally:
        runner.close()
    assert [before[n][0] for n in nodeids] == ["failed", "skipped", "skipped", "error"]
    assert [after[n][0] for n in nodeids] == ["passed", "failed", "passed", "error"]
    plain = before[nodeids[0]][1]
    assert plain.startswith("AssertionError: assert 0 == 10") and "calc.py" not in plain
    assert before[nodeids[3]][1] == "LookupError: no fixture today"


def test_a_candidate_that_fixes_none_of_the_first_failing_tests_is_not_run_on_the_rest(
    make_repo: Callable[..., Path],
) -> None:
    """A bug with many failing tests: a candidate is judged on a few of them, spread over
    the list, before the others run. This one would hang on the last failing test."""
    root = make_repo(
        {
            "scale.py": "def scale(x):\n    return x * 3\n",
            "tests/test_scale.py": (
                "import pytest\nfrom scale import scale\n\n\n"
                "@pytest.mark.parametrize('x', range(1, 13))\n"
                "def test_scale(x):\n    assert scale(x) == 2 * x\n"
            ),
        }
    )
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        baseline = runner.run(timeout=60, per_test_timeout=5)
        assert len(baseline.failing) == 12
        selection = Everything(baseline.failing, baseline.passing)
        hangs_last = edit(
            "hangs-last",
            "scale.py",
            "def scale(x):\n    while x == 12:\n        pass\n    return x * 4\n",
        )
        right = edit("right", "scale.py", "def scale(x):\n    return x * 2\n")
        validator = Validator(runner, workspace_of(root), "fast", workers=2, test_timeout=5)
        wrong, fixed = validator.screen(
            [hangs_last, right], selection, baseline, stop_at_first=False
        )
        assert wrong is not None and not wrong.accepted
        assert wrong.reason == "the failing tests still fail" and not wrong.timed_out
        assert fixed is not None and fixed.accepted and len(fixed.fixed) == 12
        # a candidate that fixes only the last failing test (not one of the first five):
        # out on both paths, the naive one running every test as a fresh pytest does
        last_only = edit(
            "last-only", "scale.py", "def scale(x):\n    return 2 * x if x == 12 else 3 * x\n"
        )
        for mode in ("fast", "naive"):
            validator = Validator(runner, workspace_of(root), mode, workers=2, test_timeout=5)
            (verdict,) = validator.screen([last_only], selection, baseline, stop_at_first=False)
            assert verdict is not None and not verdict.accepted, mode
            assert verdict.reason == "the failing tests still fail", mode
    finally:
        runner.close()
