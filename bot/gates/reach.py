"""What a proof covers beyond the tests the user selected.

The tests selected after ``--`` say which failures to repair; they do not bound what a patch
may break. When the user's pytest arguments select tests, the proof of a patch also runs, at
the round's base and on the patched tree:

* the whole suite (the user's options without the selection), when its run at the base
  finishes within a share of the remaining budget (the run itself is the estimate), else
* the test files that import the changed modules, directly or through other modules of
  the project (the import graph: the baseline's per-test coverage only knows the selected
  tests).

A test of them that passed at the base and does not pass on the patched tree is a regression
like any other. The base runs are kept per commit, so each round pays for its base once.
"""

from __future__ import annotations

import ast
import shutil
import tempfile
import time
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.analysis.classify import is_test_path
from bot.gates.flaky import mask, option_arguments
from bot.gates.static import module_name
from bot.models import Outcome, TestRun
from bot.testing.runner import TestRunner

WHOLE_SUITE_SHARE = 0.3  # of the remaining budget, for the whole suite's run at the base
WHOLE_SUITE = "whole suite"
IMPORTERS = "importers"


def selects_tests(runner: TestRunner) -> bool:
    """Whether the user's pytest arguments select tests (paths, node ids)."""
    return option_arguments(runner.pytest_args, runner.project_dir) != list(runner.pytest_args)


@dataclass(frozen=True)
class Wider:
    """The tests beyond the selection that judge a patch, and how they were chosen."""

    mode: str  # WHOLE_SUITE or IMPORTERS
    arguments: tuple[str, ...]  # what pytest runs: the options, plus test files for IMPORTERS
    base: TestRun  # their run at the round's base

    def describe(self, selection: int) -> str:
        count = len(self.base.results)
        if self.mode == WHOLE_SUITE:
            return f"whole suite ({count} tests)"
        return f"{count} tests that import the changed code + the selection ({selection} tests)"


@dataclass
class Reach:
    """The wider proof of one run: base runs per commit, by the tree they ran on."""

    runner: TestRunner
    excluded: frozenset[str] = frozenset()
    _bases: dict[tuple[str, tuple[str, ...]], TestRun] = field(default_factory=dict)
    whole_suite_too_slow: bool = False

    def wider(
        self,
        base_commit: str,
        changed: Sequence[str],
        test_sources: Mapping[str, str],
        code_sources: Mapping[str, str],
        *,
        per_test_timeout: float,
        deadline: float,
    ) -> Wider | None:
        """The wider set for a patch of ``changed`` (project-relative files) on top of
        ``base_commit``; None when the user selected nothing (the proof ran everything) or
        no test outside the selection reaches the change."""
        if not selects_tests(self.runner):
            return None
        options = tuple(option_arguments(self.runner.pytest_args, self.runner.project_dir))
        if not self.whole_suite_too_slow:
            share = WHOLE_SUITE_SHARE * max(0.0, deadline - time.monotonic())
            base = self._base(base_commit, options, per_test_timeout, max(10.0, share))
            if not base.timed_out and not (base.results or base.collection_errors):
                return None  # pytest finds no test of its own: the selection is the suite
            if not base.timed_out:
                return Wider(WHOLE_SUITE, options, base)
            self.whole_suite_too_slow = True
        files = importers(changed, test_sources, code_sources)
        if not files:
            return None
        arguments = (*options, *files)
        remaining = max(10.0, deadline - time.monotonic())
        return Wider(
            IMPORTERS, arguments, self._base(base_commit, arguments, per_test_timeout, remaining)
        )

    def _base(
        self, commit: str, arguments: tuple[str, ...], per_test_timeout: float, timeout: float
    ) -> TestRun:
        key = (commit, arguments)
        if key not in self._bases:
            self._bases[key] = run_at(self.runner, commit, arguments, per_test_timeout, timeout)
        return self._bases[key]

    def remember(self, commit: str, wider: Wider, after: TestRun) -> None:
        """A kept patch's run is the next round's base."""
        self._bases[(commit, wider.arguments)] = after

    def regressions(self, wider: Wider, after: TestRun) -> list[str]:
        """Tests that passed at the base and do not pass on the patched tree."""
        now = mask(after, self.excluded).by_id()
        return [
            nodeid
            for nodeid in mask(wider.base, self.excluded).passing
            if nodeid not in now or now[nodeid].outcome is not Outcome.PASSED
        ]


def run_at(
    runner: TestRunner,
    commit: str,
    arguments: Sequence[str],
    per_test_timeout: float,
    timeout: float,
) -> TestRun:
    """``arguments`` run by pytest on a copy of ``commit``'s files (the worktree holds the
    patch meanwhile)."""
    from bot.workspace import export_tree

    scratch = Path(tempfile.mkdtemp(prefix="mendbot-reach-"))
    try:
        tree = scratch / "tree"
        export_tree(runner.root, commit, tree)
        relative = runner.project_dir.relative_to(runner.root)
        other = TestRunner(
            runner.sandbox,
            tree,
            tree / relative,
            runner.pytest_args,
            autoload=runner.autoload,
            checkout=runner.checkout,
        )
        try:
            return other.run(
                list(arguments),
                timeout=timeout,
                per_test_timeout=per_test_timeout,
                selection=False,
            )
        finally:
            other.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)


def _imported(text: str, importer: str) -> set[str]:
    """Module names a file imports (relative imports resolved against ``importer``)."""
    try:
        tree = ast.parse(text)
    except SyntaxError:
        return set()
    package = importer.rsplit(".", 1)[0] if "." in importer else ""
    found: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".") if package else []
                parts = parts[: len(parts) - (node.level - 1)] if node.level > 1 else parts
                base = ".".join([*parts, base] if base else parts)
            found.add(base)
            found.update(f"{base}.{alias.name}" if base else alias.name for alias in node.names)
    return found


def importers(
    changed: Iterable[str], test_sources: Mapping[str, str], code_sources: Mapping[str, str]
) -> list[str]:
    """Test files that import a changed module, directly or through project modules."""
    names = {path: module_name(path) or "" for path in [*code_sources, *test_sources]}
    by_name = {name: path for path, name in names.items() if name}
    reaches = set(changed)
    imports = {
        path: {by_name[m] for m in _imported(text, names.get(path, "")) if m in by_name}
        for path, text in {**code_sources, **test_sources}.items()
    }
    grown = True
    while grown:  # every module that imports one that reaches the change reaches it too
        grown = False
        for path, wanted in imports.items():
            if path not in reaches and wanted & reaches:
                reaches.add(path)
                grown = True
    return sorted(p for p in reaches if p in test_sources and is_test_path(p))
