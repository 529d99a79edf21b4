"""Analysis: the round's sources, its failures classified and localized, and whether the run
is going round in circles."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from pathlib import Path

from bot.analysis.classify import failures_of, is_test_path
from bot.analysis.localize import localize
from bot.gates.overfit import failing_test_literals
from bot.models import Analysis, Failure, Location, TestRun, Workspace
from bot.stages.context import RoundInputs, Run, RunState

STUCK_REPEATS = 3
SKIP_DIRS = {
    ".git",
    ".venv",
    "venv",
    "env",
    "node_modules",
    "__pycache__",
    ".tox",
    ".nox",
    "build",
    "dist",
    ".mypy_cache",
    ".pytest_cache",
    ".ruff_cache",
    "site-packages",
}


def collected_files(run: TestRun) -> frozenset[str]:
    """The files a run's tests were collected from (by their node ids)."""
    return frozenset(r.nodeid.split("::", 1)[0] for r in run.results if "::" in r.nodeid)


def read_sources(
    project_dir: Path, test_files: Collection[str] = ()
) -> tuple[dict[str, str], dict[str, str]]:
    """Project-relative Python files: (code under repair, tests). A file is a test file by
    its name (``is_test_path``) or because the suite collects tests from it (``test_files``,
    the files the baseline's node ids name: ``test.py``, ``checks.py``)."""
    code: dict[str, str] = {}
    tests: dict[str, str] = {}
    for path in sorted(project_dir.rglob("*.py")):
        relative = path.relative_to(project_dir)
        if any(part in SKIP_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        key = relative.as_posix()
        (tests if is_test_path(key) or key in test_files else code)[key] = text
    return code, tests


def analyse(run: Run, number: int, current: TestRun) -> RoundInputs:
    """The inputs of round ``number``, which starts from ``current``."""
    code, tests = read_sources(run.workspace.project_dir, run.state.test_files)
    failures = failures_of(current, {**code, **tests})
    trigger = run.trigger
    hint = (trigger.hint_path, trigger.hint_line or 1) if trigger.hint_path else None
    locations = localize(failures, current, code, tests, hint=_hint(hint, run.workspace))
    _trace(run, number, failures, locations)
    targets = tuple(current.failing) + tuple(e.path for e in current.collection_errors if e.path)
    return RoundInputs(
        number=number,
        current=current,
        analysis=Analysis(failures=failures, locations=locations),
        code=code,
        tests=tests,
        targets=targets,
        literals=failing_test_literals(tests, targets),
    )


def _trace(
    run: Run, number: int, failures: Sequence[Failure], locations: Sequence[Location]
) -> None:
    run.ports.trace.write(
        "analysis",
        round=number,
        failures=[
            {
                "test": f.nodeid,
                "class": f.failure_class.value,
                "error": f.exception_type,
                "message": f.message[:300],
            }
            for f in failures
        ],
        locations=[
            {
                "file": loc.file,
                "line": loc.line,
                "function": loc.function,
                "score": loc.score,
                "reason": loc.reason,
            }
            for loc in locations[:10]
        ],
    )


def _hint(hint: tuple[str, int] | None, workspace: Workspace) -> tuple[str, int] | None:
    if hint is None:
        return None
    path, line = hint
    prefix = workspace.project_subdir + "/" if workspace.project_subdir else ""
    if prefix and path.startswith(prefix):
        path = path[len(prefix) :]
    return path, line


def stuck(state: RunState, failures: Sequence[Failure]) -> str:
    """Why the run stops going round: the same failures came back too often; "" otherwise."""
    key = "|".join(sorted(f.fingerprint for f in failures))
    state.fingerprints[key] = state.fingerprints.get(key, 0) + 1
    if state.fingerprints[key] >= STUCK_REPEATS:
        return "stuck: the same failures came back three times"
    return ""
