"""Baseline: the selection at the base commit, then (when tests fail) the flakiness check
and the per-test coverage that the analysis and screening need.

The screening worker collects the suite on the other core while the baseline runs. Where
there is one, per-test coverage comes from its flakiness re-run (a child of it, no second
start-up), so the baseline itself runs without coverage."""

from __future__ import annotations

import dataclasses

from bot import workspace as ws
from bot.analysis.dependencies import check_dependencies, sandbox_python
from bot.errors import TestSetupError
from bot.gates import flaky as flaky_gate
from bot.models import TestRun
from bot.stages.context import Run, tampered
from bot.testing.outcomes import run_summary

SHOWN_LEFT_OUT = 5  # flaky or order-dependent tests named on the console; the rest counted


def run_baseline(run: Run) -> TestRun:
    """The baseline run, its flaky and order-dependent tests masked."""
    run.stage("baseline", "running the tests at the base commit")
    tree = ws.tree_id(run.workspace) if run.settings.validation == "fast" else None
    worker = run.runner.warm(tree) if tree is not None else None
    baseline = run.runner.run(
        timeout=run.clock.limit(),
        per_test_timeout=run.settings.test_timeout,
        coverage=worker is None,
    )
    run.state.suite_seconds = baseline.duration
    run.ports.trace.write("baseline", **run_summary(baseline))
    check_dependencies(  # a test dependency that is not installed is a setup problem
        baseline,
        (run.workspace.project_dir, run.workspace.worktree),
        sandbox_python(run.ports.sandbox),
    )
    # the baseline's only wall-clock limit is the budget: a run it stopped is the budget's doing
    run.state.cut_short = baseline.timed_out
    _require_tests(run, baseline)
    if not baseline.green:
        baseline = _without_flaky(run, baseline, tree, measured=worker is not None)
    _require_untampered(run)
    return baseline


def _require_tests(run: Run, baseline: TestRun) -> None:
    if baseline.results or baseline.collection_errors:
        return
    if baseline.timed_out:
        raise TestSetupError(
            "the test run did not finish within the time budget",
            hint="raise --time-budget or select fewer tests",
        )
    raise TestSetupError(
        f"no tests were collected in {run.trigger.repo_path}",
        hint="mendbot repairs code against its pytest tests; add tests or pass pytest "
        "arguments after `--` to select them",
    )


def _without_flaky(run: Run, baseline: TestRun, tree: str | None, *, measured: bool) -> TestRun:
    """Tell flaky and order-dependent tests apart from real failures (``gates/flaky.py``) and
    mask them; ``measured``: the worker's re-run records the per-test coverage."""
    state, settings = run.state, run.settings
    run.stage("flaky", "running the tests again, in reverse order")
    state.flakiness = flaky_gate.detect(
        run.runner,
        baseline,
        reruns=settings.flaky_reruns,
        per_test_timeout=run.test_timeout(baseline),
        deadline=run.clock.at,
        worker_tag=tree,
        coverage=measured,
    )
    state.flakiness = flaky_gate.confirm(
        run.runner,
        state.flakiness,
        per_test_timeout=run.test_timeout(baseline),
        deadline=run.clock.at,
    )
    if measured:
        baseline = _with_coverage(run, baseline, tree)
    run.trust.keeper.excluded = run.trust.reach.excluded = state.excluded
    run.ports.trace.write("flaky", tests=state.flakiness.to_json(), reruns=state.flakiness.reruns)
    found = state.flakiness.to_json()
    for item in found[:SHOWN_LEFT_OUT]:
        run.ports.progress.note(f"{item['kind']} test left out: {item['test']} ({item['detail']})")
    if len(found) > SHOWN_LEFT_OUT:
        run.ports.progress.note(
            f"... and {len(found) - SHOWN_LEFT_OUT} more flaky or order-dependent tests left "
            "out (all of them: --json, extra.flaky, and the run's report)"
        )
    return flaky_gate.mask(baseline, state.excluded)


def _with_coverage(run: Run, baseline: TestRun, tree: str | None) -> TestRun:
    """The baseline with per-test coverage: from the worker's flakiness re-run, else from a
    child of the worker of its own, else from a pytest-cov run."""
    if not baseline.results:  # every test file failed to collect: no test to measure
        return dataclasses.replace(baseline, has_coverage=True)
    measured = run.state.flakiness.reversed_run
    if (measured is None or not measured.has_coverage) and tree is not None:
        measured = run.runner.run_forked(
            [r.nodeid for r in baseline.results],
            tag=tree,
            per_test_timeout=run.test_timeout(baseline),
            timeout=run.clock.limit(),
            coverage=True,
        )
    if measured is None or not measured.has_coverage:
        measured = run.runner.run(
            timeout=run.clock.limit(),
            per_test_timeout=run.settings.test_timeout,
            coverage=True,
        )
    return dataclasses.replace(
        baseline,
        coverage=measured.coverage,
        has_coverage=measured.has_coverage,
        own_coverage=measured.own_coverage,
    )


def _require_untampered(run: Run) -> None:
    changed = tampered(run.state)
    if changed:
        raise TestSetupError(
            f"the test suite of {run.trigger.repo_path} {changed} while mendbot ran it at the "
            "base commit; mendbot stopped",
            hint="tests must not write git's own files (.git, its config, hooks or objects); "
            "mendbot never runs git on what a test wrote",
        )
