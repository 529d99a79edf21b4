"""The `mendbot bench` command."""

from __future__ import annotations

import json
import sys
from collections.abc import Callable
from pathlib import Path

import click
from rich.console import Console
from rich.markup import escape
from rich.table import Table

import bot
from bot.bench import (
    Bug,
    BugOutcome,
    LLMBugOutcome,
    ScreeningComparison,
    bench_settings,
    compare_screening,
    llm_outcome_to_json,
    load_corpus,
    outcome_to_json,
    run_bug,
    run_bug_llm,
    summarize,
    summarize_llm,
)
from bot.bench_standin import StandIn, StandInServer
from bot.config import Settings, load_settings
from bot.sandbox.base import Sandbox


def _default_corpus() -> Path:
    here = Path("benchmarks/corpus")
    if here.is_dir():
        return here
    return Path(bot.__file__).resolve().parent.parent / "benchmarks" / "corpus"


@click.command()
@click.option(
    "--corpus",
    type=click.Path(path_type=Path),
    default=None,
    help="folder of bug folders (default: benchmarks/corpus)",
)
@click.option("--only", multiple=True, help="run only these bugs (repeatable)")
@click.option(
    "--validation",
    type=click.Choice(["fast", "naive"]),
    default="fast",
    help="screening path used by the repairs",
)
@click.option(
    "--compare/--no-compare",
    default=None,
    help="also screen the same candidates through the fast and the naive path side by side "
    "(default: on for the corpus, off for --suite real)",
)
@click.option(
    "--compare-count",
    type=click.IntRange(min=1),
    default=48,
    show_default=True,
    help="candidates per bug in the side-by-side screening comparison (48: the first batch "
    "a repair screens)",
)
@click.option("--sandbox", type=click.Choice(["local", "docker", "auto"]), default="local")
@click.option(
    "--engine",
    type=click.Choice(["templates", "llm"]),
    default="templates",
    show_default=True,
    help="templates: the embedded engine; llm: the LLM engine against a stand-in model that "
    "knows each bug's reference fix but edits only code the prompt shows",
)
@click.option("--json", "as_json", is_flag=True, help="print one JSON object on stdout")
@click.option(
    "--suite",
    type=click.Choice(["corpus", "real"]),
    default="corpus",
    show_default=True,
    help="corpus: the bundled bug corpus; real: bugs injected into real libraries from PyPI "
    "(downloads them; see benchmarks/real/libraries.toml)",
)
@click.option(
    "--library",
    "libraries",
    multiple=True,
    help="with --suite real: only these libraries (repeatable)",
)
@click.option(
    "--bugs-per-library",
    type=click.IntRange(min=1),
    default=4,
    show_default=True,
    help="with --suite real: injected bugs repaired per library",
)
@click.option(
    "--seed", type=int, default=1, show_default=True, help="with --suite real: mutant choice"
)
@click.option(
    "--plain-runs",
    type=click.IntRange(min=1),
    default=3,
    show_default=True,
    help="with --suite real: plain suite runs timed per library (the median counts)",
)
@click.option(
    "--time-budget",
    type=click.FloatRange(min=1),
    default=None,
    help="with --suite real: seconds per repair (default 10x the plain suite + 120)",
)
@click.option(
    "--cache",
    type=click.Path(path_type=Path),
    default=None,
    help="with --suite real: where sdists, repositories and virtualenvs are kept "
    "(default ~/.cache/mendbot/real)",
)
def bench(
    corpus: Path | None,
    only: tuple[str, ...],
    validation: str,
    compare: bool | None,
    compare_count: int,
    sandbox: str,
    engine: str,
    as_json: bool,
    suite: str,
    libraries: tuple[str, ...],
    bugs_per_library: int,
    seed: int,
    plain_runs: int,
    time_budget: float | None,
    cache: Path | None,
) -> None:
    """Repair every bug of the corpus in a temporary repository and report the numbers.

    With --suite real, inject bugs into real libraries' sources and repair each against the
    library's whole test suite."""
    from bot.sandbox.registry import make_sandbox

    if suite == "real":
        from bot.commands.bench_real import bench_real

        bench_real(
            libraries,
            bugs_per_library=bugs_per_library,
            seed=seed,
            plain_runs=plain_runs,
            time_budget=time_budget,
            cache=cache,
            validation=validation,
            as_json=as_json,
            compare_count=compare_count if compare else 0,
        )
        return

    bugs = load_corpus(corpus or _default_corpus(), only)
    settings = bench_settings(
        load_settings(Path("."), {"validation": validation, "sandbox": sandbox})
    )

    def sandbox_factory() -> Sandbox:
        return make_sandbox(settings)

    err = Console(stderr=True, highlight=False)
    if engine == "llm":
        bench_llm(bugs, settings, sandbox_factory, err, as_json)
        return
    outcomes: list[BugOutcome] = []
    for position, bug in enumerate(bugs, 1):
        outcome = run_bug(bug, settings, sandbox_factory)
        outcomes.append(outcome)
        err.print(
            f"[dim]bench {position}/{len(bugs)} {bug.name}: {outcome.status} "
            f"in {outcome.seconds:.2f}s ({outcome.candidates} candidates)[/dim]"
        )
    comparisons: list[ScreeningComparison] = []
    if compare is not False:
        for bug in bugs:
            err.print(f"[dim]screening comparison: {escape(bug.name)}[/dim]")
            found = compare_screening(bug, settings, sandbox_factory, compare_count)
            if found is not None:
                comparisons.append(found)
    summary = summarize(outcomes, comparisons)
    if as_json:
        click.echo(
            json.dumps(
                {"summary": summary, "bugs": [outcome_to_json(o) for o in outcomes]}, indent=2
            )
        )
        return
    print_report(outcomes, summary)


def print_report(outcomes: list[BugOutcome], summary: dict[str, object]) -> None:
    out = Console(file=sys.stdout, highlight=False, width=140)
    table = Table(title="mendbot bench")
    for column in ("bug", "class", "expect", "status", "time s", "cands", "template", "reference"):
        table.add_column(column)
    for o in outcomes:
        table.add_row(
            o.bug.name,
            o.bug.failure_class,
            o.bug.expect,
            o.status,
            f"{o.seconds:.2f}",
            str(o.candidates),
            o.template or "-",
            o.correct or "-",
        )
    out.print(table)
    out.print(f"fixed: {summary['fixed']}/{summary['total']} ({summary['fix_rate']:.0%})")
    per_class = summary["per_class"]
    assert isinstance(per_class, dict)
    out.print(
        "per class: "
        + ", ".join(f"{k} {v['fixed']}/{v['total']}" for k, v in sorted(per_class.items()))
    )
    out.print(
        f"time to fix: median {summary['median_time_to_fix_s']}s, "
        f"p90 {summary['p90_time_to_fix_s']}s; "
        f"median candidates tried {summary['median_candidates']}"
    )
    out.print(f"largest overrun of the time budget: {summary['largest_budget_overrun_s']}s")
    out.print(
        "identical to the reference fix (AST): "
        f"{summary['identical_to_reference']}/{summary['fixed']}"
    )
    out.print(
        "no difference from the reference on generated inputs: "
        f"{summary['equivalent_to_reference']}/{summary['fixed']}"
    )
    out.print(
        f"correct (identical or equivalent): {summary['correct']}/{summary['fixed']}"
        + (f" ({summary['correct_rate']:.0%})" if summary.get("correct_rate") is not None else "")
    )
    if summary.get("overfitting_rate") is not None:
        out.print(
            f"overfitting rate (differs from the reference): {summary['overfitting_rate']:.0%}"
        )
    out.print(
        "claims checked from outside: false claims (fixed, but plain pytest fails on the "
        f"branch) {summary['false_claims']}, partial merges offered "
        f"{summary['partial_merges_offered']}"
    )
    out.print(
        f"unfixable bugs that stopped cleanly with a reason: "
        f"{summary['unfixable_stopped_cleanly']}/{summary['unfixable_total']}"
    )
    out.print(
        f"screening inside repairs: {summary['pipeline_candidates_screened_per_s']} candidates/s"
    )
    screening = summary.get("screening")
    if isinstance(screening, dict):
        out.print(
            f"side by side on {screening['candidates']} candidates of {screening['bugs']} bugs: "
            f"fast {screening['fast_per_s']}/s, naive {screening['naive_per_s']}/s, "
            f"speedup {screening['speedup']}x (median per bug {screening['median_speedup']}x; "
            f"{screening['speedup_with_startup']}x counting the worker's start-up in full), "
            f"verdict disagreements: {len(screening['disagreements'])}"
        )
        for line in screening["disagreements"]:
            out.print(f"  disagreement: {line}", markup=False)


def bench_llm(
    bugs: list[Bug],
    settings: Settings,
    sandbox_factory: Callable[[], Sandbox],
    err: Console,
    as_json: bool,
) -> None:
    """Every bug through the LLM engine, the stand-in model answering on 127.0.0.1."""
    standin = StandIn()
    outcomes: list[LLMBugOutcome] = []
    with StandInServer(standin) as server:
        for position, bug in enumerate(bugs, 1):
            outcome = run_bug_llm(bug, settings, sandbox_factory, standin, server.base_url)
            outcomes.append(outcome)
            err.print(
                f"[dim]bench llm {position}/{len(bugs)} {bug.name}: {outcome.status}, first "
                f"prompt showed {outcome.shown_first or 'nothing (no prompt)'} of the fix "
                f"({outcome.prompts} prompts)[/dim]"
            )
    summary = summarize_llm(outcomes)
    if as_json:
        payload = {"summary": summary, "bugs": [llm_outcome_to_json(o) for o in outcomes]}
        click.echo(json.dumps(payload, indent=2))
        return
    out = Console(file=sys.stdout, highlight=False, width=140)
    table = Table(title="mendbot bench --engine llm (stand-in model)")
    for column in (
        "bug",
        "first prompt showed",
        "any prompt showed",
        "landed",
        "prompts",
        "tokens",
    ):
        table.add_column(column)
    for o in outcomes:
        table.add_row(
            o.bug,
            o.shown_first or "no prompt",
            o.shown_best or "no prompt",
            "yes" if o.landed else f"no: {o.reason[:60]}",
            str(o.prompts),
            ", ".join(str(t) for t in o.prompt_tokens[:4]) + (" ..." if o.prompts > 4 else ""),
        )
    out.print(table)
    shown = summary["first_prompt_showed"]
    landed = summary["first_prompt_showed_landed"]
    out.print(f"landed: {summary['landed']}/{summary['bugs']}")
    out.print(
        "first prompt showed the code the reference fix changes: "
        + ", ".join(f"{k} {shown[k]} (landed {landed[k]})" for k in ("all", "some", "none"))
        + f"; no prompt {summary['no_prompt']}"
    )
    out.print(
        f"prompt tokens (estimated): median {summary['median_prompt_tokens']}, "
        f"median first prompt {summary['median_first_prompt_tokens']}, "
        f"max {summary['max_prompt_tokens']} over {summary['prompts']} prompts"
    )
