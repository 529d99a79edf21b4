"""Run pytest in a sandbox and turn what it wrote into a TestRun.

Results come from JUnit XML keyed by node id (mendbot's plugin records the node id as a
property), per-test coverage from pytest-cov's test contexts, and a per-test timeout from the
plugin, so one hanging test fails alone while the run goes on.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import re
import shutil
import signal
import tempfile
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import mendbot_pytest
import mendbot_writes
from bot import workspace as ws
from bot.errors import TestSetupError
from bot.models import CollectionError, Outcome, ProcessResult, TestResult, TestRun
from bot.sandbox.base import PYTHON_PLACEHOLDER, Sandbox, SandboxCommand
from bot.testing.junit import parse_junit
from bot.testing.worker import ScreenWorker, read_results, supports_workers

PYTEST_BASE = ("-p", "mendbot_pytest", "-p", "no:cacheprovider", "-o", "junit_logging=no")
EXIT_NO_TESTS = 5
EXIT_USAGE = 4
# the interpreter has no pytest ("No module named pytest_httpbin" is a test's own import)
NO_PYTEST = re.compile(r"No module named '?pytest'?(?![\w.])")
# pytest's exit status 4 also says a conftest.py raised on import: the project's code failed
# there (a candidate broke what the conftest imports), not pytest's arguments
CONFTEST_FAILED = re.compile(r"ImportError while loading conftest '([^']+)'")


@dataclass
class TestRunner:
    """Runs the project's tests; one per run, owning a scratch folder for result files."""

    __test__ = False

    sandbox: Sandbox
    root: Path  # the worktree top level
    project_dir: Path
    pytest_args: tuple[str, ...] = ()
    autoload: bool = True  # False: PYTEST_DISABLE_PLUGIN_AUTOLOAD, loading only what is needed
    # the user's repository when ``root`` is a copy of it: the tests import the project from
    # ``root`` even where its environment installed it from the checkout (``pip install -e``)
    checkout: Path | None = None
    scratch: Path = field(default_factory=lambda: Path(tempfile.mkdtemp(prefix="mendbot-run-")))
    coverage_available: bool = True
    runs: int = 0
    warnings: list[str] = field(default_factory=list)
    worker: ScreenWorker | None = None
    worker_starts: int = 0
    _live: set[Any] = field(default_factory=set)  # started test processes, for cancel()
    cancelled: bool = False

    def __post_init__(self) -> None:
        self.support_dir = self.scratch / "support"
        self.support_dir.mkdir(parents=True, exist_ok=True)
        copy_plugin(self.support_dir)

    def close(self) -> None:
        if self.worker is not None:
            self.worker.close()
            self.worker = None
        shutil.rmtree(self.scratch, ignore_errors=True)

    def _screen_argv(self) -> list[str]:
        return [
            "-q",
            "--tb=line",  # a one-line failure report: full tracebacks cost more than the tests
            "--mendbot-test-timeout=0",
            "--continue-on-collection-errors",  # a broken test file leaves the others usable
            *self.pytest_args,
        ]

    def warm(self, tag: str) -> ScreenWorker | None:
        """The persistent screening worker for the tree ``tag`` names, started if need be
        (on a thread of its own: it collects while mendbot goes on). None where the sandbox
        cannot keep a worker running."""
        if not supports_workers(self.sandbox):
            return None
        if self.worker is not None and (self.worker.tag != tag or not self.worker.alive):
            self.worker.close()
            self.worker = None
        if self.worker is None:
            self.worker_starts += 1
            folder = self._result_dir()
            self.worker = ScreenWorker(
                self.sandbox,
                folder,
                tag,
                lambda argv, result_dir, timeout: self._command(argv, result_dir, timeout, {}),
                self._screen_argv(),
            )
        return self.worker

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
        if self.checkout is not None:
            env = {**env, "MENDBOT_CHECKOUT": str(self.checkout), "MENDBOT_TREE": str(self.root)}
        return SandboxCommand(
            argv=[PYTHON_PLACEHOLDER, "-m", "pytest", *PYTEST_BASE, *argv],
            root=self.root,
            workdir=self.project_dir,
            result_dir=result_dir,
            support_dir=self.support_dir,
            env=env,
            timeout=timeout,
            on_start=self._started,
        )

    def _started(self, process: Any) -> None:
        self._live = {p for p in self._live if p.poll() is None}
        self._live.add(process)
        if self.cancelled:
            self.cancel()

    def cancel(self) -> None:
        """Stop every test process this runner started (from any thread); later runs of a
        cancelled runner are stopped as they start."""
        self.cancelled = True
        for process in list(self._live):
            with contextlib.suppress(ProcessLookupError, PermissionError):
                os.killpg(process.pid, signal.SIGKILL)

    def run(
        self,
        nodeids: Sequence[str] = (),
        *,
        timeout: float,
        per_test_timeout: float = 0.0,
        coverage: bool = False,
        selection: bool = True,
        order: Sequence[str] = (),
    ) -> TestRun:
        """Run the given tests (all selected tests when empty) and read the results.

        ``order``: of the selected tests, run these, in this order (handed to mendbot's plugin
        in a file, so the user's arguments stay whole and node ids never meet argv).

        A test that defeats its time limit is killed with its test process by the plugin's
        watchdog; it is recorded as a timeout and the run starts again without it.
        """
        ends = time.monotonic() + timeout
        hanging: list[str] = []
        mark = TreeMark.of(self.root)  # what the tests may not remove of the tree
        damage = ""
        while True:
            result_dir = self._result_dir()
            junit = result_dir / "junit.xml"
            argv = [
                "-q",
                "--continue-on-collection-errors",
                f"--junitxml={junit}",
                f"--mendbot-test-timeout={per_test_timeout:.3f}",
            ]
            use_coverage = coverage and self.coverage_available
            coverage_out = result_dir / "coverage.json"
            if use_coverage:
                # measured by mendbot's plugin with coverage.py, per test, as the tests run
                argv.append(f"--mendbot-coverage={coverage_out}")
            if order:
                listed = result_dir / "order.txt"
                listed.write_text("".join(f"{n}\n" for n in order), encoding="utf-8")
                argv.append(f"--mendbot-order={listed}")
            if selection:
                argv += list(self.pytest_args)
            argv += [f"--deselect={nodeid}" for nodeid in hanging]
            argv += list(nodeids) if order else select_arguments(nodeids, result_dir)
            left = max(1.0, ends - time.monotonic())
            process = self.sandbox.run(self._command(argv, result_dir, left, {}))
            damage = damage or (mark.repair() if mark is not None else "")
            found = _hanging_tests(result_dir)
            if not found or set(found) <= set(hanging) or time.monotonic() >= ends:
                break
            hanging += [nodeid for nodeid in found if nodeid not in hanging]
        run = self._read(process, junit, coverage_out if use_coverage else None)
        hung = [*hanging, *(n for n in _hanging_tests(result_dir) if n not in hanging)]
        if hung:
            run = _with_hanging(run, hung, per_test_timeout)
        if damage:
            self.warnings.append(
                f"a test run {damage}; mendbot restored them from git (a test that deletes "
                "folders it did not make can remove the project)"
            )
            run = dataclasses.replace(run, damage=f"the tests {damage}")
        problem = Path(f"{coverage_out}.error")
        if use_coverage and not run.has_coverage and problem.exists():
            self.coverage_available = False
            self.warnings.append(
                "coverage.py could not measure the tests "
                f"({problem.read_text().strip()[:200]}): no per-test coverage, so fault "
                "localization uses tracebacks only"
            )
        return run

    def _read(self, process: ProcessResult, junit: Path, coverage_file: Path | None) -> TestRun:
        results, errors = parse_junit(junit)
        tail = (process.stdout + "\n" + process.stderr)[-4000:]
        if process.timed_out:
            # keep what finished; everything else in the run did not get a verdict
            results = list(results)
        conftest = CONFTEST_FAILED.search(tail)
        if not results and not errors and not process.timed_out and conftest is not None:
            errors = [
                CollectionError(
                    path=_relative_to(conftest.group(1), self.project_dir),
                    message=tail.strip().splitlines()[-1],
                    traceback=tail[conftest.start() :],
                )
            ]
        if not results and not errors and not process.timed_out:
            if process.returncode == EXIT_USAGE or NO_PYTEST.search(tail):
                raise TestSetupError(
                    "pytest could not run: " + (tail.strip().splitlines() or ["no output"])[-1],
                    hint="install pytest for the interpreter that runs the tests "
                    "(--python or [tool.mendbot] python), and check the pytest arguments",
                )
            if process.returncode not in (0, EXIT_NO_TESTS) and tail.strip():
                errors = [
                    CollectionError(path="", message=tail.strip().splitlines()[-1], traceback=tail)
                ]
        found = read_coverage(coverage_file, self.project_dir) if coverage_file else None
        (coverage, own), measured = found or ({}, {}), found is not None
        unstable = [r.nodeid for r in results if is_unstable(r.nodeid)]
        if unstable and not any(UNSTABLE_WARNING in w for w in self.warnings):
            shown = ", ".join(unstable[:3]) + (
                f" and {len(unstable) - 3} more" if len(unstable) > 3 else ""
            )
            self.warnings.append(
                f"{len(unstable)} test(s) {UNSTABLE_WARNING} (object "
                f"addresses or times in their parameters): {shown}; mendbot matches them by "
                "their stable part and position, give them fixed ids (pytest's ids=) to be sure"
            )
        return TestRun(
            results=tuple(results),
            collection_errors=tuple(errors),
            duration=process.duration,
            exit_code=process.returncode,
            timed_out=process.timed_out,
            output_tail=tail,
            coverage=coverage,
            has_coverage=measured,
            own_coverage=own,
        )

    def run_forked(
        self,
        nodeids: Sequence[str],
        *,
        tag: str,
        per_test_timeout: float,
        timeout: float,
        coverage: bool = False,
    ) -> TestRun | None:
        """Run ``nodeids`` in this order in one child of the persistent worker for the tree
        ``tag``: a run from the freshly collected state, without a new pytest start-up.

        With ``coverage``, the child also records per-test line coverage (what a pytest-cov
        run with test contexts records); a run that could not is returned without it.
        None when there is no worker, or it could not run them all; the caller then runs
        pytest itself. Node ids the worker did not collect are not run.
        """
        if self.worker is not None and self.worker.tag == tag and not self.worker.alive:
            return None  # it died (a collection that failed, say): another would too
        worker = self.warm(tag)
        if worker is None or not nodeids:
            return None
        # the worker may write only into its own folder
        coverage_out = worker.folder / f"coverage-{worker.batches + 1}.json"
        entry = {
            "edits": {},
            "targets": list(nodeids),
            "guards": [],
            "all": True,
            "timeout": timeout,
            "limits": {nodeid: per_test_timeout for nodeid in nodeids},
            **({"coverage": str(coverage_out)} if coverage else {}),
        }
        started = time.monotonic()
        results, _ = worker.submit(
            {"workers": 1, "stop_at_first": False, "candidates": [entry]}, timeout + 30.0
        )
        outcomes = results.get(0, {}).get("outcomes")
        if not isinstance(outcomes, dict) or set(outcomes) != set(nodeids):
            return None
        known = {outcome.value for outcome in Outcome}
        found = []
        for nodeid in nodeids:
            outcome, message = [*outcomes[nodeid], "", ""][:2]
            found.append(
                TestResult(
                    nodeid=nodeid,
                    outcome=Outcome(outcome) if outcome in known else Outcome.NOT_RUN,
                    message=str(message).strip().splitlines()[-1][:300] if message else "",
                )
            )
        measured: dict[str, dict[str, frozenset[int]]] | None = None
        own: dict[str, dict[str, frozenset[int]]] = {}
        if coverage and results[0].get("coverage") is True:
            try:
                raw = json.loads(coverage_out.read_text())
            except (OSError, ValueError):
                raw = None
            if isinstance(raw, dict):
                measured = relative_coverage(raw, self.project_dir)
                own = relative_coverage(without_imports(raw), self.project_dir)
        return TestRun(
            results=tuple(found),
            duration=time.monotonic() - started,
            coverage=measured or {},
            has_coverage=measured is not None,
            own_coverage=own,
        )

    def screen(
        self,
        candidates: Sequence[Mapping[str, Any]],
        *,
        workers: int,
        timeout: float,
        stop_at_first: bool = True,
        tag: str | None = None,
    ) -> tuple[dict[int, dict[str, Any]], str]:
        """Screen candidates; returns results by index and any worker error.

        With ``tag`` (the id of the tree the worktree holds, clean) the batch goes to the
        persistent worker for that tree where the sandbox can keep one; otherwise one worker
        run screens it. Whatever the candidates' tests removed of the tree and their
        children could not put back is restored from git before the next batch.
        """
        mark = TreeMark.of(self.root)
        try:
            return self._screen(
                candidates, workers=workers, timeout=timeout, stop_at_first=stop_at_first, tag=tag
            )
        finally:
            damage = mark.repair() if mark is not None else ""
            if damage:
                self.warnings.append(
                    f"a screened candidate's tests {damage}; mendbot restored them from git"
                )

    def _screen(
        self,
        candidates: Sequence[Mapping[str, Any]],
        *,
        workers: int,
        timeout: float,
        stop_at_first: bool,
        tag: str | None,
    ) -> tuple[dict[int, dict[str, Any]], str]:
        request = {
            "workers": workers,
            "stop_at_first": stop_at_first,
            "candidates": list(candidates),
        }
        worker = self.warm(tag) if tag is not None else None
        if worker is not None:
            results, error = worker.submit(request, timeout)
            if not results and not worker.alive and worker.was_ready and tag is not None:
                # it had been serving and died (killed from outside, out of memory):
                # candidates never kill it, so one more worker screens the batch
                worker = self.warm(tag)
                if worker is not None:
                    results, error = worker.submit(request, timeout)
            return results, error
        result_dir = self._result_dir()
        batch = result_dir / "batch.json"
        out = result_dir / "screen.jsonl"
        batch.write_text(json.dumps(request))
        out.touch()
        argv = [*self._screen_argv(), f"--mendbot-screen={batch}", f"--mendbot-out={out}"]
        process = self.sandbox.run(self._command(argv, result_dir, timeout, {}))
        results = read_results(out)
        error = ""
        error_file = Path(str(out) + ".error")
        if error_file.exists():
            error = error_file.read_text()[-2000:]
        elif process.timed_out:
            error = "the screening worker ran past its time limit"
        elif process.returncode not in (0, 1, EXIT_NO_TESTS) and not results:
            error = (process.stdout + process.stderr)[-2000:] or f"exit {process.returncode}"
        return results, error


def _hanging_tests(result_dir: Path) -> list[str]:
    """The tests the plugin's watchdog killed in a run, in the order it killed them."""
    try:
        text = (result_dir / mendbot_pytest.HANGING_FILE).read_text(encoding="utf-8")
    except OSError:
        return []
    return list(dict.fromkeys(line.strip() for line in text.splitlines() if line.strip()))


def _with_hanging(run: TestRun, hanging: Sequence[str], per_test_timeout: float) -> TestRun:
    """``run`` with each hanging test recorded as a timeout (its own run was killed)."""
    message = (
        f"mendbot: the test ran past its {per_test_timeout:g} s limit and did not stop "
        f"(it ignored or caught the timeout); it was killed after "
        f"{mendbot_pytest.hard_limit(per_test_timeout):g} s"
    )
    known = {result.nodeid for result in run.results}
    added = tuple(
        TestResult(nodeid, Outcome.TIMEOUT, message=message, exception_type="Timeout")
        for nodeid in hanging
        if nodeid not in known
    )
    return dataclasses.replace(run, results=run.results + added)


@dataclass(frozen=True)
class TreeMark:
    """What a test run must leave of the git tree it runs in: the folder, its ``.git`` (in
    mendbot's worktree, a file naming the repository's folder for it) and every tracked file.
    A test that deletes folders can remove all of it (a fixture that removes a path a
    candidate computed wrongly); ``repair`` says what went and puts it back."""

    root: Path
    dotgit: bytes | None  # the worktree's .git file; None where .git is a folder

    @classmethod
    def of(cls, root: Path) -> TreeMark | None:
        """The mark of ``root``, or None where it is no git tree (an exported copy)."""
        dotgit = root / ".git"
        if dotgit.is_file():
            return cls(root, dotgit.read_bytes())
        return cls(root, None) if dotgit.is_dir() else None

    def repair(self) -> str:
        """What the run removed (restored from git since), or "" when it removed nothing."""
        gone: list[str] = []
        dotgit = self.root / ".git"
        if not self.root.is_dir():
            gone.append("the whole worktree")
            self.root.mkdir(parents=True)
        elif not dotgit.exists():
            gone.append("the worktree's .git")
        if not dotgit.exists():
            if self.dotgit is None:
                return "removed the repository's .git folder, which mendbot cannot restore"
            dotgit.write_bytes(self.dotgit)
        listed = ws.run_git(["ls-files", "--deleted", "-z"], self.root, check=False)
        deleted = [name for name in listed.split("\0") if name]
        if deleted:
            # only what is missing comes back: a candidate's edits in the other files stay
            ws.run_git(["checkout-index", "--all", "--quiet"], self.root, check=False)
            shown = ", ".join(deleted[:3]) + (" ..." if len(deleted) > 3 else "")
            gone.append(f"{len(deleted)} tracked file(s) ({shown})")
        return "removed " + " and ".join(gone) if gone else ""


UNSTABLE_WARNING = "have ids that change from one run to the next"
UNSTABLE_MARKS = ("{addr}", "{time}")  # what mendbot's plugin puts in place of unstable parts


def is_unstable(nodeid: str) -> bool:
    """Whether ``nodeid`` is a test id whose parameters change between collections (as
    mendbot's plugin names it: placeholders for the parts that change, a ``#N`` when that
    made two ids equal)."""
    return any(mark in nodeid for mark in UNSTABLE_MARKS)


def select_arguments(nodeids: Sequence[str], folder: Path) -> list[str]:
    """The pytest arguments that run exactly ``nodeids``: the ids themselves, or, where some
    cannot be given to pytest as they are (unstable ones), their files and the ids in a file
    for mendbot's plugin to select and order by (``--mendbot-order``)."""
    if not any(is_unstable(nodeid) for nodeid in nodeids):
        return list(nodeids)
    chosen = folder / "selected.txt"
    chosen.write_text("".join(f"{nodeid}\n" for nodeid in nodeids), encoding="utf-8")
    files = dict.fromkeys(nodeid.split("::", 1)[0] for nodeid in nodeids)
    return [f"--mendbot-order={chosen}", *files]


def copy_plugin(folder: Path) -> None:
    """Put mendbot's pytest plugin (and the module it imports) where a test process loads it,
    and mendbot's own coverage.py beside it for a test environment that has none (the plugin
    uses the environment's own when there is one)."""
    for module in (mendbot_pytest, mendbot_writes):
        shutil.copy2(str(module.__file__), folder / Path(str(module.__file__)).name)
    vendor = folder / mendbot_pytest.VENDOR_FOLDER / "coverage"
    if not vendor.exists():
        with contextlib.suppress(ImportError, OSError):
            import coverage

            shutil.copytree(
                Path(str(coverage.__file__)).parent,
                vendor,
                ignore=shutil.ignore_patterns("__pycache__"),
            )


Coverage = dict[str, dict[str, frozenset[int]]]


def without_imports(by_context: Mapping[str, Any]) -> dict[str, Any]:
    """The contexts of what the tests ran themselves (not their imports' ``|import`` phase)."""
    return {c: files for c, files in by_context.items() if not str(c).endswith("|import")}


def read_coverage(path: Path, project_dir: Path) -> tuple[Coverage, Coverage] | None:
    """nodeid -> project-relative file -> lines, from the JSON mendbot's plugin wrote (one
    file per pytest-xdist worker when the tests ran under xdist): everything each test ran,
    imports included, and what it ran itself; None when nothing was written."""
    files = [path] if path.exists() else []
    files += sorted(path.parent.glob(path.name + ".gw*"))
    if not files:
        return None
    merged: dict[str, dict[str, list[int]]] = {}
    for file in files:
        try:
            loaded = json.loads(file.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(loaded, dict):
            continue
        for context, measured in loaded.items():
            if isinstance(measured, dict):
                into = merged.setdefault(str(context), {})
                for name, lines in measured.items():
                    if isinstance(lines, list):
                        into.setdefault(str(name), []).extend(lines)
    return (
        relative_coverage(merged, project_dir),
        relative_coverage(without_imports(merged), project_dir),
    )


def relative_coverage(
    by_context: Mapping[str, Mapping[str, Sequence[int]]], project_dir: Path
) -> dict[str, dict[str, frozenset[int]]]:
    """nodeid -> project-relative file -> lines, from context -> measured file -> lines
    (a context is a node id, or pytest-cov's ``nodeid|phase``; files outside the project
    are left out)."""
    root = project_dir.resolve()
    relative: dict[str, str | None] = {}
    per_test: dict[str, dict[str, set[int]]] = {}
    for context, files in by_context.items():
        nodeid = context.rsplit("|", 1)[0] if "|" in context else context
        for measured, lines in files.items():
            if measured not in relative:
                try:
                    relative[measured] = Path(measured).resolve().relative_to(root).as_posix()
                except ValueError:
                    relative[measured] = None
            name = relative[measured]
            if name is not None and isinstance(lines, list):
                per_test.setdefault(nodeid, {}).setdefault(name, set()).update(
                    line for line in lines if isinstance(line, int)
                )
    return {
        nodeid: {file: frozenset(lines) for file, lines in files.items()}
        for nodeid, files in per_test.items()
    }


def not_run(nodeids: Sequence[str]) -> tuple[TestResult, ...]:
    return tuple(TestResult(nodeid=n, outcome=Outcome.NOT_RUN) for n in nodeids)


def _relative_to(path: str, folder: Path) -> str:
    """``path`` relative to ``folder`` (posix), or as it is when it lies elsewhere."""
    try:
        return Path(path).relative_to(folder).as_posix()
    except ValueError:
        return path
