"""What a run may claim: "fixed" and "nothing to fix" agree with plain pytest, a regression
is never excused as order-dependence or flakiness, and a run that is not fixed offers nothing
to merge. Real git repositories, real pytest runs; an engine that proposes given patches
stands in at the engine port where a test needs a particular patch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from conftest import BUGGY_CLAMP, CliResult, git
from test_gates_flow import GENERAL, FixedEngine, run_repair

from bot.cli import print_human
from bot.gates.flaky import detect, option_arguments
from bot.gates.reach import Reach, importers
from bot.models import Outcome, RunStatus
from bot.report.markdown import ReportContext, pull_request_body
from bot.report.summary import result_to_json
from bot.sandbox.local import LocalSandbox
from bot.testing.runner import TestRunner

RunCli = Callable[..., CliResult]
MakeRepo = Callable[..., Path]


def tree_id_of(root: Path) -> str:
    return git(root, "rev-parse", "HEAD^{tree}").strip()


def plain_pytest(root: Path, *args: str) -> int:
    """The exit code of the user's own pytest run in ``root``."""
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", *args],
        cwd=root,
        capture_output=True,
        text=True,
        timeout=120,
    )
    return done.returncode


def branch_passes_plain_pytest(root: Path, branch: str, tmp: Path) -> bool:
    """A fresh checkout of ``branch``, and plain pytest of the whole suite on it."""
    checkout = tmp / f"checkout-{branch.replace('/', '-')}"
    git(root, "worktree", "add", "-q", "--detach", str(checkout), branch)
    try:
        return plain_pytest(checkout) == 0
    finally:
        git(root, "worktree", "remove", "--force", str(checkout))


# A module-level object that the tests share: test_c passes only after test_a prepared it,
# so in reverse order it fails (it depends on the order). ``double`` has a bug.
SHARED_STATE = {
    "settings.py": """
        READY = False


        def is_ready():
            return READY


        def double(x):
            return x + 2
        """,
    "tests/test_order.py": """
        import settings


        def test_a_prepare():
            settings.READY = True


        def test_b_double():
            assert settings.double(3) == 6


        def test_c_uses_prepared_state():
            assert settings.is_ready()
        """,
}


def test_a_patch_that_breaks_an_order_dependent_test_in_the_normal_order_is_rejected(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    root = make_repo(SHARED_STATE)
    source = textwrap.dedent(SHARED_STATE["settings.py"]).lstrip("\n")
    fixes_double = source.replace("return x + 2", "return x * 2")
    # also resets the shared state: test_c then fails in the normal order as well
    breaking = fixes_double.replace("def double(x):\n", "def double(x):\n    reset()\n")
    breaking += "\n\ndef reset():\n    global READY\n    READY = False\n"
    result = run_repair(root, FixedEngine([("doubles and resets", {"settings.py": breaking})]))
    assert plain_pytest(root) != 0  # the bug is there
    assert result.status is RunStatus.NOT_FIXED, result.reason
    assert [r.commit for r in result.rounds] == [None]
    assert "test_c_uses_prepared_state" in result.rounds[0].reason
    # the test ran and failed: it is shown as failing after the patch, never as "not run"
    assert not result.branch


def test_an_order_dependent_test_stays_in_the_regression_check_of_a_correct_patch(
    make_repo: MakeRepo, tmp_path: Path
) -> None:
    root = make_repo(SHARED_STATE)
    source = textwrap.dedent(SHARED_STATE["settings.py"]).lstrip("\n")
    general = source.replace("return x + 2", "return x * 2")
    result = run_repair(root, FixedEngine([("doubles", {"settings.py": general})]))
    assert result.status is RunStatus.FIXED, result.reason
    assert branch_passes_plain_pytest(root, result.branch, tmp_path)
    # the order-dependent test ran in the final run, and passed there
    outcomes = result.extra["final"]["outcomes"]  # type: ignore[index]
    assert outcomes["tests/test_order.py::test_c_uses_prepared_state"] == "passed"


# A unittest test whose subTest fails every time (pytest 9 reports the subtest's failure on
# its own and the test itself as passed, then fails the test at the end of its report).
SUBTEST_SUITE = {
    "units.py": """
        def to_metres(feet):
            return feet * 0.3
        """,
    "tests/test_units.py": """
        import unittest

        from units import to_metres


        class TestUnits(unittest.TestCase):
            def test_zero(self):
                self.assertEqual(to_metres(0), 0)

            def test_conversions(self):
                for feet, metres in [(0, 0.0), (10, 3.048)]:
                    with self.subTest(feet=feet):
                        self.assertAlmostEqual(to_metres(feet), metres)
        """,
}


def test_a_subtest_that_fails_every_time_is_not_flaky(make_repo: MakeRepo, run_cli: RunCli) -> None:
    root = make_repo(SUBTEST_SUITE)
    assert plain_pytest(root) != 0
    result = run_cli("fix", "--json", "--max-rounds", "1", cwd=root)
    report = result.json()
    assert report["status"] != "nothing_to_fix", report["reason"]
    assert result.code != 0
    assert report["extra"]["flaky"] == []
    assert (
        "tests/test_units.py::TestUnits::test_conversions"
        in report["remaining_failures"] + report["fixed_tests"]
    )


def test_a_screening_child_reports_a_failed_subtest_as_a_failed_test(
    make_repo: MakeRepo,
) -> None:
    root = make_repo(SUBTEST_SUITE)
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        wanted = [
            "tests/test_units.py::TestUnits::test_conversions",
            "tests/test_units.py::TestUnits::test_zero",
        ]
        forked = runner.run_forked(wanted, tag=tree_id_of(root), per_test_timeout=10, timeout=60)
        assert forked is not None
        outcomes = {r.nodeid: r.outcome for r in forked.results}
        assert outcomes == {wanted[0]: Outcome.FAILED, wanted[1]: Outcome.PASSED}
        failed = forked.by_id()[wanted[0]]
        assert "3.048" in failed.message
        # plain pytest agrees
        plain = runner.run(timeout=60, per_test_timeout=10)
        assert {r.nodeid: r.outcome for r in plain.results} == outcomes
    finally:
        runner.close()


def test_fixed_means_plain_pytest_of_the_selection_passes_on_the_patched_tree(
    make_repo: MakeRepo,
) -> None:
    # test_sometimes fails at base, passes in the two re-runs (so it is called flaky and
    # left out), then fails again in every later run: the proof run of the patch among them
    sometimes = """
        from pathlib import Path

        COUNTER = Path(__file__).with_name("runs.count")


        def test_sometimes():
            runs = int(COUNTER.read_text()) + 1 if COUNTER.exists() else 1
            COUNTER.write_text(str(runs))
            assert runs in (2, 3), f"run {runs}"
        """
    root = make_repo(
        {**BUGGY_CLAMP, "tests/test_sometimes.py": sometimes, ".gitignore": "*.count\\n"}
    )
    result = run_repair(root, FixedEngine([("general", {"shapes.py": GENERAL})]), final_runs=0)
    flaky = [f["test"] for f in result.extra["flaky"]]  # type: ignore[attr-defined]
    assert flaky == ["tests/test_sometimes.py::test_sometimes"]
    assert result.status is RunStatus.NOT_FIXED
    assert result.reason.startswith("plain pytest of the selection still fails")
    assert "tests/test_sometimes.py::test_sometimes" in result.reason


def test_a_test_that_is_slow_in_the_reversed_run_is_not_order_dependent(
    make_repo: MakeRepo,
) -> None:
    # the second run of test_slow (the reversed one) takes longer than its time limit
    slow = """
        import time
        from pathlib import Path

        COUNTER = Path(__file__).with_name("runs.count")


        def test_slow():
            runs = int(COUNTER.read_text()) + 1 if COUNTER.exists() else 1
            COUNTER.write_text(str(runs))
            if runs == 2:
                time.sleep(5)


        def test_broken():
            assert 1 + 1 == 3
        """
    root = make_repo({"tests/test_slow.py": slow, ".gitignore": "*.count\\n"})
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        baseline = runner.run(timeout=60, per_test_timeout=2.0)
        assert baseline.passing == ("tests/test_slow.py::test_slow",)
        found = detect(
            runner, baseline, reruns=1, per_test_timeout=1.0, deadline=time.monotonic() + 60
        )
    finally:
        runner.close()
    assert found.reversed_run is not None
    assert found.reversed_run.by_id()["tests/test_slow.py::test_slow"].outcome is Outcome.TIMEOUT
    assert found.order_dependent == ()


def test_a_partial_round_is_kept_aside_and_never_offered(
    make_repo: MakeRepo, capsys: pytest.CaptureFixture[str]
) -> None:
    # two bugs; the only candidate fixes one of them
    shapes = textwrap.dedent(BUGGY_CLAMP["shapes.py"]).lstrip("\n")
    two_bugs = shapes.replace("clamp(v * factor, 0, 100)", "clamp(v + factor, 0, 100)")
    root = make_repo({**BUGGY_CLAMP, "shapes.py": two_bugs})
    one_fixed = two_bugs.replace(
        "value > high:\n        return low", "value > high:\n        return high"
    )
    result = run_repair(root, FixedEngine([("clamp only", {"shapes.py": one_fixed})]), max_rounds=2)
    assert result.status is RunStatus.NOT_FIXED
    partial = result.extra["partial"]  # type: ignore[index]
    assert partial["tests_passing"] == ["tests/test_shapes.py::test_above"]
    assert "partial and unproven" in partial["note"]
    # nothing to merge or apply: no branch, no diff, no claim of a fixed test
    assert result.branch == "" and result.diff == "" and result.fixed_tests == ()
    assert git(root, "branch", "--list", "mendbot/*").strip() == ""
    # the partial work stays reachable under the run's ref
    ref = partial["ref"]
    assert ref == f"refs/mendbot/partial/{result.run_id}"
    assert "return high" in git(root, "diff", result.base, ref)
    kept = [r for r in result.rounds if r.commit]
    assert kept and all(r.partial for r in kept)
    print_human(result, advice="take the fix: git merge mendbot/x   or: mendbot fix --apply")
    shown = capsys.readouterr().err
    assert "git merge" not in shown and "--apply" not in shown
    assert "partial, unproven" in shown and ref in shown


def test_the_reversed_run_keeps_the_users_arguments_whole(make_repo: MakeRepo) -> None:
    suite = """
        import pytest


        @pytest.mark.parametrize("text", ["a b", "-x", "--deselect"])
        def test_words(text):
            assert text


        def test_left_out():
            assert False, "deselected by the user"


        def test_broken():
            assert 1 + 1 == 3
        """
    root = make_repo({"tests/test_args.py": suite})
    arguments = ("--deselect", "tests/test_args.py::test_left_out", "tests/test_args.py")
    runner = TestRunner(LocalSandbox(), root, root, arguments, autoload=False)
    try:
        baseline = runner.run(timeout=60, per_test_timeout=5.0)
        ran = [r.nodeid for r in baseline.results]
        assert "tests/test_args.py::test_left_out" not in ran and len(ran) == 4
        found = detect(
            runner, baseline, reruns=2, per_test_timeout=5.0, deadline=time.monotonic() + 60
        )
    finally:
        runner.close()
    assert found.reversed_run is not None
    assert [r.nodeid for r in found.reversed_run.results] == ran[::-1]
    assert found.flaky == () and found.order_dependent == () and found.reruns == 2
    assert option_arguments(arguments, root) == ["--deselect", "tests/test_args.py::test_left_out"]


PREFIX = {
    "words.py": """
        def is_prefix(word, text):
            return len(word) >= 0 and text.startswith(word)
        """,
    "tests/test_words.py": """
        from words import is_prefix


        def test_prefix():
            assert is_prefix("ab", "abc")


        def test_other():
            assert not is_prefix("b", "abc")


        def test_empty_word_is_no_prefix():
            assert not is_prefix("", "abc")
        """,
}


def test_a_guard_clause_fix_is_kept(make_repo: MakeRepo) -> None:
    root = make_repo(PREFIX)
    guarded = (
        "def is_prefix(word, text):\n    if not word:\n        return False\n"
        "    return text.startswith(word)\n"
    )
    result = run_repair(root, FixedEngine([("guard clause", {"words.py": guarded})]))
    assert result.status is RunStatus.FIXED, (result.reason, result.rounds)
    assert result.fixed_tests == ("tests/test_words.py::test_empty_word_is_no_prefix",)


WIDTH = {
    "width.py": """
        import sys


        def width(text):
            if sys.version_info < (3, 8):
                return len(text.encode("utf-8"))
            return len(text.encode("utf-8"))


        def untested(text):
            return text
        """,
    "tests/test_width.py": """
        from width import width


        def test_ascii():
            assert width("ab") == 2


        def test_accent():
            assert width("é") == 1
        """,
}


def test_a_fix_with_a_line_for_another_python_version_is_kept(make_repo: MakeRepo) -> None:
    root = make_repo(WIDTH)
    source = textwrap.dedent(WIDTH["width.py"]).lstrip("\\n")
    fixed = source.replace('len(text.encode("utf-8"))', "len(text)")
    result = run_repair(root, FixedEngine([("both branches", {"width.py": fixed})]))
    assert result.status is RunStatus.FIXED, (result.reason, result.rounds)
    gates = {g["name"]: g for g in result.extra["gates"]}  # type: ignore[attr-defined]
    assert gates["coverage of changed lines"]["status"] == "passed"
    assert "version or platform check" in str(gates["coverage of changed lines"]["detail"])


def test_a_changed_line_no_test_runs_is_a_doubt_not_a_rejection(make_repo: MakeRepo) -> None:
    root = make_repo(WIDTH)
    source = textwrap.dedent(WIDTH["width.py"]).lstrip("\\n")
    fixed = source.replace(
        '        return len(text.encode("utf-8"))\n    return len(text.encode("utf-8"))',
        '        return len(text.encode("utf-8"))\n    return len(text)',
    ).replace("    return text\n", "    return text.strip()\n")
    result = run_repair(root, FixedEngine([("fix and touch untested", {"width.py": fixed})]))
    assert result.status is RunStatus.FIXED, (result.reason, result.rounds)
    gates = {g["name"]: g for g in result.extra["gates"]}  # type: ignore[attr-defined]
    assert gates["coverage of changed lines"]["status"] == "doubt"
    assert any("coverage of changed lines" in w and "doubt" in w for w in result.warnings)


# A helper shared by three test files; the user selects the one whose test fails.
SHARED_HELPER = {
    "textutil.py": """
        def slug(text):
            return text.strip().replace(" ", "_")
        """,
    "report.py": """
        from textutil import slug


        def title_slug(title):
            return slug(title)
        """,
    "tests/test_slug.py": """
        from textutil import slug


        def test_spaces_collapse():
            assert slug("a  b") == "a_b"
        """,
    "tests/test_report.py": """
        from report import title_slug


        def test_title_keeps_case():
            assert title_slug(" A b ") == "A_b"
        """,
    "tests/test_plain.py": """
        def test_unrelated():
            assert True
        """,
}
HELPER = textwrap.dedent(SHARED_HELPER["textutil.py"]).lstrip("\n")
OLD_BODY = 'text.strip().replace(" ", "_")'


def test_a_patch_that_breaks_tests_outside_the_selection_is_rejected(
    make_repo: MakeRepo,
) -> None:
    root = make_repo(SHARED_HELPER)
    breaking = HELPER.replace(OLD_BODY, '"_".join(text.lower().split())')
    result = run_repair(
        root,
        FixedEngine([("lower-cases for everyone", {"textutil.py": breaking})]),
        pytest_args=("tests/test_slug.py",),
    )
    assert result.status is RunStatus.NOT_FIXED, result.reason
    assert [r.commit for r in result.rounds] == [None]
    assert "tests/test_report.py::test_title_keeps_case" in result.rounds[0].reason


def test_a_kept_patch_says_what_proved_it(make_repo: MakeRepo, tmp_path: Path) -> None:
    root = make_repo(SHARED_HELPER)
    general = HELPER.replace(OLD_BODY, '"_".join(text.split())')
    result = run_repair(
        root,
        FixedEngine([("collapses spaces", {"textutil.py": general})]),
        pytest_args=("tests/test_slug.py",),
    )
    assert result.status is RunStatus.FIXED, result.reason
    (kept,) = [r for r in result.rounds if r.commit]
    assert kept.proved_by == "whole suite (3 tests)"
    assert set(kept.exercised_by) == {
        "tests/test_slug.py::test_spaces_collapse",
        "tests/test_report.py::test_title_keeps_case",
    }
    assert branch_passes_plain_pytest(root, result.branch, tmp_path)
    # the JSON and the pull request body say it too
    (stored,) = [r for r in result_to_json(result)["rounds"] if r["commit"]]
    assert stored["proved_by"] == "whole suite (3 tests)"
    assert "tests/test_report.py::test_title_keeps_case" in stored["exercised_by"]
    body = pull_request_body(result, ReportContext(label="issue #1"))
    assert "proved by: whole suite (3 tests)" in body
    assert "tests that run the changed lines:" in body and "test_title_keeps_case" in body


def test_the_import_graph_finds_the_tests_that_reach_a_changed_module() -> None:
    sources = {path: textwrap.dedent(text) for path, text in SHARED_HELPER.items()}
    code = {p: t for p, t in sources.items() if not p.startswith("tests/")}
    tests = {p: t for p, t in sources.items() if p.startswith("tests/")}
    assert importers(["textutil.py"], tests, code) == ["tests/test_report.py", "tests/test_slug.py"]
    assert importers(["report.py"], tests, code) == ["tests/test_report.py"]


def test_without_time_for_the_whole_suite_the_importers_prove_the_patch(
    make_repo: MakeRepo,
) -> None:
    root = make_repo(SHARED_HELPER)
    sources = {path: textwrap.dedent(text).lstrip("\n") for path, text in SHARED_HELPER.items()}
    code = {p: t for p, t in sources.items() if not p.startswith("tests/")}
    tests = {p: t for p, t in sources.items() if p.startswith("tests/")}
    runner = TestRunner(LocalSandbox(), root, root, ("tests/test_slug.py",), autoload=False)
    try:
        reach = Reach(runner, whole_suite_too_slow=True)
        base = git(root, "rev-parse", "HEAD").strip()
        wider = reach.wider(
            base, ["textutil.py"], tests, code, per_test_timeout=5.0, deadline=time.monotonic() + 60
        )
        assert wider is not None and wider.mode == "importers"
        assert wider.arguments == ("tests/test_report.py", "tests/test_slug.py")
        assert sorted(wider.base.passing) == ["tests/test_report.py::test_title_keeps_case"]
        assert wider.describe(1) == (
            "2 tests that import the changed code + the selection (1 tests)"
        )
        # the patched tree breaks the other file's test
        (root / "textutil.py").write_text(
            code["textutil.py"].replace(OLD_BODY, '"_".join(text.lower().split())')
        )
        after = runner.run(list(wider.arguments), timeout=60, per_test_timeout=5.0, selection=False)
        assert reach.regressions(wider, after) == ["tests/test_report.py::test_title_keeps_case"]
    finally:
        runner.close()


def test_a_selection_of_a_file_pytest_would_not_find_is_the_whole_proof(
    make_repo: MakeRepo,
) -> None:
    """`-- test.py`: pytest's own discovery finds no test (the file's name does not match
    test_*.py), so there is no wider suite; the proof names the selection, not an empty
    "whole suite"."""
    helper = {
        "textutil.py": SHARED_HELPER["textutil.py"],
        "test.py": SHARED_HELPER["tests/test_slug.py"],
    }
    root = make_repo(helper)
    general = HELPER.replace(OLD_BODY, '"_".join(text.split())')
    result = run_repair(
        root,
        FixedEngine([("collapses spaces", {"textutil.py": general})]),
        pytest_args=("test.py",),
    )
    assert result.status is RunStatus.FIXED, result.reason
    (kept,) = [r for r in result.rounds if r.commit]
    assert kept.proved_by.startswith("the selection (1 tests)"), kept.proved_by


def test_many_order_dependent_tests_are_counted_not_listed_one_by_one(
    make_repo: MakeRepo,
) -> None:
    from test_gates_flow import Stages

    class Notes(Stages):
        def __init__(self) -> None:
            super().__init__()
            self.notes: list[str] = []

        def note(self, message: str) -> None:
            self.notes.append(message)

    files = dict(SHARED_STATE)
    files["tests/test_order.py"] = textwrap.dedent(files["tests/test_order.py"]) + "".join(
        f"\n\ndef test_d{n}_uses_prepared_state():\n    assert settings.is_ready()\n"
        for n in range(6)
    )
    root = make_repo(files)
    source = textwrap.dedent(SHARED_STATE["settings.py"]).lstrip("\n")
    progress = Notes()
    result = run_repair(
        root,
        FixedEngine([("doubles", {"settings.py": source.replace("x + 2", "x * 2")})]),
        progress,
    )
    assert result.status is RunStatus.FIXED, result.reason
    named = [n for n in progress.notes if n.startswith("order-dependent test left out")]
    assert len(named) == 5
    assert "... and 2 more flaky or order-dependent tests left out" in " ".join(progress.notes)
    assert len(result.extra["flaky"]) == 7  # type: ignore[arg-type]
