"""The benchmark bug corpus is well formed: every bug fails as shipped and its reference passes.

Each folder under ``benchmarks/corpus/`` is a tiny Python project with a ``bug.toml`` and a
``reference/`` overlay.  These tests run each project's pytest suite for real, once as shipped
(at least one test must fail, error or hang) and once with the reference overlaid (everything
must pass), so the benchmark never scores the bot against a bug that is not a bug.
"""

from __future__ import annotations

import os
import re
import shutil
import sys
import tomllib
from pathlib import Path
from typing import Any

import pytest

from bot import proc
from bot.models import ProcessResult

CORPUS = Path(__file__).resolve().parent.parent / "benchmarks" / "corpus"
BUG_NAME = re.compile(r"^[a-z0-9]+(?:-[a-z0-9]+)*$")
FAILURE_CLASSES = {"FORMAT", "CONTRACT", "RUNTIME_SAFETY", "LOGIC"}
EXPECTATIONS = {"fixed", "not_fixed"}
TAGS = {"boundary", "multi-file", "hang", "package", "multi-edit", "unfixable", "format", "import"}
TEMPLATE_HINTS = {
    "literal-magnitude",
    "other-arithmetic-operator",
    "other-comparison-operator",
    "negate-operand",
    "break-continue",
    "comparison-boundary",
    "comparison-operator",
    "arithmetic-operator",
    "boolean-operator",
    "off-by-one",
    "wrong-constant",
    "wrong-variable",
    "wrong-attribute",
    "swapped-arguments",
    "negate-condition",
    "missing-clause",
    "none-guard",
    "empty-guard",
    "dict-get",
    "exception-type",
    "missing-raise",
    "wrapper-call",
    "wrong-return",
    "missing-statement",
    "augmented-operator",
    "is-vs-eq",
    "syntax",
    "import-name",
    "operand",
    "clamp",
    "condition-from-scope",
    "computed-off-by-one",
    "comparison-shift",
    "scope-clause",
    "carried-assignment",
    "statement-from-scope",
    "missing-return",
    "container-slice",
    "enclosing-name",
    "asserted-literal",
    "call-variant",
    "call-argument",
    "unary-operator",
    "boolean-flip",
    "base-case",
    "project-constant",
}
REQUIRED_KEYS = {"description", "failure_class", "expect", "tags", "template_hint"}
RUN_TIMEOUT = 20.0
HANG_TIMEOUT = 4.0  # a hang bug is expected to time out: no need to wait the full budget
NOT_COPIED = ("reference", "bug.toml", "__pycache__", ".pytest_cache", "*.pyc")
SUMMARY_COUNT = re.compile(r"(\d+) (passed|failed|errors?)\b")

BUGS = sorted(p for p in CORPUS.iterdir() if p.is_dir()) if CORPUS.is_dir() else []


def _metadata(bug: Path) -> dict[str, Any]:
    with (bug / "bug.toml").open("rb") as handle:
        return tomllib.load(handle)


def _project_files(bug: Path) -> list[Path]:
    """Files of the buggy project itself (not bug.toml, not the reference overlay)."""
    skipped = {"bug.toml"}
    files = []
    for path in sorted(bug.rglob("*")):
        relative = path.relative_to(bug)
        if path.is_dir() or relative.parts[0] == "reference" or str(relative) in skipped:
            continue
        if {"__pycache__", ".pytest_cache"} & set(relative.parts) or path.suffix == ".pyc":
            continue
        files.append(relative)
    return files


def _code_modules(bug: Path) -> list[Path]:
    return [p for p in _project_files(bug) if p.suffix == ".py" and p.parts[0] != "tests"]


def _child_env() -> dict[str, str]:
    """The environment for a corpus pytest run: no plugins, no coverage, no inherited options."""
    env = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("PYTEST_", "COV_CORE_", "COVERAGE_")) and key != "PYTHONPATH"
    }
    env["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"  # the corpus needs nothing but pytest itself
    env["PYTHONDONTWRITEBYTECODE"] = "1"
    env["PYTHONHASHSEED"] = "0"
    return env


def _copy_project(bug: Path, destination: Path) -> Path:
    project = destination / bug.name
    shutil.copytree(
        bug,
        project,
        ignore=shutil.ignore_patterns(*NOT_COPIED),
    )
    return project


def _overlay_reference(bug: Path, project: Path) -> None:
    reference = bug / "reference"
    for source in reference.rglob("*"):
        if source.is_file():
            shutil.copyfile(source, project / source.relative_to(reference))


def _run_pytest(project: Path, timeout: float) -> tuple[ProcessResult, dict[str, int]]:
    result = proc.run(
        [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
        cwd=project,
        env=_child_env(),
        timeout=timeout,
    )
    counts: dict[str, int] = {"passed": 0, "failed": 0, "error": 0}
    summary = result.stdout.strip().splitlines()[-1:] if result.stdout.strip() else []
    for line in summary:
        for number, word in SUMMARY_COUNT.findall(line):
            key = "error" if word.startswith("error") else word
            counts[key] += int(number)
    return result, counts


def _report(result: ProcessResult) -> str:
    return f"exit {result.returncode}, timed out {result.timed_out}\n{result.stdout[-3000:]}"


def test_corpus_is_not_empty() -> None:
    assert CORPUS.is_dir(), f"missing corpus folder {CORPUS}"
    assert BUGS, "the corpus holds no bugs"


def test_corpus_wide_requirements() -> None:
    metadata = {bug.name: _metadata(bug) for bug in BUGS}
    tags = [set(m["tags"]) for m in metadata.values()]
    assert len(metadata) >= 36
    assert {m["failure_class"] for m in metadata.values()} == FAILURE_CLASSES
    for failure_class in FAILURE_CLASSES:
        count = sum(m["failure_class"] == failure_class for m in metadata.values())
        assert count >= 3, f"only {count} {failure_class} bugs"
    assert sum("multi-file" in t for t in tags) >= 5
    assert sum({"multi-file", "package"} <= t for t in tags) >= 3
    assert sum("hang" in t for t in tags) >= 2
    assert sum("boundary" in t for t in tags) >= 4
    assert sum("multi-edit" in t for t in tags) >= 2
    unfixable = [m for m in metadata.values() if m["expect"] == "not_fixed"]
    assert len(unfixable) >= 5
    assert all("unfixable" in m["tags"] for m in unfixable)


@pytest.mark.parametrize("bug", BUGS, ids=[bug.name for bug in BUGS])
def test_bug_metadata_and_layout(bug: Path) -> None:
    assert BUG_NAME.match(bug.name), f"{bug.name}: use lowercase letters, digits and dashes"
    metadata = _metadata(bug)
    assert set(metadata) >= REQUIRED_KEYS, f"missing keys {REQUIRED_KEYS - set(metadata)}"
    assert isinstance(metadata["description"], str) and metadata["description"].strip()
    assert metadata["failure_class"] in FAILURE_CLASSES
    assert metadata["expect"] in EXPECTATIONS
    assert isinstance(metadata["tags"], list) and set(metadata["tags"]) <= TAGS
    tags = set(metadata["tags"])
    hint = metadata["template_hint"]
    if metadata["expect"] == "not_fixed":
        assert "unfixable" in tags and hint == ""
    else:
        assert "unfixable" not in tags
        assert hint and set(hint.split("+")) <= TEMPLATE_HINTS, f"unknown hint {hint!r}"
    if metadata["failure_class"] == "FORMAT":
        assert "format" in tags

    with (bug / "pyproject.toml").open("rb") as handle:
        options = tomllib.load(handle)["tool"]["pytest"]["ini_options"]
    assert options["pythonpath"] == ["."] and options["testpaths"] == ["tests"]

    files = _project_files(bug)
    tests = [p for p in files if p.parts[0] == "tests" and p.name.startswith("test_")]
    assert tests, "no tests/test_*.py"
    modules = _code_modules(bug)
    assert modules, "no code modules"
    top_names = {module.parts[0].removesuffix(".py") for module in modules}
    shadowed = top_names & set(sys.stdlib_module_names) | top_names & {"bot", "tests", "pytest"}
    assert not shadowed, f"module names shadow the standard library or the tools: {shadowed}"
    if "package" in tags:
        assert any(len(m.parts) == 2 and m.name == "__init__.py" for m in modules)
    if "multi-file" in tags:
        assert len(modules) >= 2
    for module in modules:
        if module.name != "__init__.py":
            lines = len((bug / module).read_text().splitlines())
            assert 15 <= lines <= 120, f"{module}: {lines} lines"

    reference = bug / "reference"
    assert reference.is_dir(), "reference/ is missing"
    overlay = [p.relative_to(reference) for p in sorted(reference.rglob("*")) if p.is_file()]
    assert overlay, "reference/ is empty"
    for relative in overlay:
        assert relative in files, f"reference/{relative} has no counterpart in the project"
        assert relative.parts[0] != "tests", "the reference may not change the tests"
        assert (reference / relative).read_text() != (bug / relative).read_text()


@pytest.mark.parametrize("bug", BUGS, ids=[bug.name for bug in BUGS])
def test_bug_fails_as_shipped(bug: Path, tmp_path: Path) -> None:
    metadata = _metadata(bug)
    tags = set(metadata["tags"])
    project = _copy_project(bug, tmp_path)
    hangs = "hang" in tags
    result, counts = _run_pytest(project, HANG_TIMEOUT if hangs else RUN_TIMEOUT)
    if hangs:
        assert result.timed_out, f"a hang bug that finished:\n{_report(result)}"
        return
    assert not result.timed_out, f"an unexpected hang:\n{_report(result)}"
    assert result.returncode in (1, 2), f"the buggy version does not fail:\n{_report(result)}"
    if metadata["failure_class"] == "FORMAT":
        assert counts["error"] >= 1, _report(result)
        return
    assert counts["failed"] >= 1 and counts["error"] == 0, _report(result)
    assert counts["passed"] >= 2, f"too few tests pass around the bug:\n{_report(result)}"
    if metadata["expect"] == "fixed":
        assert counts["failed"] <= 3, f"too many tests fail:\n{_report(result)}"


@pytest.mark.parametrize("bug", BUGS, ids=[bug.name for bug in BUGS])
def test_reference_passes(bug: Path, tmp_path: Path) -> None:
    project = _copy_project(bug, tmp_path)
    _overlay_reference(bug, project)
    result, counts = _run_pytest(project, RUN_TIMEOUT)
    assert not result.timed_out, f"the reference hangs:\n{_report(result)}"
    assert result.returncode == 0, f"the reference does not pass:\n{_report(result)}"
    assert counts["passed"] >= 3 and counts["failed"] == 0, _report(result)
    assert counts["passed"] <= 12, "keep each bug's suite small (3-12 tests)"


def test_example_project_has_exactly_one_failing_test(tmp_path: Path) -> None:
    example = CORPUS.parent.parent / "examples" / "invoice"
    project = tmp_path / "invoice"
    shutil.copytree(example, project, ignore=shutil.ignore_patterns(*NOT_COPIED))
    result, counts = _run_pytest(project, RUN_TIMEOUT)
    assert result.returncode == 1, _report(result)
    assert counts["failed"] == 1 and counts["passed"] >= 3, _report(result)
