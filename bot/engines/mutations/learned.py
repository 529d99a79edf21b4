"""Priors learned here: what the repository's stored runs say about which templates pay off.

The unit of evidence is a round: in a round repaired as failure class C, a template was tried
(at least one candidate of the template engine's with it was looked at) and it was kept or
not. How many candidates a template yields depends on the code, not on its worth, so a
round counts once per template however many of its candidates ran.

For class C, the built-in priors say what to expect: a template with prior p is expected to be
kept in ``K * p / sum(n_j * p_j)`` of the rounds it was tried in, where K is the number of
kept rounds of C and ``n_j`` the rounds template j was tried in (the expectation adds up to
the K rounds that were kept). The learned multiplier is the Beta-smoothed payoff over that
expectation: the expectation counts as ``PSEUDO_ROUNDS`` rounds of evidence of its own, so

    multiplier = (kept / expected + PSEUDO_ROUNDS) / (tried + PSEUDO_ROUNDS)

which is 1 without evidence and when a template pays off as its prior says; it is bounded to
``[LOWEST, HIGHEST]`` so that a few runs cannot bury a template nor lift one above all others.
A class with no kept template round has taught nothing about order: its templates keep their
built-in priors. Multipliers only scale the built-in priors, so a template the records never
saw keeps its place.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from bot.engines.mutations.priors import prior
from bot.models import FailureClass, primary_class_of

if TYPE_CHECKING:
    from bot.history import RunRecord

TEMPLATE_ENGINE = "templates"  # the engine whose candidates the priors order
PSEUDO_ROUNDS = 6.0  # the built-in prior weighs as much as this many rounds of evidence
LOWEST, HIGHEST = 0.5, 2.0
MAX_RUNS = 40  # newest stored runs read at most
MAX_TRACE_BYTES = 16 * 1024 * 1024  # of their traces, at most this much is read
_CLASSES = {c.value: c for c in FailureClass}


@dataclass(frozen=True)
class RoundOutcome:
    """One round of a stored run, as the priors see it."""

    failure_class: FailureClass
    tried: frozenset[str]  # templates of the template engine tried in the round
    kept: frozenset[str]  # templates of the round's kept candidate (two for a pair)


@dataclass(frozen=True)
class TemplateEvidence:
    failure_class: FailureClass
    template: str
    tried: int  # rounds it was tried in
    kept: int  # rounds its candidate was kept
    multiplier: float


@dataclass(frozen=True)
class LearnedPriors:
    """Multipliers of the built-in priors, per (failure class, template); 1 when unknown."""

    runs: int = 0  # stored runs whose rounds gave evidence
    evidence: tuple[TemplateEvidence, ...] = ()
    _index: Mapping[tuple[FailureClass, str], float] = field(
        default_factory=dict, compare=False, repr=False
    )

    def __post_init__(self) -> None:
        index = {(e.failure_class, e.template): e.multiplier for e in self.evidence}
        object.__setattr__(self, "_index", index)

    def multiplier(self, failure_class: FailureClass, template: str) -> float:
        return self._index.get((failure_class, template), 1.0)

    @property
    def changed(self) -> bool:
        """Whether any multiplier differs from 1 (the order can differ from the built-in)."""
        return any(e.multiplier != 1.0 for e in self.evidence)

    def to_json(self) -> dict[str, Any]:
        """``runs`` and, per failure class, template -> multiplier (those that are not 1)."""
        multipliers: dict[str, dict[str, float]] = {}
        for item in self.evidence:
            if item.multiplier != 1.0:
                multipliers.setdefault(item.failure_class.value, {})[item.template] = (
                    item.multiplier
                )
        return {"runs": self.runs, "multipliers": multipliers}


NO_LEARNED_PRIORS = LearnedPriors()


def _templates(name: object) -> frozenset[str]:
    """The templates of a candidate's template name (a pair is ``first+second``)."""
    return frozenset(part for part in str(name or "").split("+") if part)


def _failure_classes(failures: object) -> list[FailureClass]:
    """The classes of an analysis event's failures (unknown ones left out)."""
    if not isinstance(failures, list):
        return []
    names = [str(f.get("class")) for f in failures if isinstance(f, Mapping)]
    return [_CLASSES[name] for name in names if name in _CLASSES]


def rounds_of(record: RunRecord) -> list[RoundOutcome]:
    """The rounds of one stored run: their class (from the round's analysis), the templates
    tried and the template kept, read from the trace in the order it was written."""
    classes: dict[int, FailureClass] = {}
    tried: dict[int, set[str]] = {}
    kept: dict[int, set[str]] = {}
    current: int | None = None
    for event in record.events:
        kind = event.get("event")
        if kind == "analysis" and isinstance(event.get("round"), int):
            current = int(event["round"])
            classes[current] = primary_class_of(_failure_classes(event.get("failures")))
        elif kind == "candidate" and current is not None:
            if event.get("engine") == TEMPLATE_ENGINE:
                tried.setdefault(current, set()).update(_templates(event.get("template")))
        elif kind == "round" and event.get("accepted") and isinstance(event.get("number"), int):
            number = int(event["number"])
            names = _templates(event.get("template"))
            engine = event.get("engine")
            ours = engine == TEMPLATE_ENGINE or (not engine and names <= tried.get(number, set()))
            if ours and names:
                kept.setdefault(number, set()).update(names)
                tried.setdefault(number, set()).update(names)
    return [
        RoundOutcome(classes[number], frozenset(templates), frozenset(kept.get(number, ())))
        for number, templates in sorted(tried.items())
        if number in classes
    ]


def _bounded(value: float) -> float:
    return round(min(HIGHEST, max(LOWEST, value)), 3)


def _class_evidence(
    failure_class: FailureClass, rounds: list[RoundOutcome]
) -> list[TemplateEvidence]:
    tried: dict[str, int] = {}
    kept: dict[str, int] = {}
    for outcome in rounds:
        for template in outcome.tried:
            tried[template] = tried.get(template, 0) + 1
        for template in outcome.kept:
            kept[template] = kept.get(template, 0) + 1
    total_kept = sum(kept.values())
    weighed = sum(count * prior(failure_class, template) for template, count in tried.items())
    if not total_kept or weighed <= 0:
        return []  # nothing paid off: no evidence of which template is better
    evidence = []
    for template in sorted(tried):
        expected = total_kept * prior(failure_class, template) / weighed
        wins = kept.get(template, 0)
        value = (wins / expected + PSEUDO_ROUNDS) / (tried[template] + PSEUDO_ROUNDS)
        evidence.append(
            TemplateEvidence(failure_class, template, tried[template], wins, _bounded(value))
        )
    return evidence


def learn(records: Iterable[RunRecord]) -> LearnedPriors:
    """The multipliers the given stored runs teach (their order does not matter)."""
    by_class: dict[FailureClass, list[RoundOutcome]] = {}
    runs = 0
    for record in records:
        rounds = rounds_of(record)
        runs += 1 if rounds else 0
        for outcome in rounds:
            by_class.setdefault(outcome.failure_class, []).append(outcome)
    evidence = [
        item
        for failure_class in sorted(by_class, key=lambda c: c.value)
        for item in _class_evidence(failure_class, by_class[failure_class])
    ]
    return LearnedPriors(runs=runs, evidence=tuple(evidence))
