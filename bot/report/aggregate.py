"""Statistics over every stored run of a repository (`mendbot stats`).

Fix rate by failure class and by template, the median time to a fix, and which templates and
models pay off here: the raw material for trying first what worked in this repository before.
"""

from __future__ import annotations

import statistics
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import asdict, dataclass
from typing import Any

from bot.engines.mutations.learned import LearnedPriors
from bot.history import RunRecord
from bot.report.runview import attempts_of, candidate_rows, failures_at_base

FIXED = "fixed"


@dataclass(frozen=True)
class ClassStat:
    failure_class: str
    runs: int  # runs with at least one failing test of this class at base
    runs_fixed: int
    tests: int  # failing tests of this class at base, over all runs
    tests_fixed: int

    @property
    def test_fix_rate(self) -> float:
        return self.tests_fixed / self.tests if self.tests else 0.0


@dataclass(frozen=True)
class TemplateStat:
    engine: str
    template: str
    tried: int
    screened: int
    kept: int
    rolled_back: int
    runs: int  # runs in which it was tried

    @property
    def payoff(self) -> float:
        """Kept rounds per candidate tried."""
        return self.kept / self.tried if self.tried else 0.0


@dataclass(frozen=True)
class ModelStat:
    model: str
    calls: int
    tokens: int
    seconds: float
    candidates: int
    kept: int


@dataclass(frozen=True)
class Stats:
    runs: int
    by_status: Mapping[str, int]
    median_time_to_fix_s: float | None
    median_rounds_to_fix: float | None
    classes: tuple[ClassStat, ...]
    templates: tuple[TemplateStat, ...]
    models: tuple[ModelStat, ...]


def _fixed_tests(record: RunRecord) -> set[str]:
    fixed = {str(t) for t in record.result.get("fixed_tests") or []}
    extra = record.result.get("extra")
    final = extra.get("final") if isinstance(extra, Mapping) else None
    outcomes = final.get("outcomes") if isinstance(final, Mapping) else None
    if isinstance(outcomes, Mapping):
        fixed |= {str(t) for t, o in outcomes.items() if o == "passed"}
    return fixed


def _model_of_calls(record: RunRecord) -> tuple[dict[str, str], dict[str, str]]:
    """call id -> model, and candidate id -> model, from the llm events of one run."""
    calls: dict[str, str] = {}
    candidates: dict[str, str] = {}
    for event in record.events:
        if event.get("event") == "llm_call":
            backend = str(event.get("backend") or "")
            model = str(event.get("model") or "?")
            calls[str(event.get("call_id"))] = f"{backend}:{model}" if backend else model
        elif event.get("event") == "llm_candidate":
            call = str(event.get("call_id"))
            if call in calls:
                candidates[str(event.get("candidate_id"))] = calls[call]
    return calls, candidates


def collect(records: Iterable[RunRecord]) -> Stats:
    runs = 0
    by_status: Counter[str] = Counter()
    fix_times: list[float] = []
    fix_rounds: list[int] = []
    class_runs: Counter[str] = Counter()
    class_runs_fixed: Counter[str] = Counter()
    class_tests: Counter[str] = Counter()
    class_fixed: Counter[str] = Counter()
    templates: dict[tuple[str, str], list[int]] = {}
    models: dict[str, list[float]] = {}
    for record in records:
        runs += 1
        status = record.status
        by_status[status] += 1
        if status == FIXED:
            duration = record.meta.get("duration_s")
            if isinstance(duration, int | float):
                fix_times.append(float(duration))
            kept = record.meta.get("kept")
            if isinstance(kept, int):
                fix_rounds.append(kept)
        fixed = _fixed_tests(record)
        seen: set[str] = set()
        for failure in failures_at_base(record):
            name = failure.failure_class or "UNKNOWN"
            class_tests[name] += 1
            class_fixed[name] += 1 if failure.test in fixed else 0
            seen.add(name)
        for name in seen:
            class_runs[name] += 1
            class_runs_fixed[name] += 1 if status == FIXED else 0
        attempts = attempts_of(record)
        for row in candidate_rows(record, attempts):
            totals = templates.setdefault((row.engine, row.template), [0, 0, 0, 0, 0])
            totals[0] += row.tried
            totals[1] += row.screened
            totals[2] += row.kept
            totals[3] += row.rolled_back
            totals[4] += 1
        calls, candidate_models = _model_of_calls(record)
        kept_candidates = {a.candidate for a in attempts if a.kept}
        for event in record.events:
            if event.get("event") == "llm_call":
                model = calls.get(str(event.get("call_id")), "?")
                counters = models.setdefault(model, [0, 0, 0.0, 0, 0])
                counters[0] += 1
                tokens = (event.get("prompt_tokens") or 0) + (event.get("completion_tokens") or 0)
                counters[1] += tokens if isinstance(tokens, int | float) else 0
                latency = event.get("latency_s")
                counters[2] += float(latency) if isinstance(latency, int | float) else 0.0
        for candidate, model in candidate_models.items():
            counters = models.setdefault(model, [0, 0, 0.0, 0, 0])
            counters[3] += 1
            counters[4] += 1 if candidate in kept_candidates else 0
    classes = tuple(
        ClassStat(
            name, class_runs[name], class_runs_fixed[name], class_tests[name], class_fixed[name]
        )
        for name in sorted(class_tests)
    )
    template_stats = sorted(
        (
            TemplateStat(engine, template, t[0], t[1], t[2], t[3], t[4])
            for (engine, template), t in templates.items()
        ),
        key=lambda s: (-s.kept, -s.payoff, -s.screened, s.tried, s.template),
    )
    model_stats = tuple(
        ModelStat(name, int(r[0]), int(r[1]), round(r[2], 3), int(r[3]), int(r[4]))
        for name, r in sorted(models.items())
    )
    return Stats(
        runs=runs,
        by_status=dict(by_status),
        median_time_to_fix_s=round(statistics.median(fix_times), 3) if fix_times else None,
        median_rounds_to_fix=statistics.median(fix_rounds) if fix_rounds else None,
        classes=classes,
        templates=tuple(template_stats),
        models=model_stats,
    )


def template_order(stats: Stats) -> list[str]:
    """Templates that produced kept rounds here, best first (kept, then kept per try)."""
    return [s.template for s in stats.templates if s.kept]


def stats_to_json(stats: Stats) -> dict[str, Any]:
    return {
        "runs": stats.runs,
        "by_status": dict(stats.by_status),
        "fix_rate": (stats.by_status.get(FIXED, 0) / stats.runs) if stats.runs else None,
        "median_time_to_fix_s": stats.median_time_to_fix_s,
        "median_rounds_to_fix": stats.median_rounds_to_fix,
        "by_failure_class": [
            {**asdict(c), "test_fix_rate": round(c.test_fix_rate, 3)} for c in stats.classes
        ],
        "by_template": [{**asdict(t), "payoff": round(t.payoff, 4)} for t in stats.templates],
        "by_model": [asdict(m) for m in stats.models],
        "template_order": template_order(stats),
    }


def learned_to_json(learned: LearnedPriors, enabled: bool) -> dict[str, Any]:
    """The multiplier of the built-in prior each template gets in the next run, and why."""
    return {
        "enabled": enabled,
        "runs": learned.runs,
        "templates": [
            {
                "failure_class": e.failure_class.value,
                "template": e.template,
                "rounds_tried": e.tried,
                "rounds_kept": e.kept,
                "multiplier": e.multiplier,
            }
            for e in learned.evidence
        ],
    }
