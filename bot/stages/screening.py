"""Screening: which tests judge a candidate (``Selection``, from the per-test coverage of
the round's last run) and what the screening worker's behaviour probe needs of it. The
screening itself runs in ``bot/validate.py``."""

from __future__ import annotations

import difflib
import functools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field

from bot.analysis.source import common_ends, function_bodies
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
    start, end = common_ends(before, after)
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
    # failing test -> the functions it ran, worked out when first asked
    _functions: dict[str, frozenset[tuple[str, int, int]]] = field(
        default_factory=dict, compare=False, repr=False
    )

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
        """The round's failing tests a candidate cannot make pass (they do not run the lines
        it changes) although they share code with the failing tests it does reach: they
        run the function it changes, or another function of the project that those run.
        One bug seen through several paths is the common case (a caller's test failing
        because of what it calls), so a candidate that fixes only its own targets is a
        partial fix of the round, and a change on code they all run is looked for first.
        Failing tests that share no function with them fail for another reason (a second
        bug): they do not make the candidate partial."""
        if not self.has_coverage:
            return []
        if any(inserts_lines(self.sources.get(e.path, ""), e.new_text) for e in candidate.edits):
            # an added statement runs wherever its block runs, not only where its neighbouring
            # lines did (a `return` added after a loop whose last line some tests never reach)
            return []
        reached = set(self.targets_for(candidate))
        if len(reached) >= len(self.targets):
            return []
        shared: set[tuple[str, int, int]] = set()
        for nodeid in reached:
            shared |= self._functions_run(nodeid)
        for edit in candidate.edits:
            old = self.sources.get(edit.path, "")
            for changed in changed_lines(old, edit.new_text):
                for first, last in function_bodies(old):
                    if first <= changed <= last:
                        shared.add((edit.path, first, last))
                        break
        return [
            t
            for t in self.targets
            if t not in reached and "::" in t and self._functions_run(t) & shared
        ]

    def _functions_run(self, nodeid: str) -> frozenset[tuple[str, int, int]]:
        """The functions of the code a failing test ran (innermost function of each line)."""
        found = self._functions.get(nodeid)
        if found is None:
            spans: set[tuple[str, int, int]] = set()
            for path, per_line in self.failing_index.items():
                functions = function_bodies(self.sources.get(path, ""))
                for line, tests in per_line.items():
                    if nodeid in tests:
                        for first, last in functions:
                            if first <= line <= last:
                                spans.add((path, first, last))
                                break
            found = self._functions[nodeid] = frozenset(spans)
        return found

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
