"""Flaky tests: told apart from real failures before repairing, and final runs after it.

Before any repair, the whole suite runs once more with the test order reversed (the node ids
go to mendbot's plugin in a file, never on the command line, so the user's own arguments stay
whole whatever the ids look like). Where the screening worker runs, that run is one
of its children: it starts from the freshly collected suite, as a new pytest process would,
without paying the start-up again. That run is also the first re-run of every failing
test: a failing test that passes in it is flaky (or depends on the order), so it is not a
target, and no patch is credited with "fixing" it. With ``flaky_reruns`` above 1 the failing
tests run again on their own as many more times.

Flakiness and order-dependence may explain a failure at base; they never excuse a failure a
patch brings. A test that passed at base in the normal order and fails in the reversed run
depends on the order of tests: it is reported, and screening (which runs tests in an order of
its own) does not judge candidates by it, but the proof and the final runs run the suite in
the normal order, where it must pass as it did at base. Only tests that failed at base and
passed again (``excluded``) are left out of the comparison. A test that ran out of time in the
reversed run is slow, not order-dependent.

A test that hit the per-test time limit at base is not re-run: a hang is seldom flaky, and
waiting the limit out again would double what a hang costs.

After repair, the final patch must pass the full suite ``final_runs`` more times.
"""

from __future__ import annotations

import dataclasses
import threading
import time
from collections.abc import Collection, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.gates.base import GateResult, failed, not_run, passed
from bot.models import Outcome, TestRun
from bot.testing.runner import TestRunner


@dataclass(frozen=True)
class Flakiness:
    flaky: tuple[str, ...] = ()  # failed at base, passed when run again
    order_dependent: tuple[str, ...] = ()  # passed at base, failed in the reversed order
    not_rerun: tuple[str, ...] = ()  # timed out at base
    reruns: int = 0  # how many times the failing tests ran again
    reordered: bool = False
    detail: dict[str, str] = field(default_factory=dict)
    skipped_because: str = ""  # why no detection ran
    reversed_run: TestRun | None = field(default=None, compare=False, repr=False)

    @property
    def excluded(self) -> frozenset[str]:
        """Tests left out of every comparison: they failed at base and passed again."""
        return frozenset(self.flaky)

    @property
    def unreliable_guards(self) -> frozenset[str]:
        """Tests screening does not judge a candidate by: the flaky ones, and those whose
        outcome depends on the order (screening runs tests in an order of its own)."""
        return frozenset(self.flaky) | frozenset(self.order_dependent)

    def to_json(self) -> list[dict[str, str]]:
        return [
            {"test": test, "kind": "flaky", "detail": self.detail.get(test, "")}
            for test in self.flaky
        ] + [
            {"test": test, "kind": "order-dependent", "detail": self.detail.get(test, "")}
            for test in self.order_dependent
        ]

    def gate(self) -> GateResult:
        name = "flaky tests"
        if self.skipped_because:
            return not_run(name, self.skipped_because)
        ran = f"failing tests re-run {self.reruns}x" + (
            ", whole suite re-run in reverse order" if self.reordered else ""
        )
        found = []
        if self.flaky:
            found.append(f"{len(self.flaky)} flaky (not repaired): {', '.join(self.flaky[:5])}")
        if self.order_dependent:
            found.append(
                f"{len(self.order_dependent)} order-dependent (must still pass in the normal "
                f"order): {', '.join(self.order_dependent[:5])}"
            )
        if self.not_rerun:
            found.append(f"{len(self.not_rerun)} timed out at base, not re-run")
        return passed(name, f"{ran}; " + ("; ".join(found) if found else "none found"))


def mask(run: TestRun, excluded: Collection[str]) -> TestRun:
    """The run without the excluded tests' results and coverage."""
    if not excluded:
        return run
    return dataclasses.replace(
        run,
        results=tuple(r for r in run.results if r.nodeid not in excluded),
        coverage={k: v for k, v in run.coverage.items() if k not in excluded},
    )


# pytest's own options that take their value as the next argument
VALUE_OPTIONS = frozenset(
    {
        "-k",
        "-m",
        "-p",
        "-c",
        "-o",
        "-W",
        "-r",
        "--deselect",
        "--ignore",
        "--ignore-glob",
        "--rootdir",
        "--confcutdir",
        "--basetemp",
        "--maxfail",
        "--tb",
        "--durations",
        "--durations-min",
        "--import-mode",
        "--override-ini",
        "--pythonwarnings",
        "--capture",
        "--log-level",
        "--log-cli-level",
        "--log-file",
        "--log-format",
        "--junitxml",
        "--junit-xml",
        "--junit-prefix",
        "--cov",
        "--cov-report",
        "--cov-config",
        "--cov-fail-under",
        "--dist",
        "--numprocesses",
        "-n",
        "--timeout",
        "--inifile",
        "--config-file",
        "--doctest-glob",
    }
)


def option_arguments(pytest_args: Sequence[str], project_dir: Path) -> list[str]:
    """The pytest arguments that are options, not test selections.

    With explicit node ids on the command line, a selected file or folder would make pytest
    run in file order again, so selections are left out and options are kept.
    """
    kept: list[str] = []
    value_of_option = False
    for argument in pytest_args:
        if value_of_option:  # ``--deselect tests/a.py::t``: the value goes with its option
            kept.append(argument)
            value_of_option = False
            continue
        if argument.startswith("-"):
            kept.append(argument)
            value_of_option = argument in VALUE_OPTIONS
            continue
        target = argument.split("::", 1)[0]
        if "::" in argument or (project_dir / target).exists():
            continue
        kept.append(argument)
    return kept


def detect(
    runner: TestRunner,
    baseline: TestRun,
    *,
    reruns: int,
    per_test_timeout: float,
    deadline: float,
    worker_tag: str | None = None,
    coverage: bool = False,
) -> Flakiness:
    """Re-run the failing tests and the suite in reverse order; classify what changed.

    With ``worker_tag``, the reversed run is a child of the persistent screening worker for
    that tree where there is one (see ``TestRunner.run_forked``); with ``coverage`` as well,
    that child records per-test coverage (kept in ``reversed_run``)."""
    if reruns < 1:
        return Flakiness(skipped_because="turned off (flaky-reruns = 0)")
    by_id = baseline.by_id()
    timed_out = tuple(r.nodeid for r in baseline.results if r.outcome is Outcome.TIMEOUT)
    failing = [n for n in baseline.failing if n not in timed_out]
    if not failing and not baseline.passing:
        return Flakiness(not_rerun=timed_out, skipped_because="no test to re-run")
    order = [r.nodeid for r in reversed(baseline.results) if r.nodeid not in timed_out]
    remaining = max(10.0, deadline - time.monotonic())
    reversed_run = None
    if worker_tag is not None:
        reversed_run = runner.run_forked(
            order,
            tag=worker_tag,
            per_test_timeout=per_test_timeout,
            timeout=remaining,
            coverage=coverage,
        )
    if reversed_run is None:
        reversed_run = runner.run(order=order, timeout=remaining, per_test_timeout=per_test_timeout)
    flaky: list[str] = []
    dependent: list[str] = []
    detail: dict[str, str] = {}
    again = reversed_run.by_id()
    for nodeid in failing:
        if nodeid in again and again[nodeid].outcome is Outcome.PASSED:
            flaky.append(nodeid)
            detail[nodeid] = (
                f"{by_id[nodeid].outcome.value} at base, passed when the suite ran again "
                "in reverse order"
            )
    for nodeid in baseline.passing:
        # a test that ran out of time is slow: slowness is not a dependence on order
        if nodeid in again and again[nodeid].outcome in (Outcome.FAILED, Outcome.ERROR):
            dependent.append(nodeid)
            detail[nodeid] = (
                f"passed at base, {again[nodeid].outcome.value} when the suite ran in reverse "
                f"order: {again[nodeid].message[:150]}"
            )
    still = [n for n in failing if n not in flaky]
    done = 1
    for attempt in range(2, reruns + 1):
        if not still or time.monotonic() > deadline:
            break
        run = runner.run(
            order=still,
            timeout=max(10.0, deadline - time.monotonic()),
            per_test_timeout=per_test_timeout,
        )
        done += 1
        results = run.by_id()
        for nodeid in list(still):
            if nodeid in results and results[nodeid].outcome is Outcome.PASSED:
                flaky.append(nodeid)
                still.remove(nodeid)
                outcome = by_id[nodeid].outcome.value
                detail[nodeid] = f"{outcome} at base, passed on re-run {attempt}"
    return Flakiness(
        flaky=tuple(flaky),
        order_dependent=tuple(dependent),
        not_rerun=timed_out,
        reruns=done,
        reordered=True,
        detail=detail,
        reversed_run=reversed_run,
    )


def confirm(
    runner: TestRunner, found: Flakiness, *, per_test_timeout: float, deadline: float
) -> Flakiness:
    """The flaky tests, run once more by plain pytest: a test that fails there again has
    failed in every plain run, so it is not flaky (whatever another re-run said; a screening
    child and plain pytest must agree, and plain pytest is what the user runs)."""
    if not found.flaky:
        return found
    run = runner.run(
        order=found.flaky,
        timeout=max(10.0, deadline - time.monotonic()),
        per_test_timeout=per_test_timeout,
    )
    if run.timed_out and not run.results:
        return found
    results = run.by_id()
    failing_again = {
        nodeid for nodeid in found.flaky if nodeid in results and results[nodeid].outcome.is_bad
    }
    if not failing_again:
        return found
    return dataclasses.replace(
        found,
        flaky=tuple(n for n in found.flaky if n not in failing_again),
        detail={k: v for k, v in found.detail.items() if k not in failing_again},
    )


def final_runs(
    runner: TestRunner,
    count: int,
    excluded: Collection[str],
    *,
    per_test_timeout: float,
    deadline: float,
) -> GateResult:
    """Run the whole suite ``count`` more times; every run must pass (flaky tests aside)."""
    name = f"final runs ({count}x)"
    for attempt in range(1, count + 1):
        run = mask(
            runner.run(
                timeout=max(0.0, deadline - time.monotonic()),
                per_test_timeout=per_test_timeout,
            ),
            excluded,
        )
        if not run.green:
            bad = list(run.failing) + [e.path or "collection" for e in run.collection_errors]
            if not bad and run.timed_out:
                # cut by the time budget: it proves nothing either way
                return failed(
                    name,
                    f"run {attempt} of {count} did not finish before the time budget ran out",
                )
            return failed(name, f"run {attempt} of {count} failed: {', '.join(bad[:3])}")
    return passed(name, f"the whole suite passed {count} more time{'s' if count != 1 else ''}")


class FinalRunsJob:
    """The final runs on a second checkout of the committed tree, started beside the proof run.

    They need nothing from the proof run, so on two cores they cost no extra time; a checkout
    of its own (``workspace.checkout``: a detached worktree of the commit, with a ``.git`` as
    the baseline's tree has) keeps the two runs from seeing each other's files. A test that
    changes that checkout's git metadata fails the gate. ``result()`` waits for the verdict;
    ``cancel()`` stops the runs when the proof run already rejected the patch.
    """

    def __init__(
        self,
        runner: TestRunner,
        commit: str,
        project_subdir: str,
        count: int,
        excluded: Collection[str],
        *,
        per_test_timeout: float,
        deadline: float,
    ) -> None:
        from bot.workspace import checkout, tampering_message

        self.runner: TestRunner | None = None
        self._cancelled = False
        self._outcome: GateResult | BaseException | None = None

        def work() -> None:
            try:
                with checkout(runner.root, commit) as (tree, guard):  # the proof need not wait
                    self.runner = TestRunner(
                        runner.sandbox,
                        tree,
                        tree / project_subdir if project_subdir else tree,
                        runner.pytest_args,
                        autoload=runner.autoload,
                        checkout=runner.checkout,
                    )
                    if self._cancelled:
                        self.runner.cancel()
                    try:
                        outcome = final_runs(
                            self.runner,
                            count,
                            excluded,
                            per_test_timeout=per_test_timeout,
                            deadline=deadline,
                        )
                    finally:
                        self.runner.close()
                    changed = guard.check()
                    self._outcome = (
                        failed(f"final runs ({count}x)", tampering_message(changed))
                        if changed
                        else outcome
                    )
            except BaseException as error:  # handed to the caller by result()
                self._outcome = error

        self._thread = threading.Thread(target=work, name="mendbot-final-runs", daemon=True)
        self._thread.start()

    def result(self) -> GateResult:
        self._thread.join()
        if isinstance(self._outcome, BaseException):
            raise self._outcome
        assert self._outcome is not None
        return self._outcome

    def cancel(self) -> None:
        self._cancelled = True
        if self._thread.is_alive():
            if self.runner is not None:
                self.runner.cancel()
            self._thread.join()
