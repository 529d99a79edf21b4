"""Fast screening swaps a candidate's code into the modules the worker imported once. Real
libraries re-export names (``from .core import name`` in a package's ``__init__``), wrap
functions in objects (``functools.lru_cache``, ``functools.partial``, currying classes) and
share sentinels across modules: the fast path must judge such a candidate as a fresh pytest
run does (the naive path), never call a correct fix "the failing tests still fail"."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import pytest
from test_screening import Everything, edit, workspace_of

from bot.models import Candidate, Verdict, Workspace
from bot.sandbox.local import LocalSandbox
from bot.testing.runner import TestRunner
from bot.validate import Validator

CORE = '''
import functools

from pkg.util import no_default


class curry:
    """A currying wrapper, as functional libraries write them (not a function)."""

    def __init__(self, func, *args):
        self.func = func
        self.args = args

    def __call__(self, *args):
        return self.func(*self.args, *args)


@functools.lru_cache(maxsize=None)
def cached_double(x):
    return x * 3


@curry
def add(x, y):
    return x - y


def first(items, default=no_default):
    for item in items:
        return item
    if default is no_default:
        raise ValueError("empty")
    return default


OFFSET = 1


def shifted(x):
    return x + OFFSET
'''

UTIL = """
no_default = "__no_default__"


class Marker:
    pass


no_default = Marker()
"""

INIT = """
from pkg.core import add, cached_double, first, shifted
from pkg import core as _core

plus_one = _core.curry(add, 1)
"""

TESTS = """
from pkg import add, cached_double, first, plus_one, shifted


def test_cached_double():
    assert cached_double(2) == 4


def test_add():
    assert add(2, 3) == 5


def test_plus_one():
    assert plus_one(1) == 2


def test_first_default():
    assert first([], default=None) is None
    assert first([1]) == 1


def test_shifted():
    assert shifted(1) == 3
"""


@pytest.fixture
def project(make_repo: Callable[..., Path]) -> Iterator[tuple[TestRunner, Workspace]]:
    root = make_repo(
        {
            "pkg/__init__.py": INIT,
            "pkg/core.py": CORE,
            "pkg/util.py": UTIL,
            "tests/test_pkg.py": TESTS,
        }
    )
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    yield runner, workspace_of(root)
    runner.close()


FIXES = {
    "cached": ("return x * 3", "return x * 2"),
    "curried": ("return x - y", "return x + y"),
    "constant": ("OFFSET = 1", "OFFSET = 2"),
}


def fixes() -> list[Candidate]:
    return [edit(name, "pkg/core.py", CORE.replace(*change)) for name, change in FIXES.items()]


def screen(
    runner: TestRunner, workspace: Workspace, mode: str
) -> tuple[list[Verdict | None], Validator]:
    baseline = runner.run(timeout=60, per_test_timeout=5)
    assert set(baseline.failing) == {
        "tests/test_pkg.py::test_cached_double",
        "tests/test_pkg.py::test_add",
        "tests/test_pkg.py::test_plus_one",
        "tests/test_pkg.py::test_shifted",
    }
    validator = Validator(runner, workspace, mode, workers=2, test_timeout=5)
    found = []
    for candidate in fixes():  # each judged against the tests its change fixes
        targets = {
            "cached": ("tests/test_pkg.py::test_cached_double",),
            "curried": ("tests/test_pkg.py::test_add", "tests/test_pkg.py::test_plus_one"),
            "constant": ("tests/test_pkg.py::test_shifted",),
        }[candidate.id]
        selection = Everything(targets, baseline.passing)
        found.extend(validator.screen([candidate], selection, baseline, stop_at_first=False))
    return found, validator


def test_wrapped_and_reexported_fixes_are_judged_as_a_fresh_pytest_judges_them(
    project: tuple[TestRunner, Workspace],
) -> None:
    runner, workspace = project
    naive, _ = screen(runner, workspace, "naive")
    fast, validator = screen(runner, workspace, "fast")
    assert [(v.accepted, v.fixed) for v in naive if v] == [
        (v.accepted, v.fixed) for v in fast if v
    ], [v.reason for v in fast if v]
    assert all(v is not None and v.accepted for v in naive), [v.reason for v in naive if v]
    # and judged in the forked worker itself, not handed back to a fresh pytest
    assert validator.stats.fast == len(FIXES) and validator.stats.naive == 0, (
        validator.stats.fallbacks
    )


SHAPES = """
class Shape:
    def sides(self):
        return 1


class Square(Shape):
    def sides(self):
        return super().sides() + 5
"""

SHAPE_TESTS = """
from shapes import Square


def test_square():
    assert Square().sides() == 4
"""


def test_every_candidate_the_fast_path_cannot_judge_is_counted_with_its_cause(
    make_repo: Callable[..., Path],
) -> None:
    root = make_repo({"shapes.py": SHAPES, "tests/test_shapes.py": SHAPE_TESTS})
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        baseline = runner.run(timeout=60, per_test_timeout=5)
        assert baseline.failing == ("tests/test_shapes.py::test_square",)
        # the new method no longer calls super(): its code cannot replace the old one's
        right = edit("right", "shapes.py", SHAPES.replace("super().sides() + 5", "4"))
        validator = Validator(runner, workspace_of(root), "fast", workers=2, test_timeout=5)
        verdicts = validator.screen([right], Everything(baseline.failing, ()), baseline)
        assert verdicts[0] is not None and verdicts[0].accepted
        assert validator.stats.fallbacks == {
            "cannot apply the change in place: cannot patch class Square": 1
        }
        assert validator.stats.naive == 1
    finally:
        runner.close()


def test_the_report_says_how_many_candidates_fell_back_and_why() -> None:
    from bot.report.markdown import screening_lines

    lines = screening_lines(
        {
            "screening": {
                "screened": 5,
                "fast": 3,
                "naive": 2,
                "fallbacks": {"cannot apply the change in place: cannot patch class Square": 2},
            }
        }
    )
    assert lines == [
        "- **Screening:** 5 candidates, 3 in the forked worker, 2 by a fresh pytest each",
        "  - 2 fell back: cannot apply the change in place: cannot patch class Square",
    ]
    assert screening_lines({}) == []


SETTINGS = """
def parse(text):
    return int(text) // 0


DEFAULT = parse("3")
"""

SETTINGS_TESTS = """
from settings import DEFAULT, parse


def test_default():
    assert DEFAULT == 3


def test_parse():
    assert parse("7") == 7
"""


def test_a_failing_file_that_does_not_collect_is_screened_in_the_forked_worker(
    make_repo: Callable[..., Path],
) -> None:
    """The bug breaks the import of the test file: the failing "test" is the whole file. The
    worker's child collects it anew with the candidate in place, as a fresh pytest would."""
    root = make_repo({"settings.py": SETTINGS, "tests/test_settings.py": SETTINGS_TESTS})
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        baseline = runner.run(timeout=60, per_test_timeout=5)
        assert baseline.collection_errors and not baseline.results
        batch = [
            edit("wrong", "settings.py", SETTINGS.replace("// 0", "// 1 + 1")),
            edit("right", "settings.py", SETTINGS.replace(" // 0", "")),
        ]
        selection = Everything(("tests/test_settings.py",), ())
        seen = {}
        for mode in ("fast", "naive"):
            validator = Validator(runner, workspace_of(root), mode, workers=2, test_timeout=5)
            verdicts = validator.screen(batch, selection, baseline, stop_at_first=False)
            seen[mode] = [(v.accepted, v.fixed) for v in verdicts if v is not None]
            if mode == "fast":
                assert validator.stats.fast == 2 and not validator.stats.fallbacks
        assert (
            seen["fast"]
            == seen["naive"]
            == [
                (False, ()),  # the file collects now, but its tests fail
                (True, ("tests/test_settings.py",)),
            ]
        )
    finally:
        runner.close()


PAIRS = """
from operator import attrgetter


class Pair:
    __slots__ = "first", "second"

    def __init__(self, first, second):
        self.first, self.second = first, second

    head = property(attrgetter("first"))

    def total(self):
        return self.first - self.second


ORIGIN = Pair(0, 0)
"""

PAIR_TESTS = """
from pairs import ORIGIN, Pair


def test_total():
    assert Pair(1, 2).total() == 3


def test_head():
    assert Pair(1, 2).head == 1 and ORIGIN.first == 0
"""


def test_a_class_with_slots_and_a_non_function_property_is_patched_in_place(
    make_repo: Callable[..., Path],
) -> None:
    """The candidate's class keeps the old class's slots (instances made before the change,
    such as ORIGIN, are laid out by them) and takes a property it cannot swap part by part."""
    root = make_repo({"pairs.py": PAIRS, "tests/test_pairs.py": PAIR_TESTS})
    runner = TestRunner(LocalSandbox(), root, root, autoload=False)
    try:
        baseline = runner.run(timeout=60, per_test_timeout=5)
        assert baseline.failing == ("tests/test_pairs.py::test_total",)
        right = edit("right", "pairs.py", PAIRS.replace("self.first - self", "self.first + self"))
        selection = Everything(baseline.failing, baseline.passing)
        seen = {}
        for mode in ("fast", "naive"):
            validator = Validator(runner, workspace_of(root), mode, workers=2, test_timeout=5)
            verdicts = validator.screen([right], selection, baseline, stop_at_first=False)
            seen[mode] = [(v.accepted, v.fixed, v.broken) for v in verdicts if v is not None]
            if mode == "fast":
                assert validator.stats.fast == 1 and not validator.stats.fallbacks
        assert seen["fast"] == seen["naive"] == [(True, ("tests/test_pairs.py::test_total",), ())]
    finally:
        runner.close()


SENTINEL_CORE = '''
class _Missing:
    """A sentinel as libraries write them: its repr names the object, not the value."""


MISSING = _Missing()


def pick(value=MISSING, fallback=1):
    if value is MISSING:
        return fallback
    return value


class Field:
    default = MISSING

    def resolved(self, value=MISSING):
        return self.default if value is MISSING else value

    def required(self):
        return self.default is MISSING


def total(items):
    return sum(items) + 1
'''


def test_a_sentinel_the_module_defines_keeps_its_identity_in_defaults_and_class_attributes(
    tmp_path: Path,
) -> None:
    """The swap executes the module again to get the candidate's functions: the defaults of
    the functions and the class attributes it swaps in must still be the sentinel the code
    compares with, not the second one the new execution made."""
    import importlib.util

    import mendbot_pytest

    path = tmp_path / "sentinels_under_swap.py"
    path.write_text(SENTINEL_CORE)
    spec = importlib.util.spec_from_file_location("sentinels_under_swap", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    missing = module.MISSING
    fixed = SENTINEL_CORE.replace("sum(items) + 1", "sum(items)")
    assert mendbot_pytest._apply_in_place(module, fixed, str(path)) is None
    assert module.total([1, 2]) == 3  # the candidate is in
    assert module.MISSING is missing
    assert module.pick() == 1  # its default is the module's sentinel
    assert module.Field.default is missing and module.Field().required()
    assert module.Field().resolved() is missing
