"""Screening: which tests judge a candidate (``Selection``, from the per-test coverage of
the round's last run) and what the screening worker's behaviour probe needs of it. The
screening itself runs in ``bot/validate.py``."""

from __future__ import annotations

import ast
import difflib
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from bot.gates.ranking import changed_targets, tests_running
from bot.models import Candidate, TestRun
from bot.stages.context import RoundInputs, Run


def changed_lines(old: str, new: str) -> frozenset[int]:
    """Line numbers of ``old`` that an edit touches (an insertion touches its neighbours)."""
    return _diff(old, new)[0]


def inserts_lines(old: str, new: str) -> bool:
    """Whether the edit adds lines of its own (not only changes lines of ``old``)."""
    return _diff(old, new)[1]


@functools.lru_cache(maxsize=256)
def _diff(old: str, new: str) -> tuple[frozenset[int], bool]:
    """Lines shared at the start and at the end are set aside before the diff: a candidate
    changes a line or a few of a module that may have thousands, and screening asks this of
    every candidate several times (cached)."""
    before, after = old.splitlines(), new.splitlines()
    start, shortest = 0, min(len(before), len(after))
    while start < shortest and before[start] == after[start]:
        start += 1
    end = 0
    while end < shortest - start and before[-1 - end] == after[-1 - end]:
        end += 1
    lines: set[int] = set()
    inserted = False
    matcher = difflib.SequenceMatcher(
        None, before[start : len(before) - end], after[start : len(after) - end], autojunk=False
    )
    for tag, first, last, other_first, other_last in matcher.get_opcodes():
        if tag == "equal":
            continue
        inserted = inserted or (other_last - other_first) > (last - first)
        first, last = first + start, last + start
        if first == last:
            lines.update({first, first + 1})
        else:
            lines.update(range(first + 1, last + 1))
    return frozenset(lines), inserted


@functools.lru_cache(maxsize=64)
def function_spans(source: str) -> tuple[tuple[int, int], ...]:
    """(first, last) line of every function body of ``source``, innermost first; () when it
    does not parse."""
    try:
        tree = ast.parse(source)
    except (SyntaxError, ValueError):
        return ()
    spans = [  # the body: a test that only imported the module ran the def line
        (node.body[0].lineno, node.end_lineno or node.lineno)
        for node in ast.walk(tree)
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef)
    ]
    return tuple(sorted(spans, key=lambda span: span[1] - span[0]))


@dataclass(frozen=True)
class Selection:
    """Which tests judge a candidate, from the per-test coverage of the round's last run.

    Targets are the failing tests that execute the lines a candidate changes (all failing
    tests when coverage says none does); guards are the passing tests that execute them.
    """

    targets: tuple[str, ...]
    passing: tuple[str, ...]
    failing_index: Mapping[str, Mapping[int, tuple[str, ...]]]
    passing_index: Mapping[str, Mapping[int, tuple[str, ...]]]
    sources: Mapping[str, str]
    has_coverage: bool

    @classmethod
    def of(
        cls,
        current: TestRun,
        targets: Sequence[str],
        sources: Mapping[str, str],
        unreliable: frozenset[str] = frozenset(),
    ) -> Selection:
        """``unreliable``: passing tests screening does not judge by (their outcome depends
        on the order; the proof, in the normal order, still requires them)."""
        passing = tuple(n for n in current.passing if n not in unreliable)

        def index(nodeids: Sequence[str]) -> dict[str, dict[int, tuple[str, ...]]]:
            built: dict[str, dict[int, list[str]]] = {}
            for nodeid in nodeids:
                for file, lines in current.coverage.get(nodeid, {}).items():
                    if file in sources:
                        per_line = built.setdefault(file, {})
                        for line in lines:
                            per_line.setdefault(line, []).append(nodeid)
            return {f: {n: tuple(t) for n, t in lines.items()} for f, lines in built.items()}

        return cls(
            targets=tuple(targets),
            passing=passing,
            failing_index=index([t for t in targets if "::" in t]),
            passing_index=index(passing),
            sources=sources,
            has_coverage=bool(current.coverage),
        )

    def _touching(
        self, candidate: Candidate, index: Mapping[str, Mapping[int, tuple[str, ...]]]
    ) -> list[str]:
        selected: list[str] = []
        for edit in candidate.edits:
            old = self.sources.get(edit.path, "")
            per_line = index.get(edit.path, {})
            for line in sorted(changed_lines(old, edit.new_text)):
                for nodeid in per_line.get(line, ()):
                    if nodeid not in selected:
                        selected.append(nodeid)
        return selected

    def targets_for(self, candidate: Candidate) -> list[str]:
        if not self.has_coverage:
            return list(self.targets)
        touching = self._touching(candidate, self.failing_index)
        return touching or list(self.targets)

    def unreached_for(self, candidate: Candidate) -> list[str]:
        """The round's failing tests that run the function a candidate changes but not the
        lines it changes. The candidate cannot make them pass, and a change on a line they
        all run might fix them all, so a candidate that fixes its own targets is still only
        a partial fix of the round. Failing tests that never enter the function fail for
        another reason (a second bug): they do not make the candidate partial."""
        if not self.has_coverage:
            return []
        if any(inserts_lines(self.sources.get(e.path, ""), e.new_text) for e in candidate.edits):
            # an added statement runs wherever its block runs, not only where its neighbouring
            # lines did (a `return` added after a loop whose last line some tests never reach)
            return []
        reached = set(self.targets_for(candidate))
        if len(reached) >= len(self.targets):
            return []
        nearby: set[str] = set()
        for edit in candidate.edits:
            old = self.sources.get(edit.path, "")
            per_line = self.failing_index.get(edit.path, {})
            spans = function_spans(old)
            for changed in changed_lines(old, edit.new_text):
                for first, last in spans:
                    if first <= changed <= last:
                        for line in range(first, last + 1):
                            nearby.update(per_line.get(line, ()))
                        break
        return [t for t in self.targets if t in nearby and t not in reached]

    def guards_for(self, candidate: Candidate) -> list[str]:
        if not self.has_coverage:
            return list(self.passing)
        return self._touching(candidate, self.passing_index)


def probe_plan(run: Run, inputs: RoundInputs, candidate: Candidate) -> dict[str, object] | None:
    """What the screening worker's probe needs for a candidate: the functions it changes and
    the passing tests that call them."""
    found = changed_targets(candidate, inputs.code)
    tests = tests_running(found, inputs.code, inputs.current)
    if not found or not tests:
        return None
    project = run.workspace.project_dir
    return {
        "targets": [
            {"key": f"{path}::{name}", "file": str((project / path).resolve()), "qualname": name}
            for path, name in found
        ],
        "tests": tests,
    }
