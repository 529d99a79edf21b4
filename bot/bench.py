"""`mendbot bench`: repair every bug of a corpus in a temporary git repository and measure.

A corpus is a folder of bug folders. Each holds a small project with pytest tests, a
``bug.toml`` (description, failure_class, expect = "fixed" | "not_fixed", tags) and a
``reference/`` folder with the corrected files. The runner copies the project (without
bug.toml and reference/) into a fresh repository, runs the real pipeline on it, and reports
fixed/total, per-class results, time-to-fix and candidates, and how many accepted patches are
correct: identical to the reference fix (same AST) or equivalent to it (no difference between
the two on the calls the tests make and on variations of them, see ``equivalence``). With
``screening`` on, it also
screens the same candidates of every bug through the fast and the naive path side by side and
reports candidates per second of each, their ratio, and any verdict on which they disagree.
"""

from __future__ import annotations

import ast
import shutil
import statistics
import tempfile
import time
import tomllib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bot.bench_standin import STANDIN_MODEL, ReferenceFix, StandIn
from bot.config import Settings
from bot.engines.base import FeedbackLog, RepairContext
from bot.engines.templates import TemplateEngine
from bot.errors import ConfigError, MendbotError
from bot.models import Analysis, RunResult, RunStatus, Trigger, TriggerKind
from bot.pipeline import Ports, Selection, read_sources, repair
from bot.sandbox.base import Sandbox
from bot.trace import Trace
from bot.workspace import run_git, tree_id

SKIP = {"bug.toml", "reference", "__pycache__", ".pytest_cache"}


@dataclass(frozen=True)
class Bug:
    name: str
    path: Path
    failure_class: str
    expect: str
    tags: tuple[str, ...]
    description: str


@dataclass
class BugOutcome:
    bug: Bug
    status: str
    seconds: float
    candidates: int
    rounds: int
    template: str
    reason: str
    correct: str  # "identical" | "equivalent" | "differs" | "" (not fixed)
    screened: int = 0
    screen_seconds: float = 0.0
    correct_note: str = ""  # how a patch differs from the reference, or how it was compared
    budget: float = 0.0  # the run's --time-budget
    false_claim: bool = False  # "fixed", but plain pytest fails on a fresh checkout of the branch
    partial_offered: bool = False  # not fixed, yet rounds were offered on a branch


@dataclass
class ScreeningComparison:
    bug: str
    candidates: int
    fast_seconds: float  # screening only: the worker started beside the baseline, as in a repair
    naive_seconds: float
    disagreements: list[str] = field(default_factory=list)
    startup_seconds: float = 0.0  # the worker's start-up (and collection), in full


def load_corpus(root: Path, only: Sequence[str] = ()) -> list[Bug]:
    if not root.is_dir():
        raise ConfigError(
            f"no corpus at {root}",
            hint="run from a mendbot checkout (benchmarks/corpus) or pass --corpus DIR",
        )
    bugs: list[Bug] = []
    for folder in sorted(p for p in root.iterdir() if p.is_dir()):
        meta_path = folder / "bug.toml"
        if not meta_path.is_file() or (only and folder.name not in only):
            continue
        try:
            meta = tomllib.loads(meta_path.read_text())
        except tomllib.TOMLDecodeError as error:
            raise ConfigError(f"{meta_path} is not valid TOML: {error}") from None
        bugs.append(
            Bug(
                name=folder.name,
                path=folder,
                failure_class=str(meta.get("failure_class", "LOGIC")),
                expect=str(meta.get("expect", "fixed")),
                tags=tuple(meta.get("tags", ())),
                description=str(meta.get("description", "")),
            )
        )
    if not bugs:
        raise ConfigError(f"no bugs found in {root}", hint="each bug folder needs a bug.toml")
    return bugs


def materialize(bug: Bug, into: Path) -> Path:
    """Copy a bug's project into a fresh git repository and return its path."""
    project = into / bug.name
    shutil.copytree(bug.path, project, ignore=lambda _d, names: [n for n in names if n in SKIP])
    run_git(["init", "-q", "-b", "main"], project)
    run_git(["add", "-A"], project)
    run_git(["commit", "-q", "--no-verify", "-m", f"{bug.name}: initial"], project)
    return project


def _normalized(source: str) -> str | None:
    try:
        return ast.dump(ast.parse(source))
    except SyntaxError:
        return None


def _changed_files(bug: Bug, project: Path, branch: str) -> list[str]:
    reference = bug.path / "reference"
    found = {p.relative_to(reference).as_posix() for p in reference.rglob("*.py")}
    names = run_git(["diff", "--name-only", f"HEAD..{branch}"], project).split()
    found.update(name for name in names if name.endswith(".py"))
    return sorted(found)


def _texts(bug: Bug, project: Path, branch: str, path: str) -> tuple[str, str]:
    """(the reference's text, the patch's text) of one file."""
    reference = bug.path / "reference" / path
    original = bug.path / path
    expected = (
        reference.read_text()
        if reference.is_file()
        else original.read_text()
        if original.is_file()
        else ""
    )
    try:
        ours = run_git(["show", f"{branch}:{path}"], project)
    except MendbotError:
        ours = ""
    return expected, ours


def compare_to_reference(bug: Bug, project: Path, branch: str) -> str:
    """``identical`` when every file the reference or the patch changes has the reference's AST
    on the branch."""
    reference = bug.path / "reference"
    if not branch or not reference.is_dir():
        return ""
    for path in _changed_files(bug, project, branch):
        expected, ours = _texts(bug, project, branch, path)
        if _normalized(ours) != _normalized(expected):
            return "differs"
    return "identical"


def equivalence(
    bug: Bug, project: Path, branch: str, make_sandbox: Callable[[], Sandbox]
) -> tuple[str, str]:
    """("equivalent" | "differs", note): the patch against the reference on generated inputs.

    The tests run on the patched tree with the behaviour probe, which records every call of
    the functions that differ from the reference, then calls the reference's and the patch's
    version of each on the recorded arguments and on variations of them (every path, not
    only the ones the original takes: here any difference counts). Equivalent means no
    difference anywhere, and at least one call compared for every differing function.
    """
    from bot.analysis.source import function_spans
    from bot.gates.behaviour import Prober, Target
    from bot.gates.overfit import changed_functions

    targets: list[Target] = []
    patched: dict[str, str] = {}
    for path in _changed_files(bug, project, branch):
        expected, ours = _texts(bug, project, branch, path)
        patched[path] = ours
        if _normalized(expected) == _normalized(ours):
            continue
        names = [name for name, _, _ in changed_functions(expected, ours)]
        if "" in names:  # module-level code differs: every function of the file may differ
            names = [name for _, _, name in function_spans(ours)]
        for name in names:
            if name and "<locals>" not in name:
                targets.append(Target(f"{path}::{name}", path, name, expected, {"patch": ours}))
    if not targets:
        return "differs", "the difference is not inside a function the tests can call"
    with tempfile.TemporaryDirectory(prefix="mendbot-equivalence-") as tmp:
        tree = Path(tmp) / "tree"
        shutil.copytree(bug.path, tree, ignore=lambda _d, names: [n for n in names if n in SKIP])
        for path, text in patched.items():
            (tree / path).parent.mkdir(parents=True, exist_ok=True)
            (tree / path).write_text(text)
        _, tests = read_sources(tree)
        prober = Prober(make_sandbox(), tree, tree, Path(tmp) / "probe", autoload=False)
        found = prober.probe(
            targets,
            sorted(p for p in tests if p.rsplit("/", 1)[-1].startswith("test")),
            same_path=False,
            budget=2.0,
            max_calls=16,
            variations=12,
        )
    if isinstance(found, str):
        return "differs", f"not compared: {found}"
    for target in targets:
        result = found.get(target.key)
        if result is None or result.error:
            return "differs", f"{target.qualname}: not compared ({result.error if result else ''})"
        if not result.recorded:
            return "differs", f"{target.qualname}: no test calls it, nothing to compare"
        difference = result.differences.get("patch")
        if difference is None or difference.recorded or difference.variations:
            return "differs", result.examples.get("patch", f"{target.qualname} differs")
    compared = sum(
        found[t.key].recorded + found[t.key].variations for t in targets if t.key in found
    )
    return "equivalent", f"no difference on {compared} inputs"


def bench_settings(base: Settings) -> Settings:
    return base.replace(
        engine="templates",
        plugin_autoload=False,
        trace=False,
        test_timeout=min(base.test_timeout, 5.0),
        time_budget=min(base.time_budget, 60.0),
        learned_priors=False,  # every bug is measured alone, never by what earlier ones taught
    )


def run_bug(bug: Bug, settings: Settings, make_sandbox: Callable[[], Sandbox]) -> BugOutcome:
    with tempfile.TemporaryDirectory(prefix="mendbot-bench-") as tmp:
        project = materialize(bug, Path(tmp))
        ports = Ports(sandbox=make_sandbox(), engines=[TemplateEngine()], trace=Trace(None))
        started = time.monotonic()
        try:
            result: RunResult | None = repair(
                Trigger(kind=TriggerKind.BENCH, repo_path=project, label=bug.name), settings, ports
            )
            error = ""
        except MendbotError as failure:
            result, error = None, str(failure)
        seconds = time.monotonic() - started
        if result is None:
            return BugOutcome(
                bug, "error", seconds, 0, 0, "", error, "", budget=settings.time_budget
            )
        kept = [r for r in result.rounds if r.commit]
        screening: dict[str, Any] = dict(result.extra.get("screening", {}))  # type: ignore[call-overload]
        correct, note = "", ""
        false_claim, partial_offered = audit_claims(result, project)
        if result.status is RunStatus.FIXED:
            correct = compare_to_reference(bug, project, result.branch)
            if correct == "differs":
                correct, note = equivalence(bug, project, result.branch, make_sandbox)
        return BugOutcome(
            bug=bug,
            status=result.status.value,
            seconds=seconds,
            candidates=result.candidates_tried,
            rounds=len(kept),
            template="+".join(r.template for r in kept),
            reason=result.reason,
            correct=correct,
            screened=int(screening.get("screened", 0)),
            screen_seconds=float(screening.get("seconds", 0.0)),
            correct_note=note,
            budget=settings.time_budget,
            false_claim=false_claim,
            partial_offered=partial_offered,
        )


def audit_claims(result: RunResult, project: Path) -> tuple[bool, bool]:
    """(a false claim, a partial merge offered) for one run, checked from outside mendbot:
    a "fixed" run's branch, checked out fresh, must pass a plain ``python -m pytest`` of the
    whole suite; a run that is not fixed must offer no round on a branch."""
    import os
    import sys

    from bot import proc
    from bot.workspace import export_tree

    offered = result.status is not RunStatus.FIXED and any(
        r.commit and not r.partial for r in result.rounds
    )
    if result.status is not RunStatus.FIXED or not result.branch:
        return False, offered
    with tempfile.TemporaryDirectory(prefix="mendbot-claim-") as scratch:
        checkout = Path(scratch) / "checkout"
        export_tree(project, result.branch, checkout)
        plain = proc.run(
            [sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider"],
            cwd=checkout,
            env={**os.environ, "PYTHONDONTWRITEBYTECODE": "1"},
            timeout=300.0,
        )
    return plain.returncode != 0, offered


def _first_candidates(project: Path, baseline_run: Any, count: int) -> Iterator[Any]:
    from bot.analysis.classify import failures_of
    from bot.analysis.localize import localize

    code, tests = read_sources(project)
    failures = failures_of(baseline_run, {**code, **tests})
    analysis = Analysis(failures=failures, locations=localize(failures, baseline_run, code, tests))
    context = RepairContext(
        project_dir=project,
        sources=code,
        test_sources=tests,
        analysis=analysis,
        baseline=baseline_run,
        round_number=1,
        deadline=time.monotonic() + 60,
        feedback=FeedbackLog(),
    )
    engine = TemplateEngine(pairs=False)
    for index, candidate in enumerate(engine.propose(context)):
        if index >= count:
            return
        yield candidate
    del code


def compare_screening(
    bug: Bug, settings: Settings, make_sandbox: Callable[[], Sandbox], count: int
) -> ScreeningComparison | None:
    """Screen the first ``count`` candidates of a bug through both paths and compare."""
    with tempfile.TemporaryDirectory(prefix="mendbot-screen-") as tmp:
        project = materialize(bug, Path(tmp))
        return compare_screening_in(bug.name, project, settings, make_sandbox, count)


def compare_screening_in(
    name: str,
    project: Path,
    settings: Settings,
    make_sandbox: Callable[[], Sandbox],
    count: int,
    pytest_args: Sequence[str] = (),
) -> ScreeningComparison | None:
    """Screen the first ``count`` candidates for the failing tests of the repository
    ``project`` (its HEAD; ``pytest_args`` select the suite) through both paths."""
    from bot.models import Workspace
    from bot.testing.runner import TestRunner
    from bot.validate import Validator

    head = run_git(["rev-parse", "HEAD"], project).strip()
    workspace = Workspace(
        repo_root=project,
        worktree=project,
        project_dir=project,
        project_subdir="",
        base_commit=head,
        head_commit=head,
        branch="main",
        run_id="bench",
    )
    runner = TestRunner(
        make_sandbox(), project, project, tuple(pytest_args), autoload=settings.plugin_autoload
    )
    try:
        # as in a repair, the worker starts (and collects) beside the baseline run; what
        # of its start-up the baseline did not hide is measured and reported apart
        warmed_at = time.time()
        worker = runner.warm(tree_id(workspace))
        baseline = runner.run(timeout=600, per_test_timeout=settings.test_timeout, coverage=True)
        targets = list(baseline.failing)
        if not targets or baseline.collection_errors:
            return None  # FORMAT bugs are screened by the naive path only
        candidates = list(_first_candidates(project, baseline, count))
        if not candidates:
            return None
        code, _ = read_sources(project)
        selection = Selection.of(baseline, targets, code)
        startup = 0.0
        if worker is not None and worker.wait_ready(60.0):
            startup = (worker.folder / "ready").stat().st_mtime - warmed_at
        timings: dict[str, float] = {}
        verdicts: dict[str, list[Any]] = {}
        for mode in ("fast", "naive"):
            validator = Validator(runner, workspace, mode, settings.workers, settings.test_timeout)
            started = time.monotonic()
            verdicts[mode] = validator.screen(candidates, selection, baseline, stop_at_first=False)
            timings[mode] = time.monotonic() - started
        disagreements = [
            f"{name}:{c.id} ({c.description}): fast={f.accepted if f else None} "
            f"naive={n.accepted if n else None}"
            for c, f, n in zip(candidates, verdicts["fast"], verdicts["naive"], strict=True)
            if (f.accepted if f else None) != (n.accepted if n else None)
        ]
        return ScreeningComparison(
            name, len(candidates), timings["fast"], timings["naive"], disagreements, startup
        )
    finally:
        runner.close()


def percentile(values: Sequence[float], fraction: float) -> float:
    if not values:
        return 0.0
    ordered = sorted(values)
    position = min(len(ordered) - 1, max(0, round(fraction * (len(ordered) - 1))))
    return ordered[position]


def summarize(
    outcomes: Sequence[BugOutcome], comparisons: Sequence[ScreeningComparison]
) -> dict[str, Any]:
    fixed = [o for o in outcomes if o.status in (RunStatus.FIXED.value,)]
    per_class: dict[str, dict[str, int]] = {}
    for outcome in outcomes:
        entry = per_class.setdefault(outcome.bug.failure_class, {"fixed": 0, "total": 0})
        entry["total"] += 1
        entry["fixed"] += outcome.status == RunStatus.FIXED.value
    expected_unfixable = [o for o in outcomes if o.bug.expect == "not_fixed"]
    times = [o.seconds for o in fixed]
    summary: dict[str, Any] = {
        "fixed": len(fixed),
        "total": len(outcomes),
        "fix_rate": round(len(fixed) / len(outcomes), 3) if outcomes else 0.0,
        "per_class": per_class,
        "median_time_to_fix_s": round(statistics.median(times), 3) if times else None,
        "p90_time_to_fix_s": round(percentile(times, 0.9), 3) if times else None,
        "median_candidates": statistics.median([o.candidates for o in outcomes]) if outcomes else 0,
        "identical_to_reference": sum(1 for o in fixed if o.correct == "identical"),
        "equivalent_to_reference": sum(1 for o in fixed if o.correct == "equivalent"),
        "correct": sum(1 for o in fixed if o.correct in ("identical", "equivalent")),
        "correct_rate": round(
            sum(1 for o in fixed if o.correct in ("identical", "equivalent")) / len(fixed), 3
        )
        if fixed
        else None,
        "unfixable_stopped_cleanly": sum(
            1 for o in expected_unfixable if o.status == RunStatus.NOT_FIXED.value and o.reason
        ),
        "unfixable_total": len(expected_unfixable),
        # wall-clock time past --time-budget, for the worst run (0 when every run kept to it)
        "largest_budget_overrun_s": round(
            max([0.0, *(o.seconds - o.budget for o in outcomes if o.budget)]), 3
        ),
        # claims checked from outside: both must be 0
        "false_claims": sum(1 for o in outcomes if o.false_claim),
        "partial_merges_offered": sum(1 for o in outcomes if o.partial_offered),
        # accepted patches that differ from the reference on some input
        "overfitting_rate": round(sum(1 for o in fixed if o.correct == "differs") / len(fixed), 3)
        if fixed
        else None,
    }
    screened = sum(o.screened for o in outcomes)
    screen_seconds = sum(o.screen_seconds for o in outcomes)
    summary["pipeline_candidates_screened_per_s"] = (
        round(screened / screen_seconds, 1) if screen_seconds else None
    )
    if comparisons:
        count = sum(c.candidates for c in comparisons)
        fast = sum(c.fast_seconds for c in comparisons)
        naive = sum(c.naive_seconds for c in comparisons)
        started = fast + sum(c.startup_seconds for c in comparisons)
        summary["screening"] = {
            "bugs": len(comparisons),
            "candidates": count,
            "fast_per_s": round(count / fast, 1) if fast else None,
            "naive_per_s": round(count / naive, 2) if naive else None,
            "speedup": round(naive / fast, 1) if fast else None,
            # the worker's start-up counted too, as if nothing had hidden it
            "speedup_with_startup": round(naive / started, 1) if started else None,
            "startup_s": round(started - fast, 2),
            "median_speedup": round(
                statistics.median(
                    c.naive_seconds / c.fast_seconds for c in comparisons if c.fast_seconds
                ),
                1,
            ),
            "disagreements": [d for c in comparisons for d in c.disagreements],
            "per_bug": [
                {
                    "bug": c.bug,
                    "candidates": c.candidates,
                    "fast_s": round(c.fast_seconds, 3),
                    "naive_s": round(c.naive_seconds, 3),
                    "worker_startup_s": round(c.startup_seconds, 3),
                }
                for c in comparisons
            ],
        }
    return summary


def outcome_to_json(outcome: BugOutcome) -> dict[str, Any]:
    return {
        "bug": outcome.bug.name,
        "class": outcome.bug.failure_class,
        "expect": outcome.bug.expect,
        "status": outcome.status,
        "seconds": round(outcome.seconds, 3),
        "candidates": outcome.candidates,
        "rounds": outcome.rounds,
        "template": outcome.template,
        "reference": outcome.correct,
        "reference_note": outcome.correct_note,
        "reason": outcome.reason,
        "budget_s": outcome.budget,
        "false_claim": outcome.false_claim,
        "partial_offered": outcome.partial_offered,
    }


# -- the LLM path against the stand-in model ------------------------------------------------


@dataclass(frozen=True)
class LLMBugOutcome:
    """One bug repaired by the LLM engine talking to the stand-in model (``bench_standin``)."""

    bug: str
    status: str
    landed: bool  # the run ended fixed
    shown_first: str  # "all" | "some" | "none" | "" (no prompt): what the first prompt showed
    shown_best: str  # the most any prompt of the run showed
    prompts: int
    prompt_tokens: tuple[int, ...]  # estimated tokens of each prompt
    seconds: float
    reason: str


_SHOWN_ORDER = ("", "none", "some", "all")


def run_bug_llm(
    bug: Bug,
    settings: Settings,
    make_sandbox: Callable[[], Sandbox],
    standin: StandIn,
    base_url: str,
) -> LLMBugOutcome:
    """Repair ``bug`` with the LLM engine only, the stand-in answering from its reference fix."""
    from bot.engines.llm import LLMEngine
    from bot.llm.openai_compat import OpenAICompatBackend

    standin.use(ReferenceFix.from_bug(bug.path))
    backend = OpenAICompatBackend(
        STANDIN_MODEL, base_url=base_url, api_key="stand-in", timeout=30.0, context_window=32768
    )
    backend.check()
    llm_settings = settings.replace(engine="llm")
    with tempfile.TemporaryDirectory(prefix="mendbot-bench-llm-") as tmp:
        project = materialize(bug, Path(tmp))
        engine = LLMEngine(backend, llm_settings, Trace(None))
        ports = Ports(sandbox=make_sandbox(), engines=[engine], trace=Trace(None))
        started = time.monotonic()
        try:
            result: RunResult | None = repair(
                Trigger(kind=TriggerKind.BENCH, repo_path=project, label=bug.name),
                llm_settings,
                ports,
            )
            error = ""
        except MendbotError as failure:
            result, error = None, str(failure)
        seconds = time.monotonic() - started
    exchanges = list(standin.exchanges)
    shown = [e.shown for e in exchanges]
    return LLMBugOutcome(
        bug=bug.name,
        status=result.status.value if result else "error",
        landed=result is not None and result.status is RunStatus.FIXED,
        shown_first=shown[0] if shown else "",
        shown_best=max(shown, key=_SHOWN_ORDER.index) if shown else "",
        prompts=len(exchanges),
        prompt_tokens=tuple(e.prompt_tokens for e in exchanges),
        seconds=seconds,
        reason=result.reason if result else error,
    )


def summarize_llm(outcomes: Sequence[LLMBugOutcome]) -> dict[str, Any]:
    tokens = [t for o in outcomes for t in o.prompt_tokens]
    counts = {
        shown: sum(1 for o in outcomes if o.shown_first == shown)
        for shown in ("all", "some", "none")
    }
    return {
        "bugs": len(outcomes),
        "landed": sum(o.landed for o in outcomes),
        "first_prompt_showed": counts,
        "first_prompt_showed_landed": {
            shown: sum(1 for o in outcomes if o.shown_first == shown and o.landed)
            for shown in ("all", "some", "none")
        },
        "some_prompt_showed_all": sum(1 for o in outcomes if o.shown_best == "all"),
        "no_prompt": sum(1 for o in outcomes if not o.prompts),
        "prompts": len(tokens),
        "median_prompt_tokens": statistics.median(tokens) if tokens else None,
        "max_prompt_tokens": max(tokens) if tokens else None,
        "median_first_prompt_tokens": statistics.median(
            [o.prompt_tokens[0] for o in outcomes if o.prompt_tokens]
        )
        if tokens
        else None,
    }


def llm_outcome_to_json(outcome: LLMBugOutcome) -> dict[str, Any]:
    return {
        "bug": outcome.bug,
        "status": outcome.status,
        "landed": outcome.landed,
        "shown_first": outcome.shown_first,
        "shown_best": outcome.shown_best,
        "prompts": outcome.prompts,
        "prompt_tokens": list(outcome.prompt_tokens),
        "seconds": round(outcome.seconds, 3),
        "reason": outcome.reason,
    }
