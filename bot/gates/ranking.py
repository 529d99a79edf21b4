"""Ranking the plausible patches of a round: the one a careful maintainer would write first.

Several candidates can make the failing tests pass without breaking a passing one. They are
ordered by, in turn:

1. overfitting flags (``overfit.py``): an unflagged patch before a flagged one;
2. behaviour on recorded calls: how often the candidate's function gives another result than
   the original on the arguments the passing tests actually called it with. The original was
   right there (those tests pass), so any difference changes behaviour the tests rely on
   without asserting it;
3. edit size (smaller first), the static measure of the engine;
4. behaviour on variations of those calls (each argument nudged in turn) on which the
   original takes the same lines as on the recorded call: inputs where it was most likely
   right too. The candidate that changes the least outside the failing cases comes first;
5. the template prior and the engine's order, which decide among equals.

Behaviour is measured only when there is something to choose between, through the probe
(``behaviour.py``), in the sandbox. A candidate whose function no passing test calls has no
measurement and ranks as if it changed nothing.
"""

from __future__ import annotations

import difflib
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass

from bot.analysis.source import function_range
from bot.gates.behaviour import Target, TargetResult
from bot.gates.overfit import Literal, changed_functions, inspect_candidate
from bot.models import Candidate, TestRun, Verdict

MAX_PROBE_TESTS = 20
Probe = Callable[[Sequence[Target], Sequence[str]], "dict[str, TargetResult] | str"]


@dataclass(frozen=True)
class Ranked:
    candidate: Candidate
    verdict: Verdict
    order: int  # position in the engine's order
    flags: tuple[str, ...] = ()
    recorded_distance: float | None = None  # share of recorded calls that changed
    variation_distance: float | None = None  # share of same-path variations that changed
    compared: int = 0  # inputs the distances are computed on
    example: str = ""  # one input on which the candidate differs from the original

    @property
    def key(self) -> tuple[float, ...]:
        return (
            float(len(self.flags)),
            round(self.recorded_distance or 0.0, 3),
            float(self.candidate.size),
            round(self.variation_distance or 0.0, 3),
            -self.candidate.prior,
            float(self.order),
        )

    def to_json(self, sources: Mapping[str, str]) -> dict[str, object]:
        return {
            "id": self.candidate.id,
            "description": self.candidate.description,
            "template": self.candidate.template,
            "engine": self.candidate.engine,
            "size": self.candidate.size,
            "prior": self.candidate.prior,
            "flags": list(self.flags),
            "distance": {
                "recorded": self.recorded_distance,
                "variations": self.variation_distance,
                "inputs": self.compared,
                "example": self.example,
            },
            "diff": diff_snippet(self.candidate, sources),
        }


def diff_snippet(candidate: Candidate, sources: Mapping[str, str], lines: int = 20) -> str:
    out: list[str] = []
    for edit in candidate.edits:
        old = sources.get(edit.path, "")
        out.extend(
            difflib.unified_diff(
                old.splitlines(),
                edit.new_text.splitlines(),
                f"a/{edit.path}",
                f"b/{edit.path}",
                n=1,
                lineterm="",
            )
        )
    return "\n".join(out[:lines])


def changed_targets(candidate: Candidate, sources: Mapping[str, str]) -> list[tuple[str, str]]:
    """(file, qualified name) of the functions the candidate changes that a probe can call."""
    found: list[tuple[str, str]] = []
    for edit in candidate.edits:
        old = sources.get(edit.path)
        if old is None:
            continue
        for name, _, _ in changed_functions(old, edit.new_text):
            if name and "<locals>" not in name:
                found.append((edit.path, name))
    return found


def _targets(
    plausible: Sequence[tuple[Candidate, Verdict]], sources: Mapping[str, str]
) -> tuple[list[Target], dict[str, list[str]]]:
    """Probe targets (one per changed function) and, per candidate, the target keys it has."""
    variants: dict[tuple[str, str], dict[str, str]] = {}
    per_candidate: dict[str, list[str]] = {}
    for candidate, _ in plausible:
        keys: list[str] = []
        texts = {edit.path: edit.new_text for edit in candidate.edits}
        for path, name in changed_targets(candidate, sources):
            variants.setdefault((path, name), {})[candidate.id] = texts[path]
            keys.append(f"{path}::{name}")
        per_candidate[candidate.id] = keys
    targets = [
        Target(f"{path}::{name}", path, name, sources[path], found)
        for (path, name), found in sorted(variants.items())
    ]
    return targets, per_candidate


def tests_running(
    targets: Sequence[tuple[str, str]], sources: Mapping[str, str], current: TestRun
) -> list[str]:
    """Passing tests whose coverage touches the functions (file, qualified name), in run order."""
    spans: dict[str, list[tuple[int, int]]] = {}
    for file, qualname in targets:
        found = function_range(sources.get(file, ""), qualname)
        if found:
            spans.setdefault(file, []).append(found)
    chosen: list[str] = []
    for nodeid in current.passing:
        files = current.coverage.get(nodeid, {})
        if any(
            first <= line <= last
            for file, ranges in spans.items()
            for line in files.get(file, ())
            for first, last in ranges
        ):
            chosen.append(nodeid)
            if len(chosen) >= MAX_PROBE_TESTS:
                break
    return chosen


def rank(
    plausible: Sequence[tuple[Candidate, Verdict]],
    sources: Mapping[str, str],
    current: TestRun,
    *,
    literals: frozenset[Literal] = frozenset(),
    probe: Probe | None = None,
) -> tuple[list[Ranked], str]:
    """The candidates best first, and a note on how behaviour was measured."""
    flagged = {
        candidate.id: tuple(
            f.describe()
            for f in inspect_candidate(
                [(e.path, sources.get(e.path, ""), e.new_text) for e in candidate.edits],
                literals,
            ).flags
        )
        for candidate, _ in plausible
    }
    results: dict[str, TargetResult] = {}
    note = "one plausible candidate: nothing to compare"
    per_candidate: dict[str, list[str]] = {}
    if len(plausible) > 1 and probe is None:
        note = "behaviour not compared: ranked by flags, size and prior"
    if len(plausible) > 1 and probe is not None:
        targets, per_candidate = _targets(plausible, sources)
        tests = tests_running([(t.file, t.qualname) for t in targets], sources, current)
        found = probe(targets, tests) if targets and tests else "no passing test runs them"
        if isinstance(found, str):
            note = f"behaviour not compared: {found}"
        else:
            results = found
            note = f"behaviour compared on the calls of {len(tests)} passing test(s)"
    ranked: list[Ranked] = []
    for order, (candidate, verdict) in enumerate(plausible):
        recorded = changed_recorded = variations = changed_variations = 0
        example = ""
        for key in per_candidate.get(candidate.id, []):
            result = results.get(key)
            if result is None or result.error:
                continue
            difference = result.differences.get(candidate.id)
            if difference is None:
                continue
            recorded += result.recorded
            variations += result.variations
            changed_recorded += difference.recorded
            changed_variations += difference.variations
            example = example or result.examples.get(candidate.id, "")
        ranked.append(
            Ranked(
                candidate=candidate,
                verdict=verdict,
                order=order,
                flags=flagged[candidate.id],
                recorded_distance=changed_recorded / recorded if recorded else None,
                variation_distance=changed_variations / variations if variations else None,
                compared=recorded + variations,
                example=example,
            )
        )
    ranked.sort(key=lambda item: item.key)
    return ranked, note
