"""What a run may claim: "fixed" and "nothing to fix" agree with plain pytest, a regression
is never excused as order-dependence or flakiness, and a run that is not fixed offers nothing
to merge. Real git repositories, real pytest runs; an engine that proposes given patches
stands in at the engine port where a test needs a particular patch."""

from __future__ import annotations

import subprocess
import sys
import textwrap
from collections.abc import Callable
from pathlib import Path

from conftest import CliResult, git
from test_gates_flow import FixedEngine, run_repair

from bot.models import RunStatus

RunCli = Callable[..., CliResult]
MakeRepo = Callable[..., Path]


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
