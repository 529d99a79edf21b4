"""Fault localization: rank (file, line, function) locations by suspiciousness.

Two signals are combined. Traceback frames inside the project's code (not its tests) point
straight at where an exception surfaced, innermost first. Spectrum-based ranking uses the
per-test coverage contexts of the baseline run: a line executed by many failing tests and few
passing ones is suspicious (the Ochiai coefficient). Where neither signal exists (no coverage,
a module that does not import), the functions the failing tests name are used.
"""

from __future__ import annotations

import ast
import math
import re
from collections.abc import Mapping, Sequence

from bot.analysis.classify import is_test_path
from bot.analysis.source import enclosing_function, function_spans, parse, statement_starts
from bot.models import Failure, FailureClass, Location, TestRun

TRACEBACK_WEIGHT = 1.0
HINT_WEIGHT = 2.0


def ochiai(
    coverage: Mapping[str, Mapping[str, frozenset[int]]],
    failing: Sequence[str],
    passing: Sequence[str],
    code_files: set[str],
) -> dict[tuple[str, int], float]:
    failed_count: dict[tuple[str, int], int] = {}
    passed_count: dict[tuple[str, int], int] = {}
    for nodeid in failing:
        for file, lines in coverage.get(nodeid, {}).items():
            if file in code_files:
                for line in lines:
                    failed_count[(file, line)] = failed_count.get((file, line), 0) + 1
    for nodeid in passing:
        for file, lines in coverage.get(nodeid, {}).items():
            if file in code_files:
                for line in lines:
                    if (file, line) in failed_count:
                        passed_count[(file, line)] = passed_count.get((file, line), 0) + 1
    total_failed = max(1, len([n for n in failing if n in coverage]))
    return {
        key: ef / math.sqrt(total_failed * (ef + passed_count.get(key, 0)))
        for key, ef in failed_count.items()
    }


_IMPORTED = re.compile(r"^\s*from\s+([\w.]+)\s+import\s+(.+)$", re.M)


def _named_functions(test_source: str, sources: Mapping[str, str]) -> list[tuple[str, int, str]]:
    """Definitions of the names a test file imports from the project, or calls as attributes."""
    names: set[str] = set()
    tree = parse(test_source)
    if tree is not None:
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.Attribute):
                names.add(node.attr)
            elif isinstance(node, ast.Name):
                names.add(node.id)
    else:
        for match in _IMPORTED.finditer(test_source):
            names.update(part.strip().split(" as ")[0] for part in match.group(2).split(","))
    found: list[tuple[str, int, str]] = []
    for path, text in sources.items():
        for first, _last, qualname in function_spans(text):
            if qualname.split(".")[-1] in names or qualname.split(".")[0] in names:
                found.append((path, first, qualname))
    return found


def localize(
    failures: Sequence[Failure],
    baseline: TestRun,
    sources: Mapping[str, str],
    test_sources: Mapping[str, str],
    *,
    hint: tuple[str, int] | None = None,
    limit: int = 40,
) -> tuple[Location, ...]:
    """Ranked locations in the code under repair (never in test files)."""
    code_files = set(sources)
    scores: dict[tuple[str, int], float] = {}
    reasons: dict[tuple[str, int], str] = {}

    def add(key: tuple[str, int], score: float, reason: str) -> None:
        if key[0] not in code_files:
            return
        if score > scores.get(key, 0.0):
            reasons[key] = reason
        scores[key] = scores.get(key, 0.0) + score

    if hint is not None:
        add(hint, HINT_WEIGHT, "hint")
    for failure in failures:
        frames = [f for f in failure.frames if not is_test_path(f.file)]
        for depth, frame in enumerate(reversed(frames)):
            add((frame.file, frame.line), TRACEBACK_WEIGHT * (0.8**depth), "traceback")
    failing = [f.nodeid for f in failures]
    # what each test ran itself: the lines its imports ran (module-level code, class bodies,
    # def lines) would charge them to whichever test imported a module first
    ran = baseline.own_coverage or baseline.coverage
    spectrum = ochiai(ran, failing, baseline.passing, code_files)
    for key, score in spectrum.items():
        add(key, score, "spectrum")
    if not scores:
        for failure in failures:
            test_file = failure.nodeid.split("::", 1)[0]
            for path, line, _name in _named_functions(test_sources.get(test_file, ""), sources):
                add((path, line), 0.1, "named-by-test")
    if any(f.failure_class is FailureClass.FORMAT for f in failures):
        for failure in failures:
            for frame in failure.frames:
                add((frame.file, frame.line), TRACEBACK_WEIGHT, "traceback")
    scores, reasons = _by_statement(scores, reasons, sources)
    ranked = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return tuple(
        Location(
            file=file,
            line=line,
            function=enclosing_function(sources[file], line),
            score=round(score, 4),
            reason=reasons[(file, line)],
        )
        for (file, line), score in ranked
    )


def _by_statement(
    scores: Mapping[tuple[str, int], float],
    reasons: Mapping[tuple[str, int], str],
    sources: Mapping[str, str],
) -> tuple[dict[tuple[str, int], float], dict[tuple[str, int], str]]:
    """Scores per statement (its first line): the lines of one statement written over
    several lines would otherwise take as many of the places the engines try first."""
    merged: dict[tuple[str, int], float] = {}
    why: dict[tuple[str, int], str] = {}
    for (file, line), score in scores.items():
        key = (file, statement_starts(sources[file]).get(line, line))
        if score > merged.get(key, -1.0):
            merged[key], why[key] = score, reasons[(file, line)]
    return merged, why
