"""Telling flaky failures from real ones with real pytest runs in the sandbox."""

from __future__ import annotations

import textwrap
import time
from pathlib import Path

from bot.gates.flaky import Flakiness, detect, mask, option_arguments
from bot.models import Outcome, TestResult, TestRun
from bot.sandbox.registry import make_sandbox
from bot.testing.runner import TestRunner

SUITE = {
    "tests/test_suite.py": """
        from pathlib import Path

        COUNT = Path(__file__).with_name("runs.count")


        def test_third_time_lucky():
            runs = int(COUNT.read_text()) if COUNT.exists() else 0
            COUNT.write_text(str(runs + 1))
            assert runs >= 2, f"run {runs + 1}"


        def test_really_broken():
            assert 1 + 1 == 3


        def test_fine():
            assert True
        """,
}


def runner_for(tmp_path: Path, files: dict[str, str]) -> TestRunner:
    root = tmp_path / "project"
    for name, text in files.items():
        (root / name).parent.mkdir(parents=True, exist_ok=True)
        (root / name).write_text(textwrap.dedent(text).lstrip())
    return TestRunner(make_sandbox("local"), root, root, autoload=False)


def test_options_are_kept_and_selections_dropped(tmp_path: Path) -> None:
    (tmp_path / "tests").mkdir()
    arguments = ["-x", "tests", "-k", "fast", "tests/test_a.py::test_b", "--maxfail=2"]
    assert option_arguments(arguments, tmp_path) == ["-x", "-k", "fast", "--maxfail=2"]


def test_mask_drops_results_and_coverage() -> None:
    run = TestRun(
        results=(TestResult("a", Outcome.FAILED), TestResult("b", Outcome.PASSED)),
        coverage={"a": {"x.py": frozenset({1})}, "b": {"x.py": frozenset({2})}},
    )
    masked = mask(run, {"a"})
    assert masked.green and [r.nodeid for r in masked.results] == ["b"]
    assert set(masked.coverage) == {"b"}
    assert mask(run, ()) is run


def test_more_reruns_find_a_test_that_passes_on_the_third_run(tmp_path: Path) -> None:
    runner = runner_for(tmp_path, SUITE)
    try:
        baseline = runner.run(timeout=60)
        assert set(baseline.failing) == {
            "tests/test_suite.py::test_third_time_lucky",
            "tests/test_suite.py::test_really_broken",
        }
        found = detect(
            runner,
            baseline,
            reruns=2,
            per_test_timeout=5.0,
            deadline=time.monotonic() + 120,
        )
    finally:
        runner.close()
    assert found.flaky == ("tests/test_suite.py::test_third_time_lucky",)
    assert found.detail["tests/test_suite.py::test_third_time_lucky"] == (
        "failed at base, passed on re-run 2"
    )
    assert found.order_dependent == () and found.reruns == 2 and found.reordered
    gate = found.gate()
    assert gate.status.value == "passed"
    assert "failing tests re-run 2x, whole suite re-run in reverse order" in gate.detail
    assert "1 flaky (not repaired)" in gate.detail


def test_one_rerun_is_not_enough_for_that_test(tmp_path: Path) -> None:
    runner = runner_for(tmp_path, SUITE)
    try:
        baseline = runner.run(timeout=60)
        found = detect(
            runner, baseline, reruns=1, per_test_timeout=5.0, deadline=time.monotonic() + 120
        )
    finally:
        runner.close()
    assert found.flaky == () and found.reruns == 1


def test_no_reruns_means_the_check_did_not_run(tmp_path: Path) -> None:
    runner = runner_for(tmp_path, SUITE)
    try:
        baseline = TestRun(results=(TestResult("tests/test_suite.py::x", Outcome.FAILED),))
        found = detect(runner, baseline, reruns=0, per_test_timeout=1.0, deadline=0.0)
        assert runner.runs == 0  # nothing ran
    finally:
        runner.close()
    assert found == Flakiness(skipped_because="turned off (flaky-reruns = 0)")
    gate = found.gate()
    assert gate.status.value == "not_run"
    assert gate.detail == "not run: turned off (flaky-reruns = 0)"
