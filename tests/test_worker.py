"""The persistent screening worker: one start-up per tree, batch after batch; a new worker
when the tree changes; gone when mendbot closes it or dies. Plus the runs that lean on it:
the reversed flakiness run in one of its children, and the final runs on a copy of the
committed tree beside the proof run. Real repositories, real pytest, real processes."""

from __future__ import annotations

import contextlib
import os
import signal
import subprocess
import sys
import textwrap
import time
from collections.abc import Callable
from pathlib import Path

from conftest import git
from test_screening import CALC, TESTS, Everything, candidates, workspace_of

from bot.gates.flaky import FinalRunsJob
from bot.models import Outcome
from bot.sandbox.local import LocalSandbox
from bot.testing.runner import TestRunner, relative_coverage
from bot.validate import Validator
from bot.workspace import tree_id

ROOT = Path(__file__).resolve().parents[1]


def serving(folder: Path) -> list[int]:
    """Host pids of processes running a worker that serves ``folder``."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if f"--mendbot-serve={folder}" in command and "pytest" in command:
            found.append(int(entry.name))
    return found


def wait_until_gone(folder: Path, seconds: float = 20.0) -> list[int]:
    deadline = time.monotonic() + seconds
    while serving(folder) and time.monotonic() < deadline:
        time.sleep(0.05)
    return serving(folder)


def test_one_worker_screens_every_batch_of_a_tree(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"calc.py": CALC, "tests/test_calc.py": TESTS})
    workspace = workspace_of(root)
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        baseline = runner.run(timeout=60, per_test_timeout=5)
        selection = Everything(baseline.failing, baseline.passing)
        validator = Validator(runner, workspace, "fast", workers=2, test_timeout=5)
        first = validator.screen(candidates(), selection, baseline, stop_at_first=False)
        worker = runner.worker
        assert worker is not None and worker.alive and worker.tag == tree_id(workspace)
        second = validator.screen(candidates(), selection, baseline, stop_at_first=False)
        # the same worker, the same verdicts: what the bad candidates did in the first batch
        # (exit, loop, pollute globals, kill their parent, write files) did not carry over
        assert runner.worker is worker and worker.batches == 2 and runner.worker_starts == 1
        assert [v.accepted if v else None for v in first] == [
            v.accepted if v else None for v in second
        ]
        assert first[-1] is not None and first[-1].accepted
        assert not any(v is not None and v.accepted for v in first[:-1])
        folder = worker.folder
        assert serving(folder)

        # a new tree gets a new worker, and the old one goes away
        (root / "calc.py").write_text(CALC.replace("LIMIT = 10", "LIMIT = 10  # limit"))
        git(root, "commit", "-q", "-am", "comment")
        validator.screen(candidates()[-1:], selection, baseline, stop_at_first=False)
        assert runner.worker is not None and runner.worker is not worker
        assert runner.worker_starts == 2
        assert wait_until_gone(folder) == []
        newer = runner.worker.folder
    finally:
        runner.close()
    assert wait_until_gone(newer) == []


def test_a_dead_worker_is_replaced(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"calc.py": CALC, "tests/test_calc.py": TESTS})
    workspace = workspace_of(root)
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        baseline = runner.run(timeout=60, per_test_timeout=5)
        selection = Everything(baseline.failing, baseline.passing)
        validator = Validator(runner, workspace, "fast", workers=2, test_timeout=5)
        validator.screen(candidates()[-1:], selection, baseline, stop_at_first=False)
        worker = runner.worker
        assert worker is not None
        for pid in serving(worker.folder):
            with contextlib.suppress(ProcessLookupError):  # a child may have ended meanwhile
                os.kill(pid, signal.SIGKILL)
        assert wait_until_gone(worker.folder) == []
        verdicts = validator.screen(candidates()[-1:], selection, baseline, stop_at_first=False)
        assert verdicts[0] is not None and verdicts[0].accepted
        assert runner.worker is not worker and runner.worker_starts == 2
    finally:
        runner.close()


def test_the_worker_ends_when_mendbot_dies(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"calc.py": CALC, "tests/test_calc.py": TESTS})
    script = textwrap.dedent(
        f"""
        import sys, time
        from pathlib import Path
        from bot.sandbox.local import LocalSandbox
        from bot.testing.runner import TestRunner, relative_coverage
        root = Path({str(root)!r})
        runner = TestRunner(LocalSandbox(), root, root, autoload=False)
        worker = runner.warm("tree")
        assert worker is not None and worker.wait_ready(60)
        print(worker.folder, flush=True)
        time.sleep(600)
        """
    )
    process = subprocess.Popen(
        [sys.executable, "-c", script], cwd=ROOT, stdout=subprocess.PIPE, text=True
    )
    try:
        assert process.stdout is not None
        folder = Path(process.stdout.readline().strip())
        assert serving(folder), "the worker should be running"
        process.kill()  # no chance to clean up: only the closed pipe tells the worker
        process.wait()
        assert wait_until_gone(folder) == []
    finally:
        if process.poll() is None:
            process.kill()


ORDERED = """
import shared


def test_a_prepare():
    shared.state.append(1)


def test_b_needs_prepared():
    assert shared.state == [1]


def test_c_fails():
    assert 1 == 2
"""


def test_the_reversed_run_is_a_child_of_the_worker(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"shared.py": "state = []\n", "tests/test_order.py": ORDERED})
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        baseline = runner.run(timeout=60, per_test_timeout=5)
        assert baseline.failing == ("tests/test_order.py::test_c_fails",)
        order = [r.nodeid for r in reversed(baseline.results)]
        run = runner.run_forked(order, tag="t", per_test_timeout=5, timeout=30)
        assert run is not None
        assert [r.nodeid for r in run.results] == order
        outcomes = {r.nodeid.rsplit("::", 1)[1]: r.outcome for r in run.results}
        assert outcomes == {
            "test_c_fails": Outcome.FAILED,
            "test_b_needs_prepared": Outcome.FAILED,  # run before the test that prepares
            "test_a_prepare": Outcome.PASSED,
        }
        # in the original order, from the same collected state, it passes again
        again = runner.run_forked(order[::-1], tag="t", per_test_timeout=5, timeout=30)
        assert again is not None
        assert {r.nodeid: r.outcome for r in again.results}[order[1]] is Outcome.PASSED
        assert runner.worker_starts == 1
        # a node id the worker never collected is reported as not run
        missing = runner.run_forked(
            ["tests/test_order.py::test_nope"], tag="t", per_test_timeout=5, timeout=30
        )
        assert missing is not None and missing.results[0].outcome is Outcome.NOT_RUN
    finally:
        runner.close()


SLOW = """
import time


def test_slow():
    time.sleep(60)
"""


def test_cancelled_final_runs_leave_nothing_behind(make_repo: Callable[..., Path]) -> None:
    root = make_repo({"slow.py": "", "tests/test_slow.py": SLOW})
    head = git(root, "rev-parse", "HEAD").strip()
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        job = FinalRunsJob(
            runner, head, "", 1, (), per_test_timeout=120, deadline=time.monotonic() + 300
        )
        deadline = time.monotonic() + 30
        while (job.runner is None or not job.runner._live) and time.monotonic() < deadline:
            time.sleep(0.05)
        assert job.runner is not None and job.runner._live, "the final run should have started"
        copy = job.runner.root
        assert (copy / "tests" / "test_slow.py").read_text() == (
            root / "tests" / "test_slow.py"
        ).read_text()
        assert (copy / ".git").is_file()  # a checkout of the commit, as the baseline's tree
        job.cancel()
        assert all(process.poll() is not None for process in job.runner._live)
        assert not copy.exists()
        assert git(root, "worktree", "list").count("\n") == 1
        # the worktree itself was never touched
        assert git(root, "status", "--porcelain") == ""
    finally:
        runner.close()


def test_final_runs_report_a_failure_from_the_copy(make_repo: Callable[..., Path]) -> None:
    failing = "def test_fails():\n    assert False, 'broken in every copy'\n"
    root = make_repo({"m.py": "", "tests/test_m.py": failing})
    head = git(root, "rev-parse", "HEAD").strip()
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        job = FinalRunsJob(
            runner, head, "", 2, (), per_test_timeout=10, deadline=time.monotonic() + 120
        )
        gate = job.result()
        assert gate.status == "failed"
        assert gate.detail.startswith("run 1 of 2 failed: tests/test_m.py::test_fails")
        excluded = FinalRunsJob(
            runner,
            head,
            "",
            1,
            ("tests/test_m.py::test_fails",),
            per_test_timeout=10,
            deadline=time.monotonic() + 120,
        ).result()
        assert excluded.status == "passed"
    finally:
        runner.close()


COVERED = {
    "shop.py": """
def price(amount, member):
    if member:
        return amount * 0.9
    return amount


def label(amount):
    if amount > 100:
        return "big"
    return "small"
""",
    "tests/conftest.py": """
import pytest


@pytest.fixture
def base():
    value = 50
    return value
""",
    "tests/test_shop.py": """
from shop import label, price


def test_member(base):
    assert price(base, True) == 45


def test_plain():
    assert price(10, False) == 10


def test_label_fails():
    assert label(150) == "huge"
""",
}


def pytest_cov_contexts(root: Path, data: Path) -> dict[str, dict[str, frozenset[int]]]:
    """Per-test coverage as pytest-cov records it (--cov-context=test): the reference."""
    from coverage import CoverageData

    subprocess.run(
        [
            *(sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "pytest_cov"),
            *("--cov=.", "--cov-context=test", "--cov-report="),
        ],
        cwd=root,
        env={**os.environ, "COVERAGE_FILE": str(data), "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        check=False,
    )
    found = CoverageData(basename=str(data))
    found.read()
    by_context: dict[str, dict[str, list[int]]] = {}
    for measured in found.measured_files():
        for line, contexts in found.contexts_by_lineno(measured).items():
            for context in contexts:
                if context:
                    by_context.setdefault(context, {}).setdefault(measured, []).append(line)
    return relative_coverage(by_context, root)


def test_mendbot_coverage_matches_pytest_cov(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_repo(COVERED)
    reference = pytest_cov_contexts(root, tmp_path / "reference.coverage")
    assert len(reference) == 3
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        # an ordinary run measured by mendbot's plugin
        measured = runner.run(timeout=60, per_test_timeout=5, coverage=True)
        assert measured.has_coverage
        assert {k: dict(v) for k, v in measured.coverage.items()} == {
            k: dict(v) for k, v in reference.items()
        }
        nodeids = [r.nodeid for r in measured.results]
        forked = runner.run_forked(nodeids, tag="t", per_test_timeout=5, timeout=30, coverage=True)
        assert forked is not None and forked.has_coverage
        assert {k: dict(v) for k, v in forked.coverage.items()} == {
            k: dict(v) for k, v in measured.coverage.items()
        }
        # the lines of the member branch belong to test_member only
        member = forked.coverage["tests/test_shop.py::test_member"]["shop.py"]
        plain = forked.coverage["tests/test_shop.py::test_plain"]["shop.py"]
        assert 3 in member and 3 not in plain and 4 in plain
        # reversed, each test still covers what it runs
        backwards = runner.run_forked(
            nodeids[::-1], tag="t", per_test_timeout=5, timeout=30, coverage=True
        )
        assert backwards is not None
        assert dict(backwards.coverage) == dict(forked.coverage)
        # without coverage asked for, none is recorded
        plain_run = runner.run_forked(nodeids, tag="t", per_test_timeout=5, timeout=30)
        assert plain_run is not None and not plain_run.has_coverage and not plain_run.coverage
    finally:
        runner.close()


def test_mendbot_coverage_under_xdist_merges_the_workers(
    make_repo: Callable[..., Path], tmp_path: Path
) -> None:
    root = make_repo(COVERED)
    reference = pytest_cov_contexts(root, tmp_path / "reference.coverage")
    runner = TestRunner(
        LocalSandbox(), root, root, pytest_args=("-p", "xdist", "-n", "2"), autoload=False
    )
    try:
        measured = runner.run(timeout=120, per_test_timeout=10, coverage=True)
        assert len(measured.results) == 3 and measured.has_coverage
        assert {k: dict(v) for k, v in measured.coverage.items()} == {
            k: dict(v) for k, v in reference.items()
        }
    finally:
        runner.close()
