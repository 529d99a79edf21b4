"""The time budget is a wall-clock bound on the whole run, consulted by every wait.

The bound is a correctness property (a pre-commit hook that blocks ``git commit`` three times
longer than it was told to is broken), so these tests check it with a generous grace; speed
itself is measured by ``mendbot bench``.
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

from bot.deadline import BoundedSandbox, Deadline, bounded
from bot.sandbox.base import PYTHON_PLACEHOLDER, SandboxCommand
from bot.sandbox.local import LocalSandbox

GRACE = 6.0  # bookkeeping after the deadline (result, run record, worktree removal)

ADD = {
    "calc.py": """
        def add(a, b):
            return a - b
        """,
    "tests/test_calc.py": """
        from calc import add


        def test_add():
            assert add(2, 3) == 5
        """,
}


def test_bounded_sandbox_cuts_a_command_at_the_deadline(tmp_path: Path) -> None:
    (tmp_path / "results").mkdir()
    (tmp_path / "support").mkdir()
    deadline = Deadline.start(1.5)
    sandbox = bounded(LocalSandbox(sys.executable), deadline)
    assert isinstance(sandbox, BoundedSandbox)
    assert bounded(sandbox, deadline) is sandbox  # wrapped once
    command = SandboxCommand(
        argv=[PYTHON_PLACEHOLDER, "-c", "import time; time.sleep(60)"],
        root=tmp_path,
        workdir=tmp_path,
        result_dir=tmp_path / "results",
        support_dir=tmp_path / "support",
        timeout=60.0,  # what the caller asked for; the deadline wins
    )
    started = time.monotonic()
    result = sandbox.run(command)
    assert result.timed_out
    assert time.monotonic() - started < 1.5 + GRACE
    # past the deadline a command still gets a moment to report, never the time it asked for
    late = sandbox.run(command)
    assert late.timed_out


def test_deadline_arithmetic() -> None:
    deadline = Deadline.start(100.0)
    assert 99.0 < deadline.remaining() <= 100.0
    assert deadline.limit(5.0) == 5.0
    assert deadline.limit() <= 100.0
    assert deadline.fits(50.0) and not deadline.fits(101.0)
    assert not deadline.expired()
    assert Deadline.start(0.0).expired()
    assert Deadline.unbounded().fits(1e12)


def test_a_proof_cut_by_the_budget_proves_nothing_and_is_not_a_regression(
    make_repo, run_cli
) -> None:
    """The fix is found at once, but with it in place the test session takes longer to start
    than the budget has left (a conftest that reads the code): the proof is cut at the
    deadline, the run ends within the budget, and the cut is reported as the budget's doing,
    never as a broken test."""
    repo = make_repo(
        {
            **ADD,
            "tests/conftest.py": """
                import time
                from pathlib import Path

                if "a + b" in (Path(__file__).parent.parent / "calc.py").read_text():
                    time.sleep(120)  # slow to collect only once the fix is in
                """,
        }
    )
    budget = 20.0
    started = time.monotonic()
    result = run_cli("fix", ".", "--json", f"--time-budget={budget:g}", cwd=repo)
    wall = time.monotonic() - started
    assert result.code == 1, result.stderr
    data = result.json()
    assert data["status"] == "not_fixed"
    assert "time budget" in data["reason"]
    rolled_back = [r for r in data["rounds"] if not r.get("commit")]
    assert all("breaks" not in r["reason"] for r in rolled_back)
    if rolled_back:  # a proof started (it did not, on a machine too slow to leave room)
        assert any("did not finish before the time budget" in r["reason"] for r in rolled_back)
    assert wall < budget + GRACE + 3.0  # + interpreter start-up of the CLI itself


def test_no_proof_is_started_that_cannot_finish(make_repo, run_cli) -> None:
    """A suite that takes most of the budget: mendbot says it has no time left to prove a
    candidate instead of starting a proof past the deadline."""
    repo = make_repo(
        {
            **ADD,
            "tests/test_slow.py": """
                import time


                def test_slow():
                    time.sleep(4)
                """,
        }
    )
    budget = 9.0
    started = time.monotonic()
    result = run_cli("fix", ".", "--json", f"--time-budget={budget:g}", cwd=repo)
    wall = time.monotonic() - started
    data = result.json()
    assert data["status"] == "not_fixed", data
    assert "time budget" in data["reason"]
    assert not [r for r in data["rounds"] if r.get("commit")]
    assert wall < budget + GRACE + 3.0
