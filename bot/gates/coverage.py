"""Coverage gate: the changed lines run under the tests, and no line the tests ran stops running.

The numbers come from the per-test coverage of the verify run (``TestRun.coverage``, which
pytest-cov records with test contexts) and coverage.py's own source analysis
(``coverage.parser.PythonParser``: which lines are statements, and the first line of every
multi-line statement), so "executable" means what it means in a coverage report.

Why not diff-cover: it needs a coverage XML report and a git diff, so two more processes
(``coverage xml`` over the data file, then ``diff-cover``) per verified candidate, and it
would re-derive from git what mendbot already holds exactly (the old and new text of every
file it changed). Its result is the same quotient computed here: changed statement lines
that executed over changed statement lines.

Coverage is counted for passing tests only: a failing test runs code, but does not show
that code works. pytest-cov records lines that run while a module is imported without a test
context, so statements outside function bodies (imports, definitions, constants) count as
executed for every module the tests ran code in; code under ``if __name__ == "__main__":``
does not.

A changed statement line that no passing test runs raises a doubt (the patch passed every
test; the report asks for a review of those lines); changed lines under a Python version or
platform check that did not run here are not counted at all. The gate fails when a line that
the passing tests ran before the change, and that the change left alone, no longer runs in
a file the patch changed (a branch the patch bypasses); in a file the patch did not change,
such lines are a helper the patched code no longer calls, which is a doubt. The reported
totals are executed/executable statements over the code under repair, before and after; a
total can still drop when a patch deletes covered lines (the overfitting guard flags that).
"""

from __future__ import annotations

import ast
import difflib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache

from bot.gates.base import GateResult, doubt, failed, not_run, passed
from bot.models import TestRun


@dataclass(frozen=True)
class Shape:
    """What coverage.py's parser knows about one file's text."""

    statements: frozenset[int]
    import_time: frozenset[int]  # statements that run when the module is imported
    first_line: Mapping[int, int]  # any line of a multi-line statement -> its first line
    elsewhere: frozenset[int] = frozenset()  # under a Python version or platform check


def _main_guard(node: ast.stmt) -> bool:
    if not isinstance(node, ast.If) or not isinstance(node.test, ast.Compare):
        return False
    text = ast.unparse(node.test).replace("'", '"')
    return text in ('__name__ == "__main__"', '"__main__" == __name__')


ENVIRONMENT_CHECKS = (
    "sys.version_info",
    "sys.platform",
    "os.name",
    "platform.",
    "sys.implementation",
)


def _environment_guarded(tree: ast.Module) -> frozenset[int]:
    """Lines in the branches of an ``if`` that tests the Python version or the platform
    (``if sys.version_info < (3, 8):``): one of its branches cannot run on this interpreter,
    so its lines do not count against the coverage of a change."""
    found: set[int] = set()
    for node in ast.walk(tree):
        if not isinstance(node, ast.If):
            continue
        test = ast.unparse(node.test)
        if not any(check in test for check in ENVIRONMENT_CHECKS):
            continue
        for branch in (node.body, node.orelse):
            for statement in branch:
                found.update(
                    range(statement.lineno, (statement.end_lineno or statement.lineno) + 1)
                )
    return frozenset(found)


def _body_ranges(tree: ast.Module) -> list[tuple[int, int]]:
    """Line ranges that do not run at import: function bodies and ``__main__`` blocks."""
    ranges: list[tuple[int, int]] = []
    for node in ast.walk(tree):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef | ast.Lambda):
            body = node.body if isinstance(node.body, list) else [node.body]
            first = body[0]
            ranges.append((first.lineno, node.end_lineno or first.lineno))
    for statement in tree.body:
        if _main_guard(statement):
            assert isinstance(statement, ast.If)
            ranges.append((statement.body[0].lineno, statement.end_lineno or statement.lineno))
    return ranges


@lru_cache(maxsize=1024)
def shape(text: str) -> Shape:
    from coverage.parser import PythonParser

    try:
        parser = PythonParser(text=text)
        parser.parse_source()
        tree = ast.parse(text)
    except Exception:  # coverage's NotPython, SyntaxError: nothing here can be executed
        return Shape(frozenset(), frozenset(), {})
    statements = frozenset(parser.statements)
    line_count = len(text.splitlines())
    first_line = {line: parser.first_line(line) for line in range(1, line_count + 1)}
    ranges = _body_ranges(tree)
    import_time = frozenset(
        line for line in statements if not any(start <= line <= end for start, end in ranges)
    )
    return Shape(statements, import_time, first_line, _environment_guarded(tree))


def new_lines(old: str, new: str) -> set[int]:
    """Line numbers of ``new`` that an edit wrote (replaced or inserted lines)."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    found: set[int] = set()
    for tag, _, _, first, last in matcher.get_opcodes():
        if tag in ("replace", "insert"):
            found.update(range(first + 1, last + 1))
    return found


def kept_lines(old: str, new: str) -> dict[int, int]:
    """Old line number -> new line number, for the lines an edit left alone."""
    matcher = difflib.SequenceMatcher(None, old.splitlines(), new.splitlines(), autojunk=False)
    mapping: dict[int, int] = {}
    for tag, old_first, old_last, new_first, _ in matcher.get_opcodes():
        if tag == "equal":
            for offset in range(old_last - old_first):
                mapping[old_first + offset + 1] = new_first + offset + 1
    return mapping


def executed(run: TestRun, tests: Iterable[str] | None = None) -> dict[str, set[int]]:
    """File -> lines run by ``tests`` (default: the run's passing tests)."""
    wanted = run.passing if tests is None else tuple(tests)
    found: dict[str, set[int]] = {}
    for nodeid in wanted:
        for file, lines in run.coverage.get(nodeid, {}).items():
            found.setdefault(file, set()).update(lines)
    return found


def executed_statements(text: str, lines: set[int] | None) -> set[int]:
    """The statements of ``text`` that ran, given the lines a run recorded for it."""
    found = shape(text)
    if not lines:
        return set()
    ran = {found.first_line.get(line, line) for line in lines}
    return (ran | found.import_time) & found.statements


@dataclass(frozen=True)
class Total:
    executed: int
    executable: int

    @property
    def percent(self) -> float:
        return round(100.0 * self.executed / self.executable, 2) if self.executable else 100.0


def total(sources: Mapping[str, str], lines_by_file: Mapping[str, set[int]]) -> Total:
    ran = executable = 0
    for path, text in sources.items():
        ran += len(executed_statements(text, lines_by_file.get(path)))
        executable += len(shape(text).statements)
    return Total(ran, executable)


@dataclass(frozen=True)
class ChangeCoverage:
    covered: int
    changed: int
    missing: Mapping[str, tuple[int, ...]]  # file -> changed statement lines that did not run
    lost: Mapping[str, tuple[int, ...]]  # file -> untouched lines that ran before, not now
    before: Total
    after: Total
    # file -> changed lines under a version or platform check that did not run here
    elsewhere: Mapping[str, tuple[int, ...]] = field(default_factory=dict)
    # file -> lines of a file the patch did not change that ran before, not now (a helper the
    # patched code no longer calls: worth a look, not a bypassed branch of the patch's own)
    unused: Mapping[str, tuple[int, ...]] = field(default_factory=dict)

    def to_json(self) -> dict[str, object]:
        return {
            "covered": self.covered,
            "changed": self.changed,
            "missing": {file: list(lines) for file, lines in self.missing.items()},
            "lost": {file: list(lines) for file, lines in self.lost.items()},
            "no_longer_used": {file: list(lines) for file, lines in self.unused.items()},
            "total_before": self.before.percent,
            "total_after": self.after.percent,
            "percent": round(100.0 * self.covered / self.changed, 1) if self.changed else 100.0,
            "other_interpreters": {f: list(lines) for f, lines in self.elsewhere.items()},
        }


def measure(
    old_sources: Mapping[str, str],
    new_sources: Mapping[str, str],
    before: Mapping[str, set[int]],
    after: Mapping[str, set[int]],
) -> ChangeCoverage:
    """Coverage of a change from ``old_sources`` to ``new_sources`` (code files, no tests).

    ``before``/``after``: file -> lines the passing tests ran, before and after the change.
    """
    covered = changed = 0
    missing: dict[str, tuple[int, ...]] = {}
    lost: dict[str, tuple[int, ...]] = {}
    unused: dict[str, tuple[int, ...]] = {}
    elsewhere: dict[str, tuple[int, ...]] = {}
    for path in sorted(set(old_sources) | set(new_sources)):
        old, new = old_sources.get(path, ""), new_sources.get(path, "")
        if old == new:
            ran_before = executed_statements(old, before.get(path))
            ran_after = executed_statements(new, after.get(path))
            gone = ran_before - ran_after
        else:
            shape_new = shape(new)
            written = {shape_new.first_line.get(n, n) for n in new_lines(old, new)}
            written &= shape_new.statements
            ran_after = executed_statements(new, after.get(path))
            not_here = (written - ran_after) & shape_new.elsewhere
            if not_here:
                elsewhere[path] = tuple(sorted(not_here))
                written -= not_here
            changed += len(written)
            covered += len(written & ran_after)
            if written - ran_after:
                missing[path] = tuple(sorted(written - ran_after))
            mapping = kept_lines(old, new)
            ran_before = executed_statements(old, before.get(path))
            gone = {
                old_line
                for old_line in ran_before
                if old_line in mapping
                and mapping[old_line] not in written
                and mapping[old_line] in shape_new.statements
                and mapping[old_line] not in ran_after
            }
        if gone:
            (unused if old == new else lost)[path] = tuple(sorted(gone))
    return ChangeCoverage(
        covered,
        changed,
        missing,
        lost,
        total(old_sources, before),
        total(new_sources, after),
        elsewhere,
        unused,
    )


def gate(result: ChangeCoverage | None, why_not: str = "") -> list[GateResult]:
    """The two coverage gates (changed lines, total) from a measurement."""
    if result is None:
        return [
            not_run("coverage of changed lines", why_not),
            not_run("total coverage", why_not),
        ]
    gates: list[GateResult] = []
    summary = f"{result.covered} of {result.changed} changed lines run by the tests"
    if result.elsewhere:
        where = ", ".join(f"{file} {list(lines)}" for file, lines in result.elsewhere.items())
        summary += f" (not counted: {where}, under a version or platform check)"
    if result.missing:
        # the tests passed; lines they do not run are for a reviewer to look at, not a reason
        # to throw the patch away
        where = ", ".join(f"{file} {list(lines)}" for file, lines in result.missing.items())
        gates.append(
            doubt("coverage of changed lines", f"{summary}; no test runs {where}: review them")
        )
    else:
        gates.append(passed("coverage of changed lines", summary))
    totals = f"{result.before.percent:.1f}% -> {result.after.percent:.1f}%"
    if result.lost:
        where = ", ".join(f"{file} {list(lines)}" for file, lines in result.lost.items())
        gates.append(
            failed("total coverage", f"{totals}; lines the tests ran before no longer run: {where}")
        )
    elif result.unused:
        # a file the patch left alone: the patched code stopped calling into it
        where = ", ".join(f"{file} {list(lines)}" for file, lines in result.unused.items())
        gates.append(
            doubt(
                "total coverage",
                f"{totals}; the patched code no longer runs {where}: review them",
            )
        )
    elif result.after.percent < result.before.percent:
        gates.append(passed("total coverage", f"{totals}: only deleted lines lowered the total"))
    else:
        gates.append(passed("total coverage", totals))
    return gates
