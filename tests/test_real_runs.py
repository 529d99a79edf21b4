"""A real run through mendbot's plugin treats the project's objects as a plain pytest run does.

The plugin exempts the objects that exist before the project's first line runs (the
interpreter's, pytest's, coverage.py's) from garbage collection. These tests hold it to the
rest of the promise: the project's own garbage, from conftest import time on, is collected,
finalized and reported exactly as without the plugin. Real repositories, real pytest."""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from pathlib import Path

import pytest

from bot.analysis.classify import failures_of
from bot.analysis.localize import localize
from bot.models import Outcome
from bot.sandbox.local import LocalSandbox
from bot.testing.junit import frames_from_traceback, parse_junit
from bot.testing.runner import TestRunner

CONFTEST = """
import weakref

import pytest


class Holder:
    pass


_cycle = Holder()
_cycle.me = _cycle
_MADE_AT_IMPORT = weakref.ref(_cycle)
del _cycle


@pytest.fixture
def made_at_import():
    return _MADE_AT_IMPORT
"""

TESTS = """
import gc
import weakref


class Node:
    pass


class Noisy:
    def __del__(self):
        raise ValueError("finalizer failed")


def test_a_cycle_made_by_a_test_is_collected():
    node = Node()
    node.me = node
    ref = weakref.ref(node)
    del node
    gc.collect()
    assert ref() is None


def test_a_cycle_made_at_conftest_import_is_collected(made_at_import):
    gc.collect()
    assert made_at_import() is None


def test_a_finalizer_that_raises_is_reported():
    noisy = Noisy()
    noisy.me = noisy
    del noisy
    gc.collect()


def test_a_cycle_left_for_the_end_of_the_session():
    noisy = Noisy()
    noisy.me = noisy
"""

STRICT = "-W error::pytest.PytestUnraisableExceptionWarning"


def plain_pytest(root: Path, junit: Path) -> tuple[dict[str, Outcome], int]:
    done = subprocess.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", f"--junitxml={junit}"],
        cwd=root,
        env={**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"},
        capture_output=True,
        check=False,
    )
    results, errors = parse_junit(junit)
    assert not errors
    return {r.nodeid: r.outcome for r in results}, done.returncode


@pytest.mark.parametrize("coverage", [False, True], ids=["plain", "measured"])
def test_garbage_is_collected_and_reported_as_without_mendbot(
    make_repo: Callable[..., Path], tmp_path: Path, coverage: bool
) -> None:
    pyproject = f'[tool.pytest.ini_options]\naddopts = "{STRICT}"\n'
    root = make_repo(
        {"conftest.py": CONFTEST, "tests/test_gc.py": TESTS, "pyproject.toml": pyproject},
        pyproject=False,
    )
    expected, expected_status = plain_pytest(root, tmp_path / "plain.xml")
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        run = runner.run(timeout=60, per_test_timeout=10, coverage=coverage)
    finally:
        runner.close()
    assert {r.nodeid: r.outcome for r in run.results} == expected
    name = "tests/test_gc.py::test_"
    assert expected == {
        f"{name}a_cycle_made_by_a_test_is_collected": Outcome.PASSED,
        f"{name}a_cycle_made_at_conftest_import_is_collected": Outcome.PASSED,
        f"{name}a_finalizer_that_raises_is_reported": Outcome.FAILED,
        f"{name}a_cycle_left_for_the_end_of_the_session": Outcome.PASSED,
    }
    # the cycle the last test left is collected at the session's end and fails the run there
    assert run.exit_code == expected_status != 0
    assert "finalizer failed" in run.output_tail
    assert run.has_coverage is coverage


SPINNER = """
def step(value):
    return value * 1


def spin(limit):
    count = 0
    total = 0
    while count < limit:
        total = step(total)
        total += 1
        if total > 10:
            total = 0
    return total
"""

SPIN_TESTS = """
from spinner import spin


def test_spin_ends():
    assert spin(3) == 3
"""


def test_a_hang_is_localized_to_its_loop_wherever_the_time_limit_finds_it(
    make_repo: Callable[..., Path],
) -> None:
    """The per-test limit interrupts a hang on any line of the loop, or in what it calls;
    the failure points at the loop's first line all the same, so localization (and with it
    the candidates and the winner) does not depend on when the alarm went off."""
    root = make_repo({"spinner.py": SPINNER, "tests/test_spin.py": SPIN_TESTS})
    sources = {name: (root / name).read_text() for name in ("spinner.py", "tests/test_spin.py")}
    lines = sources["spinner.py"].splitlines()
    header = lines.index("    while count < limit:") + 1
    loop = range(lines.index("def step(value):") + 1, header + 6)
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    interrupted, found = set(), set()
    try:
        for _ in range(6):
            run = runner.run(timeout=60, per_test_timeout=0.2)
            (result,) = run.results
            assert result.outcome is Outcome.TIMEOUT
            raw = [f for f in frames_from_traceback(result.traceback) if f[0] == "spinner.py"]
            interrupted.add(raw[-1][1])
            (failure,) = failures_of(run, sources)
            found.add((failure.frames[-1].line, failure.frames[-1].function))
            top = localize([failure], run, {"spinner.py": sources["spinner.py"]}, {})[0]
            found.add((top.line, top.function))
    finally:
        runner.close()
    assert found == {(header, "spin")}
    assert interrupted <= set(loop)
