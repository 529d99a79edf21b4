"""Which tests are related to a set of changed Python files.

Two sources, united: a coverage map recorded by an earlier full run (test -> files it
executed), and the project's static imports (a test file that imports a changed module,
directly or through other project modules), plus test files named after a changed module.
Changed test files and the tests under a changed ``conftest.py`` are related to themselves.
"""

from __future__ import annotations

import ast
import json
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from bot.pipeline import SKIP_DIRS

# pytest's default `python_files`: the files it collects tests from
TEST_FILE = re.compile(r"^(test_.*|.*_test)\.py$")
MAP_VERSION = 1


@dataclass(frozen=True)
class Related:
    """Test files (project-relative) to run, each with the reason it was chosen."""

    tests: tuple[str, ...]
    reasons: Mapping[str, str] = field(default_factory=dict)

    def describe(self, limit: int = 12) -> list[str]:
        lines = [f"{test} ({self.reasons.get(test, 'related')})" for test in self.tests[:limit]]
        if len(self.tests) > limit:
            lines.append(f"... and {len(self.tests) - limit} more")
        return lines


def is_test_file(relative: str) -> bool:
    return bool(TEST_FILE.match(relative.rsplit("/", 1)[-1]))


def python_files(project_dir: Path) -> list[str]:
    """Project-relative posix paths of the project's Python files."""
    found: list[str] = []
    for path in sorted(project_dir.rglob("*.py")):
        relative = path.relative_to(project_dir)
        if any(part in SKIP_DIRS or part.startswith(".") for part in relative.parts[:-1]):
            continue
        found.append(relative.as_posix())
    return found


def module_names(relative: str) -> list[str]:
    """Every dotted name a file may be imported as: ``src/pkg/mod.py`` is ``src.pkg.mod``,
    ``pkg.mod`` or ``mod`` depending on the import path (an over-approximation on purpose)."""
    parts = relative[: -len(".py")].split("/")
    if parts[-1] == "__init__":
        parts = parts[:-1]
    return [".".join(parts[start:]) for start in range(len(parts))]


def _prefixes(dotted: str) -> list[str]:
    pieces = dotted.split(".")
    return [".".join(pieces[: end + 1]) for end in range(len(pieces))]


def imported_names(relative: str, source: str) -> set[str]:
    """The dotted module names ``source`` imports (relative imports resolved by its path)."""
    try:
        tree = ast.parse(source, filename=relative)
    except (SyntaxError, ValueError):
        return set()
    package = relative.split("/")[:-1]
    names: set[str] = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            for alias in node.names:
                names.update(_prefixes(alias.name))
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                keep = len(package) - (node.level - 1)
                if keep < 0:
                    continue
                base = ".".join(package[:keep])
                module = ".".join(p for p in (base, node.module or "") if p)
            else:
                module = node.module or ""
            if module:
                names.update(_prefixes(module))
            for alias in node.names:
                if alias.name != "*":
                    names.add(f"{module}.{alias.name}" if module else alias.name)
    return names


def _imports_by_file(project_dir: Path, files: Sequence[str]) -> dict[str, set[str]]:
    found: dict[str, set[str]] = {}
    for relative in files:
        try:
            source = (project_dir / relative).read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError):
            continue
        found[relative] = imported_names(relative, source)
    return found


def _importers(files: Sequence[str], imports: Mapping[str, set[str]]) -> dict[str, set[str]]:
    """file -> the project files that import it."""
    by_name: dict[str, set[str]] = {}
    for relative in files:
        for name in module_names(relative):
            by_name.setdefault(name, set()).add(relative)
    importers: dict[str, set[str]] = {}
    for relative, names in imports.items():
        for name in names:
            for target in by_name.get(name, ()):
                if target != relative:
                    importers.setdefault(target, set()).add(relative)
    return importers


def _tests_under(folder: str, files: Iterable[str]) -> list[str]:
    prefix = f"{folder}/" if folder else ""
    return [f for f in files if f.startswith(prefix) and is_test_file(f)]


def related_tests(
    project_dir: Path,
    changed: Sequence[str],
    coverage_map: Mapping[str, Sequence[str]] | None = None,
) -> Related:
    """The test files related to ``changed`` (project-relative paths; deleted files count by
    their module names), in the project checked out at ``project_dir``."""
    files = python_files(project_dir)
    present = set(files)
    reasons: dict[str, str] = {}

    def add(test: str, reason: str) -> None:
        if test in present and test not in reasons:
            reasons[test] = reason

    changed_py = [c for c in changed if c.endswith(".py")]
    for path in changed_py:
        name = path.rsplit("/", 1)[-1]
        if is_test_file(path):
            add(path, "changed")
        elif name == "conftest.py":
            for test in _tests_under(path.rpartition("/")[0], files):
                add(test, f"under the changed {path}")
    for nodeid, executed in (coverage_map or {}).items():
        hit = next((c for c in changed_py if c in executed), None)
        if hit:
            add(nodeid.split("::", 1)[0], f"runs {hit} (coverage map)")

    imports = _imports_by_file(project_dir, files)
    importers = _importers(files, imports)
    # the changed files and, for deleted ones, whatever still imports them
    start: dict[str, str] = {c: c for c in changed_py if c in present}
    for gone in (c for c in changed_py if c not in present):
        names = set(module_names(gone))
        for relative, imported in imports.items():
            if names & imported:
                start.setdefault(relative, gone)
    origin = dict(start)  # reached file -> the changed file it leads back to
    queue = list(start)
    while queue:
        current = queue.pop()
        for importer in sorted(importers.get(current, ())):
            if importer not in origin:
                origin[importer] = origin[current]
                queue.append(importer)
    for reached, source in sorted(origin.items()):
        if reached == source and reached in present and is_test_file(reached):
            continue  # a changed test is already listed as changed
        if is_test_file(reached):
            add(reached, f"imports {source}")
        elif reached.rsplit("/", 1)[-1] == "conftest.py":
            for test in _tests_under(reached.rpartition("/")[0], files):
                add(test, f"its conftest imports {source}")

    stems = {
        c.rsplit("/", 1)[-1][: -len(".py")]
        for c in changed_py
        if not is_test_file(c) and not c.endswith(("__init__.py", "conftest.py"))
    }
    for test in files:
        name = test.rsplit("/", 1)[-1]
        for stem in stems:
            if name in (f"test_{stem}.py", f"{stem}_test.py"):
                add(test, f"named after {stem}.py")
    return Related(tests=tuple(sorted(reasons)), reasons=reasons)


def load_coverage_map(path: Path, project: str) -> dict[str, list[str]]:
    """test node id -> project-relative files it ran, as recorded for ``project``."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return {}
    if not isinstance(data, dict) or data.get("version") != MAP_VERSION:
        return {}
    entry = data.get("projects", {}).get(project or ".", {})
    tests = entry.get("tests", {}) if isinstance(entry, dict) else {}
    if not isinstance(tests, dict):
        return {}
    return {
        str(nodeid): [str(f) for f in executed]
        for nodeid, executed in tests.items()
        if isinstance(executed, list)
    }


def save_coverage_map(
    path: Path, project: str, base: str, coverage: Mapping[str, Mapping[str, object]]
) -> int:
    """Record which files each test ran (from a full run's per-test coverage); returns the
    number of tests recorded. Other projects' entries in the same file are kept."""
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        if not isinstance(data, dict) or data.get("version") != MAP_VERSION:
            data = {}
    except (OSError, ValueError):
        data = {}
    found = data.get("projects")
    projects: dict[str, object] = found if isinstance(found, dict) else {}
    projects[project or "."] = {
        "base": base,
        "tests": {nodeid: sorted(files) for nodeid, files in sorted(coverage.items())},
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    scratch = path.with_suffix(".json.tmp")
    scratch.write_text(
        json.dumps({"version": MAP_VERSION, "projects": projects}, indent=1), encoding="utf-8"
    )
    scratch.replace(path)
    return len(coverage)
