"""Run pytest in a sandbox and turn what it wrote into a TestRun.

Results come from JUnit XML keyed by node id (mendbot's plugin records the node id as a
property), per-test coverage from pytest-cov's test contexts, and a per-test timeout from the
plugin, so one hanging test fails alone while the run goes on.
"""

from __future__ import annotations

import json
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mendbot_pytest
from bot.errors import TestSetupError
from bot.models import CollectionError, Outcome, ProcessResult, TestResult, TestRun
from bot.sandbox.base import PYTHON_PLACEHOLDER, Sandbox, SandboxCommand
from bot.testing.junit import parse_junit

PYTEST_BASE = ("-p", "mendbot_pytest", "-p", "no:cacheprovider", "-o", "junit_logging=no")
EXIT_NO_TESTS = 5
EXIT_USAGE = 4


@dataclass
class TestRunner:
    """Runs the project's tests; one per run, owning a scratch folder for result files."""

    __test__ = False

    sandbox: Sandbox
    root: Path  # the worktree top level
    project_dir: Path
    pytest_args: tuple[str, ...] = ()
    autoload: bool = True  # False: PYTEST_DISABLE_PLUGIN_AUTOLOAD, loading only what is needed
    scratch: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mendbot-run-")))
    coverage_available: bool = True
    runs: int = 0
    warnings: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.support_dir = self.scratch / "support"
        self.support_dir.mkdir(parents=True, exist_ok=True)
        shutil.copy2(mendbot_pytest.__file__, self.support_dir / "mendbot_pytest.py")

    def close(self) -> None:
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _result_dir(self) -> Path:
        self.runs += 1
        path = self.scratch / f"r{self.runs}"
        path.mkdir()
        return path

    def _command(
        self, argv: Sequence[str], result_dir: Path, timeout: float, env: Mapping[str, str]
    ) -> SandboxCommand:
        if not self.autoload:
            env = {**env, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1"}
        return SandboxCommand(
            argv=[PYTHON_PLACEHOLDER, "-m", "pytest", *PYTEST_BASE, *argv],
            root=self.root,
            workdir=self.project_dir,
            result_dir=result_dir,
            support_dir=self.support_dir,
            env=env,
            timeout=timeout,
        )

    def run(
        self,
        nodeids: Sequence[str] = (),
        *,
        timeout: float,
        per_test_timeout: float = 0.0,
        coverage: bool = False,
        selection: bool = True,
    ) -> TestRun:
        """Run the given tests (all selected tests when empty) and read the results."""
        result_dir = self._result_dir()
        junit = result_dir / "junit.xml"
        argv = [
            "-q",
            "--continue-on-collection-errors",
            f"--junitxml={junit}",
            f"--mendbot-test-timeout={per_test_timeout:.3f}",
        ]
        env = {"COVERAGE_FILE": str(result_dir / ".coverage")}
        use_coverage = coverage and self.coverage_available
        if use_coverage:
            if not self.autoload:
                argv += ["-p", "pytest_cov"]
            argv += ["--cov=.", "--cov-context=test", "--cov-report="]
        if selection:
            argv += list(self.pytest_args)
        argv += list(nodeids)
        process = self.sandbox.run(self._command(argv, result_dir, timeout, env))
        if use_coverage and process.returncode == EXIT_USAGE and "--cov" in process.stderr:
            self.coverage_available = False
            self.warnings.append(
                "pytest-cov is not installed where the tests run: no per-test coverage, "
                "so fault localization uses tracebacks only"
            )
            return self.run(
                nodeids, timeout=timeout, per_test_timeout=per_test_timeout, selection=selection
            )
        return self._read(process, junit, result_dir / ".coverage" if use_coverage else None)

    def _read(self, process: ProcessResult, junit: Path, coverage_file: Path | None) -> TestRun:
        results, errors = parse_junit(junit)
        tail = (process.stdout + "\n" + process.stderr)[-4000:]
        if process.timed_out:
            # keep what finished; everything else in the run did not get a verdict
            results = list(results)
        if not results and not errors and not process.timed_out:
            if process.returncode == EXIT_USAGE or "No module named pytest" in tail:
                raise TestSetupError(
                    "pytest could not run: " + (tail.strip().splitlines() or ["no output"])[-1],
                    hint="install pytest for the interpreter that runs the tests "
                    "(--python or [tool.mendbot] python), and check the pytest arguments",
                )
            if process.returncode not in (0, EXIT_NO_TESTS) and tail.strip():
                errors = [
                    CollectionError(path="", message=tail.strip().splitlines()[-1], traceback=tail)
                ]
        coverage = read_coverage(coverage_file, self.project_dir) if coverage_file else {}
        return TestRun(
            results=tuple(results),
            collection_errors=tuple(errors),
            duration=process.duration,
            exit_code=process.returncode,
            timed_out=process.timed_out,
            output_tail=tail,
            coverage=coverage,
        )

    def screen(
        self,
        candidates: Sequence[Mapping[str, Any]],
        *,
        workers: int,
        timeout: float,
        stop_at_first: bool = True,
    ) -> tuple[dict[int, dict[str, Any]], str]:
        """Screen candidates in one worker run; returns results by index and any worker error."""
        result_dir = self._result_dir()
        batch = result_dir / "batch.json"
        out = result_dir / "screen.jsonl"
        batch.write_text(
            json.dumps(
                {"workers": workers, "stop_at_first": stop_at_first, "candidates": list(candidates)}
            )
        )
        out.touch()
        argv = [
            "-q",
            "--tb=line",  # a one-line failure report: full tracebacks cost more than the tests
            f"--mendbot-screen={batch}",
            f"--mendbot-out={out}",
            "--mendbot-test-timeout=0",
            *self.pytest_args,
        ]
        process = self.sandbox.run(self._command(argv, result_dir, timeout, {}))
        results: dict[int, dict[str, Any]] = {}
        for line in out.read_text().splitlines():
            try:
                item = json.loads(line)
            except ValueError:
                continue
            results[int(item.pop("index"))] = item
        error = ""
        error_file = Path(str(out) + ".error")
        if error_file.exists():
            error = error_file.read_text()[-2000:]
        elif process.timed_out:
            error = "the screening worker ran past its time limit"
        elif process.returncode not in (0, 1, EXIT_NO_TESTS) and not results:
            error = (process.stdout + process.stderr)[-2000:] or f"exit {process.returncode}"
        return results, error


def read_coverage(path: Path, project_dir: Path) -> dict[str, dict[str, frozenset[int]]]:
    """nodeid -> project-relative file -> lines, from pytest-cov's per-test contexts."""
    if not path.exists():
        return {}
    from coverage import CoverageData

    data = CoverageData(basename=str(path))
    data.read()
    root = project_dir.resolve()
    per_test: dict[str, dict[str, set[int]]] = {}
    for measured in data.measured_files():
        try:
            relative = Path(measured).resolve().relative_to(root).as_posix()
        except ValueError:
            continue
        for line, contexts in data.contexts_by_lineno(measured).items():
            for context in contexts:
                if not context:
                    continue
                nodeid = context.rsplit("|", 1)[0]
                per_test.setdefault(nodeid, {}).setdefault(relative, set()).add(line)
    return {
        nodeid: {file: frozenset(lines) for file, lines in files.items()}
        for nodeid, files in per_test.items()
    }


def not_run(nodeids: Sequence[str]) -> tuple[TestResult, ...]:
    return tuple(TestResult(nodeid=n, outcome=Outcome.NOT_RUN) for n in nodeids)
