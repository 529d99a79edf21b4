"""What one stored run says, read from its result and trace: the facts behind `mendbot show`,
the HTML report and the step summary.

Everything here is derived; nothing is stored twice. An attempt is one proven candidate: a
round that was kept, or one that was rolled back (a round number can hold several attempts).
"""

from __future__ import annotations

import re
import time
from collections import Counter
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from bot.history import RunRecord, diff_of
from bot.testing.outcomes import ListedOutcomes

PASS, FAIL, FLAKY, SKIP, NOT_RUN = "pass", "fail", "flaky", "skip", "not run"
_STATE = {
    "passed": PASS,
    "failed": FAIL,
    "error": FAIL,
    "timeout": FAIL,
    "skipped": SKIP,
    "not_run": NOT_RUN,
    "flaky": FLAKY,
}
MAX_MATRIX_ROWS = 300
MAX_LISTED_CANDIDATES = 400
MIN_SPAN_S = 0.05  # shorter stretches (a commit between two stages) are not drawn


def state_of(outcome: str | None) -> str:
    if outcome is None:
        return NOT_RUN
    return _STATE.get(str(outcome), FAIL)


def _float(value: object) -> float | None:
    if isinstance(value, bool):
        return None
    return float(value) if isinstance(value, int | float) else None


def _strings(value: object) -> tuple[str, ...]:
    if isinstance(value, list | tuple):
        return tuple(str(v) for v in value)
    return ()


def _outcomes(summary: object) -> Mapping[str, str]:
    """A run summary's outcomes; in a bounded one, an unlisted test passed."""
    return ListedOutcomes.of(summary)


def short(sha: str | None) -> str:
    return (sha or "")[:10]


def duration_text(seconds: float | None) -> str:
    if seconds is None:
        return "?"
    if seconds < 60:
        return f"{seconds:.1f}s"
    minutes, rest = divmod(round(seconds), 60)
    if minutes < 60:
        return f"{minutes}m{rest:02d}s"
    hours, minutes = divmod(minutes, 60)
    return f"{hours}h{minutes:02d}m"


def when_text(epoch: float | None) -> str:
    if not epoch:
        return "?"
    return time.strftime("%Y-%m-%d %H:%M:%S UTC", time.gmtime(epoch))


# -- gates -----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Gate:
    name: str
    state: str  # passed | failed | ran | not run
    detail: str = ""
    round: int | None = None


def _gate_state(value: object) -> str:
    if value is True:
        return "passed"
    if value is False:
        return "failed"
    text = str(value or "").strip().lower().replace("_", " ")
    if text in ("passed", "pass", "ok", "success", "clean"):
        return "passed"
    if text in ("failed", "fail", "error", "failure", "regression"):
        return "failed"
    if text in ("", "none", "not run", "skipped", "skip", "notrun", "not applicable"):
        return "not run"
    return "ran"


def _gates(data: object) -> list[Gate]:
    """Gate records: a mapping name -> status (or -> {status, detail}), or a list of
    ``{name, status, detail, round}`` (what the pipeline writes)."""
    items: list[tuple[str, object]] = []
    if isinstance(data, Mapping):
        items = [(str(k), v) for k, v in data.items()]
    elif isinstance(data, list | tuple):
        items = [
            (str(item.get("name") or item.get("gate") or "?"), item)
            for item in data
            if isinstance(item, Mapping)
        ]
    gates = []
    for name, value in items:
        if isinstance(value, Mapping):
            status = value.get("status", value.get("state", value.get("outcome", value.get("ok"))))
            detail = value.get("detail") or value.get("reason") or value.get("message") or ""
            number = value.get("round")
            gates.append(
                Gate(
                    name,
                    _gate_state(status),
                    str(detail),
                    number if isinstance(number, int) and not isinstance(number, bool) else None,
                )
            )
        else:
            gates.append(Gate(name, _gate_state(value)))
    return gates


# -- attempts ----------------------------------------------------------------------------------
@dataclass(frozen=True)
class Flip:
    test: str
    before: str
    after: str


@dataclass(frozen=True)
class Attempt:
    number: int  # position among all attempts, from 1
    round: int
    kept: bool
    commit: str  # the round commit, or the rolled-back commit ("" when unknown)
    rejected_ref: str
    engine: str
    template: str
    description: str
    reason: str
    root_cause: str
    candidate: str
    fixed: tuple[str, ...]
    broken: tuple[str, ...]
    outcomes: Mapping[str, str]
    files: tuple[str, ...] = ()
    duration_s: float | None = None
    started: float | None = None  # epoch when its full test run started
    ended: float | None = None
    flips: tuple[Flip, ...] = ()
    diff: str | None = None
    gates: tuple[Gate, ...] = ()

    @property
    def verdict(self) -> str:
        return "kept" if self.kept else "rolled back"

    @property
    def label(self) -> str:
        return f"round {self.round}" + ("" if self.kept else " (rolled back)")


def flips_between(before: Mapping[str, str], after: Mapping[str, str]) -> tuple[Flip, ...]:
    """Tests whose state changed between two full runs (pass <-> fail, or appeared/vanished)."""
    changed = []
    for test in sorted(set(before) | set(after)):
        old, new = state_of(before.get(test)), state_of(after.get(test))
        if old != new and {old, new} != {SKIP, NOT_RUN}:
            changed.append(Flip(test, old, new))
    return tuple(changed)


def _base_outcomes(record: RunRecord) -> Mapping[str, str]:
    for event in record.events:
        if event.get("event") == "baseline":
            return _outcomes(event)
    extra = record.result.get("extra")
    return _outcomes(extra.get("baseline")) if isinstance(extra, Mapping) else {}


def _from_trace(record: RunRecord) -> list[Attempt]:
    candidates: dict[str, Mapping[str, Any]] = {}
    verify: Mapping[str, Any] = {}
    attempts: list[Attempt] = []
    for event in record.events:
        kind = event.get("event")
        if kind == "candidate":
            candidates[str(event.get("id"))] = event
        elif kind == "verify":
            verify = event
        elif kind == "round":
            candidate = str(verify.get("candidate") or "")
            proposed = candidates.get(candidate, {})
            kept = bool(event.get("accepted"))
            verified = _float(verify.get("t"))
            took = _float(verify.get("duration"))
            # from the start of its full test run to the verdict (gates after the run included)
            started = verified - took if verified is not None and took is not None else None
            ended = _float(event.get("t")) if started is not None else None
            attempts.append(
                Attempt(
                    number=len(attempts) + 1,
                    round=int(event.get("number") or 0),
                    kept=kept,
                    commit=str(
                        event.get("commit")
                        or event.get("rejected_commit")
                        or verify.get("commit")
                        or ""
                    ),
                    rejected_ref=str(event.get("rejected_ref") or ""),
                    engine=str(event.get("engine") or proposed.get("engine") or ""),
                    template=str(event.get("template") or proposed.get("template") or ""),
                    description=str(event.get("description") or ""),
                    reason=str(event.get("reason") or proposed.get("reason") or ""),
                    root_cause=str(event.get("root_cause") or ""),
                    candidate=candidate,
                    fixed=_strings(verify.get("fixed")),
                    broken=_strings(verify.get("broken")),
                    outcomes=_outcomes(verify),
                    started=started,
                    ended=ended,
                    duration_s=took,
                    gates=tuple(_gates(event.get("gates"))),
                )
            )
            verify = {}
    return attempts


def _from_result(record: RunRecord) -> list[Attempt]:
    attempts = []
    for index, item in enumerate(record.result.get("rounds") or [], start=1):
        if not isinstance(item, Mapping):
            continue
        kept = bool(item.get("commit"))
        attempts.append(
            Attempt(
                number=index,
                round=int(item.get("number") or index),
                kept=kept,
                commit=str(item.get("commit") or ""),
                rejected_ref=str(item.get("rejected_ref") or ""),
                engine=str(item.get("engine") or ""),
                template=str(item.get("template") or ""),
                description=str(item.get("description") or ""),
                reason=str(item.get("reason") or ""),
                root_cause=str(item.get("root_cause") or ""),
                candidate="",
                fixed=_strings(item.get("tests_fixed")),
                broken=(),
                outcomes={},
                files=_strings(item.get("files")),
                duration_s=_float(item.get("duration_s")),
            )
        )
    return attempts


def attempts_of(
    record: RunRecord, diff: Callable[[str], str | None] | None = None
) -> list[Attempt]:
    """The run's attempts in order, with the tests each flipped and (given ``diff``) its diff."""
    traced = _from_trace(record)
    stored = _from_result(record)
    if not traced:
        traced = stored
    elif len(stored) == len(traced):
        traced = [_merge(attempt, extra) for attempt, extra in zip(traced, stored, strict=True)]
    state = _base_outcomes(record)
    finished = []
    for attempt in traced:
        flips = flips_between(state, attempt.outcomes) if attempt.outcomes and state else ()
        if attempt.kept and attempt.outcomes:
            state = attempt.outcomes
        text = diff(attempt.commit) if diff is not None and attempt.commit else None
        finished.append(_replace(attempt, flips=flips, diff=text))
    return finished


def _replace(attempt: Attempt, **changes: Any) -> Attempt:
    values = {name: getattr(attempt, name) for name in Attempt.__dataclass_fields__}
    values.update(changes)
    return Attempt(**values)


def _merge(attempt: Attempt, stored: Attempt) -> Attempt:
    return _replace(
        attempt,
        files=stored.files or attempt.files,
        engine=attempt.engine or stored.engine,
        rejected_ref=attempt.rejected_ref or stored.rejected_ref,
        root_cause=attempt.root_cause or stored.root_cause,
        reason=attempt.reason or stored.reason,
        fixed=attempt.fixed or stored.fixed,
    )


# -- the test matrix ---------------------------------------------------------------------------
@dataclass(frozen=True)
class Matrix:
    columns: tuple[str, ...]
    rows: tuple[tuple[str, tuple[str, ...]], ...]  # test, one state per column
    hidden: int  # tests that passed in every column and are not listed
    raw: Mapping[str, Mapping[str, str]] = field(default_factory=dict)

    def counts(self, column: int) -> Counter[str]:
        counter: Counter[str] = Counter(cells[column] for _, cells in self.rows)
        counter[PASS] += self.hidden
        return counter


def _flagged(data: object) -> set[str]:
    """Test ids from a flaky list: ids, ``{test, kind, detail}`` records, or a mapping."""
    if isinstance(data, Mapping):
        return {str(t) for t in data}
    if not isinstance(data, list | tuple):
        return set()
    return {
        str(item.get("test")) if isinstance(item, Mapping) else str(item)
        for item in data
        if not isinstance(item, Mapping) or item.get("test")
    }


def _flaky(record: RunRecord) -> set[str]:
    extra = record.result.get("extra")
    tests = _flagged(extra.get("flaky") if isinstance(extra, Mapping) else None)
    for event in record.events:
        if event.get("event") == "flaky":
            tests |= _flagged(event.get("tests"))
    return tests


def final_outcomes(record: RunRecord, attempts: Sequence[Attempt]) -> Mapping[str, str]:
    extra = record.result.get("extra")
    final = _outcomes(extra.get("final")) if isinstance(extra, Mapping) else {}
    if final:
        return final
    kept = [a for a in attempts if a.kept and a.outcomes]
    return kept[-1].outcomes if kept else _base_outcomes(record)


def test_matrix(record: RunRecord, attempts: Sequence[Attempt]) -> Matrix:
    """Tests x (base, each attempt, final): pass, fail, flaky, skip or not run."""
    columns: list[tuple[str, Mapping[str, str]]] = [("base", _base_outcomes(record))]
    for attempt in attempts:
        if attempt.outcomes:
            columns.append((f"#{attempt.number} {attempt.label}", attempt.outcomes))
    columns.append(("final", final_outcomes(record, attempts)))
    flaky = _flaky(record)
    tests = sorted({t for _, outcomes in columns for t in outcomes} | flaky)
    rows: list[tuple[str, tuple[str, ...]]] = []
    quiet: list[tuple[str, tuple[str, ...]]] = []
    for test in tests:
        cells = []
        for _, outcomes in columns:
            state = state_of(outcomes.get(test))
            if test in flaky and state in (FAIL, PASS):
                state = FLAKY
            cells.append(state)
        (quiet if all(c == PASS for c in cells) else rows).append((test, tuple(cells)))
    room = max(0, MAX_MATRIX_ROWS - len(rows))
    rows += quiet[:room]
    return Matrix(
        columns=tuple(name for name, _ in columns),
        rows=tuple(rows),
        hidden=len(quiet) - min(room, len(quiet)),
        raw={name: outcomes for name, outcomes in columns},
    )


# -- the timeline ------------------------------------------------------------------------------
@dataclass(frozen=True)
class Span:
    label: str
    kind: str  # prepare | baseline | search | verify-kept | verify-rolled-back | finish
    start_s: float  # from the start of the run
    duration_s: float
    detail: str = ""


@dataclass(frozen=True)
class Timeline:
    total_s: float
    spans: tuple[Span, ...]


def timeline(record: RunRecord, attempts: Sequence[Attempt]) -> Timeline:
    """Stages and rounds with their durations, from the trace's timestamps."""
    events = [e for e in record.events if _float(e.get("t")) is not None]
    if not events:
        return Timeline(_float(record.meta.get("duration_s")) or 0.0, ())
    times = [float(e["t"]) for e in events]
    origin = _float(record.meta.get("started")) or min(times)
    origin = min(origin, min(times))
    end = max([*times, _float(record.meta.get("ended")) or 0.0])
    spans: list[Span] = []

    def add(label: str, kind: str, begin: float, finish: float, detail: str = "") -> None:
        if finish - begin >= MIN_SPAN_S:
            spans.append(Span(label, kind, begin - origin, finish - begin, detail))

    start = next((float(e["t"]) for e in events if e.get("event") == "run_start"), origin)
    add("prepare", "prepare", origin, start, "worktree and branch")
    base = next((e for e in events if e.get("event") == "baseline"), None)
    cursor = start
    if base is not None:
        failing = len(_strings(base.get("failing")))
        add("baseline", "baseline", start, float(base["t"]), f"{failing} failing")
        cursor = float(base["t"])
    elif any(e.get("event") == "run_start" for e in events):
        add("baseline (cut off)", "baseline", start, end, "the run ended during its first test run")
        cursor = end
    analyses = [e for e in events if e.get("event") == "analysis"]
    for index, analysis in enumerate(analyses):
        number = int(analysis.get("round") or index + 1)
        begin = float(analysis["t"])
        finish = float(analyses[index + 1]["t"]) if index + 1 < len(analyses) else None
        mine = [a for a in attempts if a.round == number and a.started and a.ended]
        if finish is None:
            later = [float(e["t"]) for e in events if e.get("event") in ("run_end",)]
            finish = later[0] if later else (mine[-1].ended if mine else end)
        assert finish is not None
        position = begin
        search = f"round {number}: search"
        for attempt in mine:
            assert attempt.started is not None and attempt.ended is not None
            add(search, "search", position, attempt.started)
            search = f"round {number}: " + ("wrap-up" if attempt.kept else "search (continued)")
            kind = "verify-kept" if attempt.kept else "verify-rolled-back"
            add(
                f"round {number}: verify ({attempt.verdict})",
                kind,
                attempt.started,
                attempt.ended,
                attempt.description,
            )
            position = attempt.ended
        add(search, "search", position, finish)
        cursor = max(cursor, finish)
    status = str(record.meta.get("status") or "")
    label = "finish" if status in ("fixed", "not_fixed", "nothing_to_fix") else status or "end"
    add(label, "finish", cursor, end, status)
    return Timeline(end - origin, tuple(spans))


# -- candidates --------------------------------------------------------------------------------
@dataclass(frozen=True)
class TemplateRow:
    engine: str
    template: str
    tried: int
    screened: int  # passed screening
    kept: int
    rolled_back: int
    rejected: int
    reasons: tuple[tuple[str, int], ...]


def reason_key(reason: str) -> str:
    """A rejection reason without its specifics, so that equal reasons group together."""
    text = re.sub(r"\S+::\S+", "<test>", reason)
    text = re.sub(r"line \d+", "line N", text)
    head = text.split(": ", 1)[0] if len(text) > 60 else text
    return head[:100]


def candidate_rows(record: RunRecord, attempts: Sequence[Attempt]) -> list[TemplateRow]:
    tried: Counter[tuple[str, str]] = Counter()
    screened: Counter[tuple[str, str]] = Counter()
    reasons: dict[tuple[str, str], Counter[str]] = {}
    for event in record.events:
        if event.get("event") != "candidate":
            continue
        key = (str(event.get("engine") or ""), str(event.get("template") or ""))
        tried[key] += 1
        if event.get("accepted"):
            screened[key] += 1
        else:
            reasons.setdefault(key, Counter())[reason_key(str(event.get("reason") or ""))] += 1
    kept: Counter[tuple[str, str]] = Counter()
    rolled: Counter[tuple[str, str]] = Counter()
    for attempt in attempts:
        key = (attempt.engine, attempt.template)
        (kept if attempt.kept else rolled)[key] += 1
        tried.setdefault(key, 0)
    rows = [
        TemplateRow(
            engine=engine,
            template=template,
            tried=tried[(engine, template)],
            screened=screened[(engine, template)],
            kept=kept[(engine, template)],
            rolled_back=rolled[(engine, template)],
            rejected=sum(reasons.get((engine, template), Counter()).values()),
            reasons=tuple(reasons.get((engine, template), Counter()).most_common(3)),
        )
        for engine, template in tried
    ]
    return sorted(rows, key=lambda r: (-r.kept, -r.screened, -r.tried, r.engine, r.template))


@dataclass(frozen=True)
class CandidateLine:
    round: int
    id: str
    engine: str
    template: str
    description: str
    accepted: bool
    stage: str
    reason: str


def candidate_lines(record: RunRecord) -> tuple[list[CandidateLine], int]:
    """Every traced candidate (up to a limit) and how many more there were."""
    lines: list[CandidateLine] = []
    number = 0
    total = 0
    for event in record.events:
        if event.get("event") == "analysis":
            number = int(event.get("round") or number + 1)
        if event.get("event") != "candidate":
            continue
        total += 1
        if len(lines) >= MAX_LISTED_CANDIDATES:
            continue
        lines.append(
            CandidateLine(
                round=number,
                id=str(event.get("id") or ""),
                engine=str(event.get("engine") or ""),
                template=str(event.get("template") or ""),
                description=str(event.get("description") or ""),
                accepted=bool(event.get("accepted")),
                stage=str(event.get("stage") or ""),
                reason=str(event.get("reason") or ""),
            )
        )
    return lines, total - len(lines)


# -- model usage, coverage, gates, root causes ---------------------------------------------------
@dataclass(frozen=True)
class ModelRow:
    model: str
    calls: int
    failed: int
    prompt_tokens: int
    completion_tokens: int
    seconds: float

    @property
    def mean_latency(self) -> float:
        return self.seconds / self.calls if self.calls else 0.0


def model_rows(events: Sequence[Mapping[str, Any]]) -> list[ModelRow]:
    totals: dict[str, list[float]] = {}
    for event in events:
        if event.get("event") != "llm_call":
            continue
        backend = str(event.get("backend") or "")
        model = str(event.get("model") or "?")
        name = f"{backend}:{model}" if backend else model
        row = totals.setdefault(name, [0, 0, 0, 0, 0.0])
        row[0] += 1
        row[1] += 1 if event.get("outcome") == "error" else 0
        row[2] += _float(event.get("prompt_tokens")) or 0
        row[3] += _float(event.get("completion_tokens")) or 0
        row[4] += _float(event.get("latency_s")) or 0.0
    return [
        ModelRow(name, int(r[0]), int(r[1]), int(r[2]), int(r[3]), round(r[4], 3))
        for name, r in sorted(totals.items())
    ]


def engine_usage(record: RunRecord) -> dict[str, dict[str, float]]:
    extra = record.result.get("extra")
    usage = extra.get("usage") if isinstance(extra, Mapping) else None
    if not isinstance(usage, Mapping):
        return {}
    return {
        str(engine): {str(k): float(v) for k, v in counters.items() if _float(v) is not None}
        for engine, counters in usage.items()
        if isinstance(counters, Mapping)
    }


@dataclass(frozen=True)
class Coverage:
    measured: bool
    summary: str
    missing: tuple[tuple[str, str], ...] = ()  # file, lines not run


def coverage_of(record: RunRecord) -> Coverage:
    extra = record.result.get("extra")
    data = extra.get("coverage") if isinstance(extra, Mapping) else None
    if isinstance(data, Mapping):
        covered = _float(data.get("covered"))
        total = _float(data.get("changed") if "changed" in data else data.get("total"))
        percent = _float(data.get("percent"))
        if percent is None and covered is not None and total:
            percent = 100.0 * covered / total
        parts = []
        if covered is not None and total is not None:
            parts.append(f"{covered:.0f} of {total:.0f} changed lines run by the tests")
        if percent is not None:
            parts.append(f"{percent:.0f}%")
        missing = data.get("missing") or data.get("uncovered")
        rows: tuple[tuple[str, str], ...] = ()
        if isinstance(missing, Mapping):
            rows = tuple(
                (str(f), ", ".join(str(n) for n in (v if isinstance(v, list | tuple) else [v])))
                for f, v in list(missing.items())[:50]
            )
        before, after = _float(data.get("total_before")), _float(data.get("total_after"))
        if before is not None and after is not None:
            parts.append(f"whole project {before:.0f}% before, {after:.0f}% after")
        return Coverage(True, "; ".join(parts) or "measured (no counts reported)", rows)
    if _float(data) is not None:
        return Coverage(True, f"{_float(data):.0f}% of the changed lines run by the tests")
    return Coverage(False, "not measured")


def gates_of(record: RunRecord) -> list[Gate] | None:
    """The gates from the result's extra ``gates``; None when the run recorded none."""
    extra = record.result.get("extra")
    data = extra.get("gates") if isinstance(extra, Mapping) else None
    if data is None:
        return None
    return _gates(data)


@dataclass(frozen=True)
class FailureNote:
    test: str
    failure_class: str
    error: str
    message: str


def failures_at_base(record: RunRecord) -> list[FailureNote]:
    for event in record.events:
        if event.get("event") == "analysis":
            items = event.get("failures") or []
            break
    else:
        items = record.result.get("failures") or []
    return [
        FailureNote(
            str(item.get("test") or ""),
            str(item.get("class") or ""),
            str(item.get("error") or ""),
            str(item.get("message") or ""),
        )
        for item in items
        if isinstance(item, Mapping)
    ]


# -- the whole view ----------------------------------------------------------------------------
@dataclass(frozen=True)
class RunView:
    record: RunRecord
    attempts: tuple[Attempt, ...]
    matrix: Matrix
    timeline: Timeline
    templates: tuple[TemplateRow, ...]
    candidates: tuple[CandidateLine, ...]
    candidates_not_listed: int
    models: tuple[ModelRow, ...]
    engine_usage: Mapping[str, Mapping[str, float]]
    coverage: Coverage
    gates: tuple[Gate, ...] | None
    failures: tuple[FailureNote, ...]

    @property
    def meta(self) -> Mapping[str, Any]:
        return self.record.meta

    @property
    def warnings(self) -> tuple[str, ...]:
        return _strings(self.record.result.get("warnings"))

    @property
    def remaining(self) -> tuple[str, ...]:
        return _strings(self.record.result.get("remaining_failures"))

    @property
    def fixed(self) -> tuple[str, ...]:
        return _strings(self.record.result.get("fixed_tests"))


def build_view(record: RunRecord, top: Path | None = None, *, diffs: bool = True) -> RunView:
    """Everything a report shows about ``record``; diffs are read from the repository at
    ``top`` (the round commits and the rolled-back ones, which the run's ref keeps)."""

    def diff(commit: str) -> str | None:
        return diff_of(top, commit) if top is not None else None

    attempts = attempts_of(record, diff if diffs else None)
    lines, more = candidate_lines(record)
    gates = gates_of(record)
    return RunView(
        record=record,
        attempts=tuple(attempts),
        matrix=test_matrix(record, attempts),
        timeline=timeline(record, attempts),
        templates=tuple(candidate_rows(record, attempts)),
        candidates=tuple(lines),
        candidates_not_listed=more,
        models=tuple(model_rows(record.events)),
        engine_usage=engine_usage(record),
        coverage=coverage_of(record),
        gates=tuple(gates) if gates is not None else None,
        failures=tuple(failures_at_base(record)),
    )


def view_to_json(view: RunView) -> dict[str, Any]:
    """The view as plain JSON data (`mendbot show --json`)."""
    rejected: dict[str, dict[str, Any]] = {}
    for row in view.templates:
        if row.rejected:
            rejected[f"{row.engine}/{row.template}"] = {
                "rejected": row.rejected,
                "reasons": dict(row.reasons),
            }
    return {
        "run": dict(view.meta),
        "stored_as": view.record.commit or None,
        "failures_at_base": [asdict(f) for f in view.failures],
        "rounds": [
            {
                "attempt": a.number,
                "round": a.round,
                "verdict": a.verdict,
                "commit": a.commit or None,
                "rejected_ref": a.rejected_ref or None,
                "engine": a.engine,
                "template": a.template,
                "description": a.description,
                "reason": a.reason,
                "root_cause": a.root_cause,
                "files": list(a.files),
                "fixed": list(a.fixed),
                "broken": list(a.broken),
                "flipped": [asdict(f) for f in a.flips],
                "diff": a.diff,
            }
            for a in view.attempts
        ],
        "rejected_candidates": rejected,
        "templates": [asdict(row) for row in view.templates],
        "tests": {
            "columns": list(view.matrix.columns),
            "rows": {
                test: dict(zip(view.matrix.columns, cells, strict=True))
                for test, cells in view.matrix.rows
            },
            "passing_everywhere_not_listed": view.matrix.hidden,
        },
        "timeline": [asdict(span) for span in view.timeline.spans],
        "models": [asdict(row) for row in view.models],
        "engine_usage": {k: dict(v) for k, v in view.engine_usage.items()},
        "coverage": asdict(view.coverage),
        "gates": [asdict(g) for g in view.gates] if view.gates is not None else None,
        "fixed_tests": list(view.fixed),
        "remaining_failures": list(view.remaining),
        "warnings": list(view.warnings),
    }
