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

from bot.models import Outcome
from bot.sandbox.local import LocalSandbox
from bot.testing.junit import parse_junit
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
